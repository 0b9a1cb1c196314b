"""One way to configure a run: an experiment gives its defaults, the command line overrides."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from inventory.settings import BASE_MODEL

LAB_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class TrainConfig:
    """Fine-tuning hyperparameters; an experiment sets its own defaults."""

    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 5e-5
    warmup: float = 0.1  # a fraction (< 1) of the training steps, or a number of steps
    max_seq_length: int = 256
    seed: int = 42
    dev_queries: int = 50  # dev queries evaluated during training (a seeded sample)
    dev_corpus_sample: int = 500  # corpus documents added to dev's passages as distractors


@dataclass(frozen=True)
class RunConfig:
    """Everything one experiment run needs to know."""

    name: str
    base_model: str
    data_dir: Path
    output_dir: Path
    overwrite: bool
    train: TrainConfig
    verbose: bool = False


def parse_args(script: str, defaults: TrainConfig, argv: list[str] | None = None) -> RunConfig:
    """Parse the shared experiment flags; the experiment is named after its script file."""
    name = Path(script).stem
    parser = argparse.ArgumentParser(prog=Path(script).name, description=f"Run {name}.")
    parser.add_argument("--base-model", default=BASE_MODEL, help="hub id or local folder")
    parser.add_argument("--data-dir", type=Path, default=LAB_ROOT / "data")
    parser.add_argument("--output-dir", type=Path, default=LAB_ROOT / "results" / name)
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier run's results")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--verbose", action="store_true", help="show the libraries' own output")
    args = parser.parse_args(argv)
    for flag in ("epochs", "batch_size"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    train = replace(
        defaults,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    return RunConfig(
        name=name,
        base_model=args.base_model,
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        overwrite=args.overwrite,
        train=train,
        verbose=args.verbose,
    )
