"""What this device runs fastest while staying faithful: precision, encode batch size, workers.

`--precision auto` and the other defaults are chosen here, from benchmarks/bench_precision.py
and benchmarks/gpu_check.py (figures in the lab's README):
- NVIDIA GPU from Ampere on: TF32 matmuls for training (200 MNRL steps on an H200: 21.6 s in
  fp32, 15.9 s in TF32; bf16 autocast no faster) and bf16 autocast for encoding, at batch 256
  (all-MiniLM-L6-v2 on an H200, 256-token documents: 2,839 documents/s against 1,797 in fp32 at
  batch 32; batch 1024 gave 3,025; cosine to fp32 >= 0.9999).
- CPU: fp32 training. bf16 encoding only where the CPU has bf16 instructions (avx512_bf16 or
  AMX): on such a CPU the issue measured 1.5-1.8x faster, every vector's cosine to fp32
  >= 0.9998 (the rule bench_precision.py checks: NFCorpus ndcg@10 within 0.002 of fp32);
  without them (emulated) it measured 2.5-3x slower here. Encode batch 64 (about 12% fewer CPU
  seconds than 32 or 128 on NFCorpus documents); no dataloader workers: on a CPU they only
  compete with the model for the same cores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inventory.errors import LabError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from inventory.config import TrainConfig

PRECISIONS = ("auto", "fp32", "tf32", "bf16", "fp16")
CPU_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}  # /proc/cpuinfo: bf16 done in hardware
ENCODE_BATCH = {"cuda": 256, "cpu": 64}
# Tokenisation off the model's way, so the GPU waits less: worker processes for training, threads
# ahead of encoding (inventory/encode_ahead.py). 4 is a starting point, not yet measured on a GPU:
# benchmarks/gpu_check.py prints encoding at 0, 2, 4 and 8 threads to choose it.
GPU_DATALOADER_WORKERS = 4


@dataclass(frozen=True)
class Encoding:
    """How texts are encoded: what changes the vectors (precision) and what does not (batch)."""

    precision: str = "fp32"
    batch_size: int = 32
    threads: int = 0  # tokenising batches ahead of the model (0: the library's encode)


FP32 = Encoding()  # what an encoding without settings uses: fp32, batch 32 (the library's)


@dataclass(frozen=True)
class Settings:
    """What a run uses on this device, once `auto` and the unset defaults are resolved."""

    device: str  # "cuda" or "cpu" (any other accelerator runs as "cpu" would: fp32)
    train_precision: str
    encoding: Encoding
    dataloader_workers: int

    def record(self) -> dict[str, Any]:
        """The manifest's note of what was used (config.train holds what was asked)."""
        return {
            "device": self.device,
            "precision": {"train": self.train_precision, "eval": self.encoding.precision},
            "encode_batch_size": self.encoding.batch_size,
            "dataloader_workers": self.dataloader_workers,
        }


def settings(config: TrainConfig) -> Settings:
    """Resolve the run's flags on this device; an unsupported choice is a one-line LabError."""
    device = device_kind()
    auto_train, auto_eval = auto_precision(device)
    train = auto_train if config.precision == "auto" else config.precision
    chosen = config.eval_precision or config.precision
    evaluation = auto_eval if chosen == "auto" else chosen
    for flag, value in (("--precision", train), ("--eval-precision", evaluation)):
        if problem := unsupported(value, device):
            raise LabError(f"{flag} {value}: {problem}")
    workers = config.dataloader_workers
    if workers is None:
        workers = GPU_DATALOADER_WORKERS if device == "cuda" else 0
    batch = config.encode_batch_size or ENCODE_BATCH[device]
    return Settings(device, train, Encoding(evaluation, batch, workers), workers)


def device_kind() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def auto_precision(device: str) -> tuple[str, str]:
    """(training, encoding) precision that `auto` picks on `device` (module docstring)."""
    if device == "cuda":
        import torch

        if torch.cuda.get_device_capability() >= (8, 0):  # Ampere: TF32 and bf16 in hardware
            return "tf32", "bf16"
        return "fp32", "fp32"
    return "fp32", "bf16" if cpu_has_bf16() else "fp32"


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU does bf16 arithmetic in hardware (else torch emulates it, slowly)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(CPU_BF16_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def unsupported(precision: str, device: str) -> str | None:
    """Why `precision` cannot run on `device`, or None."""
    if precision not in PRECISIONS or precision == "auto":
        return f"unknown precision; one of {', '.join(PRECISIONS)}"
    if device == "cpu" and precision in ("tf32", "fp16"):
        return f"{precision} needs an NVIDIA GPU; this run has none (use fp32, bf16 or auto)"
    if device == "cuda" and precision in ("tf32", "bf16"):
        import torch

        if torch.cuda.get_device_capability() < (8, 0):
            return f"{precision} needs an NVIDIA GPU from Ampere on (use fp32, fp16 or auto)"
    return None


def trainer_precision(precision: str) -> dict[str, Any]:
    """The Trainer's arguments for training in `precision` (TF32: its own switch, on CUDA)."""
    return {"bf16": precision == "bf16", "fp16": precision == "fp16",
            "tf32": True if precision == "tf32" else None}  # fmt: skip


@contextlib.contextmanager
def encoding_precision(model: SentenceTransformer, precision: str) -> Iterator[None]:
    """Encode in `precision` without touching the weights: bf16/fp16 by autocast, TF32 or true
    fp32 matmuls for the block (training with TF32 leaves it switched on for the process)."""
    import torch

    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high" if precision == "tf32" else "highest")
    try:
        if precision in ("bf16", "fp16"):
            dtype = torch.bfloat16 if precision == "bf16" else torch.float16
            with torch.autocast(device_type=model.device.type, dtype=dtype):
                yield
        else:
            yield
    finally:
        torch.set_float32_matmul_precision(previous)
