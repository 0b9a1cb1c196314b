"""The Trainer's arguments, built one way for every recipe (bi-encoder and cross-encoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from inventory import device, distributed
from inventory.config import TrainConfig

Arguments = TypeVar("Arguments")


def training_arguments(
    arguments_class: type[Arguments], config: TrainConfig, output_dir: Path, **recipe: Any
) -> Arguments:
    """`arguments_class` (SentenceTransformerTrainingArguments, CrossEncoderTrainingArguments)
    from the run's flags and this device (inventory/device.py); `recipe` adds or overrides
    arguments of the recipe's own (e.g. batch_sampler). Raises LabError for a precision this
    device cannot run."""
    import torch

    hardware = device.settings(config)
    workers = hardware.dataloader_workers
    arguments: dict[str, Any] = {
        "output_dir": str(output_dir),  # the dev evaluator writes its CSV to output_dir/eval/
        "num_train_epochs": config.epochs,
        "per_device_train_batch_size": config.batch_size,  # times the number of processes
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "learning_rate": config.learning_rate,
        "warmup_steps": config.warmup,
        "seed": config.seed,
        **device.trainer_precision(hardware.train_precision),
        "dataloader_num_workers": workers,
        "dataloader_persistent_workers": workers > 0,  # not restarted at each dev evaluation
        "dataloader_pin_memory": torch.cuda.is_available(),  # pinning only helps a GPU
        "dataloader_drop_last": distributed.world_size() > 1,  # an uneven last batch hangs DDP
        # Without this, torchrun's processes on a CPU-only machine each train alone (no DDP).
        "use_cpu": not torch.accelerator.is_available(),
        "eval_strategy": "steps",
        "eval_steps": 0.25,  # fractions of the total number of steps: four dev evaluations
        "logging_steps": 0.05,
        "logging_first_step": True,
        "save_strategy": "no",  # only the final model is kept
        "report_to": config.report_to,  # "none" unless --report-to names a tracker
        "disable_tqdm": True,
    }
    return arguments_class(**(arguments | recipe))
