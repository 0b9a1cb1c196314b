"""Errors a user can cause (bad data, a missing model, an earlier run), and the lines of an
error's text that a one-line error is chosen from."""

from __future__ import annotations

import re

# What torch prints under every CUDA error (c10/cuda/CUDAException.cpp, CUDAMiscFunctions.cpp):
# advice, never the error itself; "[rank0]: " starts each line where torchrun prefixes them.
CUDA_ADVICE = re.compile(
    r"(\[rank\d+\]: ?)?(CUDA kernel errors might be asynchronously reported"
    r"|For debugging consider passing CUDA_LAUNCH_BLOCKING=1"
    r"|For more detailed error information, run with CUDA_LOG_FILE"
    r"|Compile with `TORCH_USE_CUDA_DSA`"
    r"|Search for `cuda\w*' in "
    r"|Device-side assertions were explicitly omitted)"
)


class LabError(Exception):
    """A problem the user can fix; `run_experiment` prints it as one line, without a traceback."""


class Pruned(Exception):
    """An `emb sweep` trial stopped by the study's pruner (inventory/trial.py): status "pruned"."""


class Interrupted(KeyboardInterrupt):
    """A termination signal other than Ctrl-C (SIGTERM), raised where the run is."""


def telling_lines(text: str) -> list[str]:
    """The lines of an error's text that a one-line error is chosen from: stripped, not blank,
    and not CUDA's advice (the useful line of a CUDA error is its first: "CUDA error: ...")."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not CUDA_ADVICE.match(line)]
