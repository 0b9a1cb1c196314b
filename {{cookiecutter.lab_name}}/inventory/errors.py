"""Errors a user can cause (bad data, a missing model, an earlier run)."""

from __future__ import annotations


class LabError(Exception):
    """A problem the user can fix; `run_experiment` prints it as one line, without a traceback."""


class Pruned(Exception):
    """An `emb sweep` trial stopped by the study's pruner (inventory/trial.py): status "pruned"."""


class Interrupted(KeyboardInterrupt):
    """A termination signal other than Ctrl-C (SIGTERM), raised where the run is."""
