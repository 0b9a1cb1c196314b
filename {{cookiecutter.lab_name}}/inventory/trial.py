"""A run as one trial of an `emb sweep` study (Optuna): report dev, stop when pruned.

`emb sweep` starts the experiment with the environment variable EMB_SWEEP_TRIAL (JSON: the
study, the trial, its storage URL, whether to prune). The run then records its trial in the
manifest, tells the trial where the run lives, reports each dev evaluation during training, and
ends with status "pruned" when the study's pruner says so. Outside a sweep every function here
does nothing and optuna (installed with embed-lab) is never imported.

EMB_SWEEP_DESCRIBE (a file path) asks an experiment instead for its flags, their defaults and its
search space, written there as JSON before any work; `emb sweep` checks a --space file by it.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from inventory import distributed
from inventory.errors import Pruned

TRIAL_ENV = "EMB_SWEEP_TRIAL"
DESCRIBE_ENV = "EMB_SWEEP_DESCRIBE"
# A trial is compared with the finished ones at the same evaluation (1 to 4, a quarter of
# training each): never at the first, and only once three trials have finished.
STARTUP_TRIALS = 3
WARMUP_EVALUATIONS = 2


def settings() -> dict[str, Any] | None:
    """This process's trial ({"study", "trial", "number", "storage", "prune"}), or None."""
    value = os.environ.get(TRIAL_ENV)
    return json.loads(value) if value else None


def masked(url: str) -> str:
    """A storage URL with its password hidden (postgresql://user:***@host/db)."""
    return re.sub(r"(://[^:/@]+:).*@", r"\1***@", url)


def manifest_section() -> dict[str, Any]:
    """{"sweep": {"study", "trial", "storage"}} for a run's manifest, or {} outside a sweep."""
    trial = settings()
    if trial is None:
        return {}
    return {"sweep": {"study": trial["study"], "trial": trial["number"],
                      "storage": masked(trial["storage"])}}  # fmt: skip


def attach(run_dir: Path) -> None:
    """Tell the trial where its run lives (`emb sweep` reads the run's results from there)."""
    if settings() is not None:
        _trial().set_user_attr("run", str(run_dir))


def report(evaluation: int, value: float) -> None:
    """Report dev evaluation number `evaluation` (the same number at the same point of training
    in every trial) to the trial; raise Pruned on every process when the pruner stops it. Under
    a launcher only rank 0 reports."""
    trial = settings()
    if trial is None:
        return
    main = distributed.is_main_process()
    if distributed.broadcast(_report(evaluation, value) if main else None):
        raise Pruned(f"pruned at dev evaluation {evaluation} (dev ndcg@10 {value:.4f})")


def _report(evaluation: int, value: float) -> bool:
    if math.isnan(value):  # no dev score in this evaluation: nothing to judge by
        return False
    trial = _trial()
    trial.report(value, evaluation)
    return bool(settings()["prune"]) and trial.should_prune()  # type: ignore[index]


@functools.cache
def _trial() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trial = settings()
    assert trial is not None
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=STARTUP_TRIALS, n_warmup_steps=WARMUP_EVALUATIONS
    )
    study = optuna.load_study(
        study_name=trial["study"], storage=storage(trial["storage"]), pruner=pruner
    )
    return optuna.trial.Trial(study, trial["trial"])


def storage(url: str) -> Any:
    """An Optuna storage from a URL; a path ending in .journal is a journal file."""
    if url.endswith(".journal") and "://" not in url:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(url))
    return url


def describe_if_asked(parser: argparse.ArgumentParser, space: dict[str, dict]) -> None:
    """Under EMB_SWEEP_DESCRIBE: write the experiment's flags, defaults and search space, then
    exit before any work."""
    target = os.environ.get(DESCRIBE_ENV)
    if not target:
        return
    flags = {}
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        kind = "value"
        if isinstance(action, argparse.BooleanOptionalAction):
            kind = "bool"  # --x / --no-x
        elif action.nargs == 0:
            kind = "switch"  # --x or nothing (store_true)
        elif action.nargs == "+":
            kind = "list"
        default = action.default
        flags[action.dest] = {
            "flag": action.option_strings[0],
            "kind": kind,
            "default": str(default) if isinstance(default, Path) else default,
        }
    Path(target).write_text(json.dumps({"flags": flags, "space": space}), encoding="utf-8")
    raise SystemExit(0)
