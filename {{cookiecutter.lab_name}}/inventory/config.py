"""One way to configure a run: an experiment gives its defaults, the command line overrides."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from inventory.device import PRECISIONS
from inventory.settings import BASE_MODEL

LAB_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class TrainConfig:
    """Fine-tuning hyperparameters; an experiment sets its own defaults."""

    # What `emb sweep` searches by default, one entry per flag (a recipe's options add theirs):
    # {"low", "high"} (integers stay integers; "log": true for a log scale) or {"choices"}.
    SEARCH_SPACE: ClassVar[dict[str, dict]] = {
        "learning_rate": {"low": 1e-5, "high": 2e-4, "log": True},
        "epochs": {"low": 1, "high": 3},
        "batch_size": {"choices": [16, 32, 64]},
    }

    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 5e-5
    warmup: float = 0.1  # a fraction (< 1) of the training steps, or a number of steps
    max_seq_length: int = 256
    seed: int = 42
    report_to: str = "none"  # a tracker the trainer supports (tensorboard, mlflow, wandb, ...)
    # Distributed: contrast each query with the batches of every process, not only its own.
    gather_across_devices: bool = False
    dev_queries: int = 30  # dev queries evaluated during training (a seeded sample)
    dev_corpus_sample: int = 500  # corpus documents added to dev's passages as distractors
    # Hardware (inventory/device.py says what `auto` and the unset defaults pick on each device)
    precision: str = "auto"  # training and encoding: auto, fp32, tf32, bf16 or fp16
    eval_precision: str | None = None  # encoding only, when it should differ from `precision`
    encode_batch_size: int | None = None  # texts per forward pass when encoding
    gradient_accumulation_steps: int = 1
    dataloader_workers: int | None = None  # tokenising training (processes), encoding (threads)


@dataclass(frozen=True)
class RunConfig:
    """Everything one experiment run needs to know."""

    name: str
    base_model: str
    data_dir: Path
    output_dir: Path  # each run gets its own folder in it (inventory/runs.py)
    train: TrainConfig
    verbose: bool = False
    options: Any = None  # a recipe's own settings (a dataclass), one flag per field


def option(default: Any, help: str) -> Any:
    """A field of a recipe's options: its default and the help of its flag (see parse_args)."""
    return field(default=default, metadata={"help": help})


def parse_args(
    script: str, defaults: TrainConfig, argv: list[str] | None = None, *, options: Any = None
) -> RunConfig:
    """Parse the shared experiment flags, plus one flag per field of `options` (a recipe's own
    settings, e.g. `mini_batch_size` becomes --mini-batch-size, its help from `option`); the run
    is named after its script file. Imports nothing heavy, so --help answers at once."""
    name = Path(script).stem
    parser = argparse.ArgumentParser(
        prog=Path(script).name,
        description=f"Run {name}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,  # every flag shows its default
    )
    _add_shared_flags(parser, defaults)
    for each in fields(options) if options is not None else ():
        _add_option(parser, each.name, getattr(options, each.name), each.metadata.get("help"))
    from inventory import trial  # `emb sweep` may ask for the flags and the search space

    trial.describe_if_asked(
        parser, {**defaults.SEARCH_SPACE, **getattr(options, "SEARCH_SPACE", {})}
    )
    args = parser.parse_args(argv)
    for flag in ("epochs", "batch_size", "max_seq_length", "gradient_accumulation_steps"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.encode_batch_size is not None and args.encode_batch_size < 1:
        parser.error("--encode-batch-size must be at least 1")
    if args.dataloader_workers is not None and args.dataloader_workers < 0:
        parser.error("--dataloader-workers must be at least 0")
    if problem := tracker_problem(args.report_to):
        parser.error(problem)
    train = replace(
        defaults,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        max_seq_length=args.max_seq_length,
        report_to=args.report_to,
        gather_across_devices=args.gather_across_devices,
        precision=args.precision,
        eval_precision=args.eval_precision,
        encode_batch_size=args.encode_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        dataloader_workers=args.dataloader_workers,
    )
    if options is not None:
        chosen = {f.name: getattr(args, f.name) for f in fields(options)}
        options = replace(
            options, **{k: tuple(v) if isinstance(v, list) else v for k, v in chosen.items()}
        )
    return RunConfig(
        name=name,
        base_model=args.base_model,
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        train=train,
        verbose=args.verbose,
        options=options,
    )


def _add_shared_flags(parser: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    name = parser.prog.removesuffix(".py")
    parser.add_argument(
        "--base-model",
        default=BASE_MODEL,
        help="the model to fine-tune: a hub id or a local folder",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=LAB_ROOT / "data",
        help="the folder of train.jsonl, dev.jsonl, gold.jsonl (and corpus.jsonl)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=LAB_ROOT / "results" / name,
        help="each run writes a folder of its own in it",
    )
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="passes over train")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        help="training examples per step (per process under torchrun)",
    )
    parser.add_argument(
        "--learning-rate", type=float, default=defaults.learning_rate, help="AdamW's peak rate"
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="for shuffling, sampling and new weights"
    )
    parser.add_argument(
        "--max-seq-length", type=int, default=defaults.max_seq_length, help="tokens per text"
    )
    parser.add_argument(
        "--report-to",
        default=defaults.report_to,
        help="a tracker the trainer supports (tensorboard, mlflow, wandb, ...) or none",
    )
    parser.add_argument(
        "--gather-across-devices",
        action=argparse.BooleanOptionalAction,
        default=defaults.gather_across_devices,
        help="under torchrun/accelerate: in-batch negatives from every process's batch",
    )
    _add_hardware_flags(parser, defaults)
    parser.add_argument("--verbose", action="store_true", help="show the libraries' own output")


def _add_hardware_flags(parser: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=defaults.precision,
        help="training and encoding precision; auto: the fastest faithful one on this device",
    )
    parser.add_argument(
        "--eval-precision",
        choices=PRECISIONS,
        default=defaults.eval_precision,
        help="encoding precision when it should differ from --precision",
    )
    parser.add_argument(
        "--encode-batch-size",
        type=int,
        default=defaults.encode_batch_size,
        help="texts per forward pass when encoding (default: 256 on a GPU, 64 on a CPU)",
    )
    parser.add_argument(
        "--gradient-accumulation-steps",
        type=int,
        default=defaults.gradient_accumulation_steps,
        help="batches added up before each optimiser step",
    )
    parser.add_argument(
        "--dataloader-workers",
        type=int,
        default=defaults.dataloader_workers,
        help="processes tokenising training batches, and threads tokenising encoding batches "
        "ahead of the model (default: 4 on a GPU, 0 on a CPU)",
    )


def _add_option(parser: argparse.ArgumentParser, name: str, default: Any, help: str | None) -> None:
    flag = "--" + name.replace("_", "-")
    if isinstance(default, bool):
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help)
    elif isinstance(default, (int, float, str, Path)):
        parser.add_argument(flag, type=type(default), default=default, help=help)
    else:  # a tuple of numbers, e.g. Matryoshka dimensions; empty: the experiment chooses
        parser.add_argument(flag, type=int, nargs="+", default=list(default), help=help)


def tracker_problem(name: str) -> str | None:
    """Why the trainer cannot report to `name` (unknown, or its package is missing), or None."""
    if name == "none":
        return None
    from transformers.integrations import get_available_reporting_integrations
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    if name not in INTEGRATION_TO_CALLBACK:
        known = ", ".join(["none", *INTEGRATION_TO_CALLBACK])
        return f"--report-to {name}: unknown tracker; one of {known}"
    if name not in get_available_reporting_integrations():
        return f"--report-to {name}: the {name} package is not installed"
    return None
