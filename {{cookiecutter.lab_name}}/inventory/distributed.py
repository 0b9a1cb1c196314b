"""Data-parallel runs: the same experiment under `torchrun` or `accelerate launch`.

A launcher starts one copy of the script per device and tells each its RANK and WORLD_SIZE.
`setup` (called by `run_experiment`) joins the copies into one process group; all of them train
(the Trainer shares the batches and averages the gradients), while results are written and
scored once: functions wrapped with `main_process` run on rank 0 only, the other ranks wait for
its return value, and `shared_encoding` lets rank 0 evaluate while every rank encodes a share of
the texts. Outside a launcher every function here is a no-op.

Every process must call wrapped functions in the same order: each call is a meeting point.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING, ParamSpec, TypeVar, cast

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

P = ParamSpec("P")
T = TypeVar("T")

# The longest a process waits for the others at one meeting point (such as rank 0 saving the model
# or scoring gold) before failing instead of hanging; raise it for very long main-only steps.
TIMEOUT = timedelta(minutes=30)
# How long a failing process holds its report when its failure may not be the first; see
# let_first_failure_speak. The launcher notices a failed process within 0.1 s.
REPORT_DELAY_S = 5.0

_alone = False  # True while rank 0 runs a main-only function: nested ones must not meet again


def world_size() -> int:
    """The number of processes the launcher started (1 without a launcher)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's global rank: 0 is the main process (also without a launcher)."""
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    return rank() == 0


def setup() -> None:
    """Join the launcher's processes; only rank 0 prints, the others only when they fail.

    Does nothing without a launcher.
    """
    if world_size() == 1 or _joined():
        return
    import torch
    from accelerate import PartialState

    # The Trainer reuses this group. Like train.py's use_cpu: gloo without an accelerator, else
    # nccl (or the device's backend) with one device per local rank.
    PartialState(cpu=not torch.accelerator.is_available(), timeout=TIMEOUT)
    if is_main_process():
        # Line by line, so what rank 0 printed survives the launcher stopping it after a failure.
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(line_buffering=True)
    else:  # log lines, warnings and progress bars would repeat once per process
        sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        logging.disable(logging.WARNING)  # handlers made before setup hold the real stderr


def teardown() -> None:
    """Leave the process group after a successful run (some backends warn otherwise)."""
    if _joined():
        import torch.distributed as dist

        dist.destroy_process_group()


def main_process(function: Callable[P, T]) -> Callable[P, T]:
    """Run `function` on rank 0 only; the other ranks wait for it and return its return value."""

    @functools.wraps(function)
    def run_once(*args: P.args, **kwargs: P.kwargs) -> T:
        global _alone
        if _alone or not _joined():
            return function(*args, **kwargs)
        result = None
        if is_main_process():
            _alone = True
            try:
                result = function(*args, **kwargs)
            finally:
                _alone = False
        return cast(T, broadcast(result))

    return run_once


@contextmanager
def shared_encoding(model: SentenceTransformer, precision: str = "fp32") -> Iterator[bool]:
    """Yield True on rank 0, whose `model.encode` calls in the block are split across all ranks.

    The other ranks encode their shares, in `precision` as rank 0 does (inventory/device.py),
    until rank 0 leaves the block, then get False.
    """
    if _alone or not _joined():
        yield True
        return
    from sentence_transformers.util.distributed import distributed_evaluation

    from inventory.device import encoding_precision

    helping = nullcontext() if is_main_process() else encoding_precision(model, precision)
    with helping, distributed_evaluation(model) as main:
        yield main


def broadcast(value: T) -> T:
    """Rank 0's `value` on every rank (picklable values only)."""
    if _alone or not _joined():
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def let_first_failure_speak(own: bool) -> None:
    """Call before reporting a failure, so that a distributed run reports only its first one.

    Rank 0 reports its `own` failures (a LabError) at once. Any other failure waits a few seconds:
    an error every rank meets (bad data) is then printed by rank 0 alone, and an error that echoes
    another process's failure (its connection closed) is not printed at all, because the launcher
    stops this process meanwhile. A process still running after the wait reports as usual.
    """
    if not _joined():
        return
    if not (own and is_main_process()):
        time.sleep(REPORT_DELAY_S)
    if not is_main_process():
        sys.stderr = sys.__stderr__  # setup silenced it


def prefix() -> str:
    """The "rank N: " that starts a message from a process other than rank 0 ("" on rank 0)."""
    return "" if is_main_process() else f"rank {rank()}: "


def _joined() -> bool:
    if "torch" not in sys.modules:  # no process group without torch: keeps --help fast
        return False
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
