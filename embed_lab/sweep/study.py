"""The study: opened in its storage, trials run one after another until the budget is spent.

Each trial is a normal run of the experiment, in its own process, which learns its trial from
EMB_SWEEP_TRIAL (the lab's inventory/trial.py), reports dev during training, may be pruned, and
records in its manifest where it belongs. The sweep then reads the run's dev ndcg@10 and tells the
study. Ctrl-C: the running trial's run records "interrupted", the trial is closed as failed and
its settings are queued again, so the same command resumes the study.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embed_lab.sweep.experiment import TrialProcess, last_error
from embed_lab.sweep.space import Param

OBJECTIVE = ("dev", "ndcg@10")  # metrics.json["dev"]["ndcg@10"]: never gold


class SweepError(Exception):
    """A sweep that cannot start (storage, study); the CLI prints it as one line."""


def masked(url: str) -> str:
    """A storage URL with its password hidden: postgresql://user:***@host/db."""
    return re.sub(r"(://[^:/@]+:).*@", r"\1***@", url)


@dataclass
class Sweep:
    lab: Path
    script: Path
    params: list[Param]
    fixed: list[str]  # flags given to every trial, not searched
    study_name: str
    storage_url: str | None  # None: the journal file results/sweeps/<study>.journal
    prune: bool = True
    keep_models: str = "best"
    launcher: tuple[str, ...] = ()  # e.g. ("torchrun", "--nproc_per_node", "2"); () = python
    seed: int = 0

    @property
    def folder(self) -> Path:
        return self.lab / "results" / "sweeps" / self.study_name

    @property
    def journal(self) -> Path:
        return self.lab / "results" / "sweeps" / f"{self.study_name}.journal"

    @property
    def storage_for_trials(self) -> str:
        return self.storage_url or str(self.journal.resolve())

    @property
    def storage_shown(self) -> str:
        if self.storage_url:
            return masked(self.storage_url)
        return os.path.relpath(self.journal, self.lab)

    def command(self, argv: list[str]) -> list[str]:
        import sys

        start = list(self.launcher) or [sys.executable]
        return [*start, os.path.relpath(self.script, self.lab), *argv]


def open_study(sweep: Sweep) -> Any:
    """Create the study or load it (the study accumulates across calls and workers)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    experiment = os.path.relpath(sweep.script, sweep.lab)
    try:
        if sweep.storage_url is None:
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            sweep.journal.parent.mkdir(parents=True, exist_ok=True)
            storage: Any = JournalStorage(JournalFileBackend(str(sweep.journal)))
        else:
            storage = optuna.storages.RDBStorage(sweep.storage_url)
        study = optuna.create_study(
            study_name=sweep.study_name,
            storage=storage,
            direction="maximize",
            load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=sweep.seed),
        )
    except ModuleNotFoundError as error:
        raise SweepError(
            f"storage {sweep.storage_shown}: {error}; a PostgreSQL server needs "
            "pip install 'embed-lab[postgresql]'"
        ) from None
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise SweepError(f"cannot open storage {sweep.storage_shown}: {masked(first)}") from None
    owner = study.user_attrs.get("experiment")
    if owner is None:
        study.set_user_attr("experiment", experiment)
    elif owner != experiment:
        raise SweepError(
            f"study {sweep.study_name!r} sweeps {owner}, not {experiment}; choose another --study"
        )
    return study


def run_trials(
    sweep: Sweep, study: Any, trials: int, timeout: float | None, say: Callable[[str], None]
) -> None:
    """Run up to `trials` trials (fewer when `timeout` seconds have passed); a new study's first
    trial runs the experiment's defaults. KeyboardInterrupt leaves the study consistent."""
    settle_orphans(sweep, study, say)
    if trials > 0 and not study.get_trials(deepcopy=False):
        defaults = {param.name: param.default for param in sweep.params}
        study.enqueue_trial(defaults, user_attrs={"defaults": True}, skip_if_exists=True)
    started = time.monotonic()
    with _sigterm_as_interrupt():
        for _ in range(trials):
            if timeout is not None and time.monotonic() - started >= timeout:
                say(f"--timeout {timeout:g} s reached: no new trial started")
                break
            run_one(sweep, study, say)
            clean_up(sweep, study)


def settle_orphans(sweep: Sweep, study: Any, say: Callable[[str], None]) -> None:
    """Settle trials left RUNNING by a worker that was killed outright (SIGKILL, a lost machine):
    a trial whose run has ended is told its result; one whose run died with it is recorded as
    died and queued again, like an interrupted trial. A trial whose run is alive is left alone
    (another worker's), and so is one that never started its run."""
    from optuna.trial import TrialState

    from embed_lab.template import load_liveness

    liveness = load_liveness()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        run = trial.user_attrs.get("run")
        record = _read_json(Path(run) / "manifest.json") if run else None
        if record is None or (record.get("status") == "running" and not liveness.has_died(record)):
            continue
        settled = optuna_trial(study, trial)
        if record.get("status") != "running":  # it ended after its worker did
            _tell(study, settled, 0, sweep.folder / "logs" / f"trial-{trial.number:04d}.log", say)
            continue
        state = liveness.run_state(record).describe()
        settled.set_user_attr("status", "died")
        settled.set_user_attr("error", f"the run {state}")
        study.tell(settled, state=TrialState.FAIL)
        defaults = bool(trial.user_attrs.get("defaults"))
        queued = {"defaults": True} if defaults else {"resumes": trial.number}
        study.enqueue_trial(trial.params, user_attrs=queued)
        say(f"trial {trial.number}: the run {state}; queued again")


def optuna_trial(study: Any, frozen: Any) -> Any:
    """A live handle on a stored trial, to set attributes on and tell."""
    import optuna

    return optuna.Trial(study, frozen._trial_id)


def run_one(sweep: Sweep, study: Any, say: Callable[[str], None]) -> None:
    import optuna

    trial = study.ask()
    defaults = bool(trial.user_attrs.get("defaults"))
    params: dict[str, Any] = {}
    try:
        # Seeded by trial number: reproducible, and two workers never propose the same settings.
        study.sampler = optuna.samplers.TPESampler(seed=sweep.seed + trial.number)
        params = {param.name: param.suggest(trial) for param in sweep.params}
        argv = list(sweep.fixed)
        if not defaults:  # the defaults' trial runs the experiment exactly as it is
            for param in sweep.params:
                argv += param.argv(params[param.name])
        shown = "the experiment's defaults" if defaults else " ".join(argv[len(sweep.fixed) :])
        say(f"trial {trial.number}: {shown}")
        settings = {
            "study": sweep.study_name,
            "trial": trial._trial_id,
            "number": trial.number,
            "storage": sweep.storage_for_trials,
            "prune": sweep.prune,
        }
        log = sweep.folder / "logs" / f"trial-{trial.number:04d}.log"
        code = TrialProcess.start(sweep.lab, sweep.command(argv), settings, log).wait()
    except KeyboardInterrupt:  # the trial's own run, if it started, recorded "interrupted"
        trial.set_user_attr("status", "interrupted")
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        if defaults or len(params) == len(sweep.params):  # the next call runs it first
            queued = {"defaults": True} if defaults else {"resumes": trial.number}
            study.enqueue_trial(params, user_attrs=queued)
        say(f"trial {trial.number}: interrupted; run the same command again to resume")
        raise
    _tell(study, trial, code, log, say)


def _tell(study: Any, trial: Any, code: int, log: Path, say: Callable) -> None:
    from optuna.trial import TrialState

    attrs = _frozen(study, trial.number).user_attrs
    run = Path(attrs["run"]) if "run" in attrs else None
    record = _read_json(run / "manifest.json") if run else None
    status = (record or {}).get("status")
    error = (record or {}).get("error") or last_error(log) or f"exit status {code}"
    value = None
    if status == "completed":
        value = ((record.get("metrics") or {}).get(OBJECTIVE[0]) or {}).get(OBJECTIVE[1])
        if not isinstance(value, int | float):
            status, error = (
                "failed",
                (
                    "metrics.json has no dev ndcg@10 (metrics['dev']['ndcg@10']): this "
                    "experiment does not score its model on the full dev split"
                ),
            )
    elif status not in ("pruned", "interrupted"):
        status = "failed"
    trial.set_user_attr("status", status)
    took = f"{record.get('duration_s', 0):.0f} s" if record else ""
    if status == "completed":
        study.tell(trial, float(value))
        say(f"trial {trial.number}: dev ndcg@10 {value:.4f}  ({took})")
        return
    if status != "pruned":
        trial.set_user_attr("error", error)
    study.tell(trial, state=TrialState.PRUNED if status == "pruned" else TrialState.FAIL)
    say(f"trial {trial.number}: {status}" + (f": {error}" if status != "pruned" else f" ({took})"))


def _frozen(study: Any, number: int) -> Any:
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def best_trial(study: Any) -> Any | None:
    """The completed trial with the highest dev ndcg@10 (the first one on a tie)."""
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    return max(done, key=lambda t: (t.value, -t.number)) if done else None


def clean_up(sweep: Sweep, study: Any) -> None:
    """Remove the model weights of finished trials other than the best (unless --keep-models
    all), link the study's folder to the best run, and keep results/<experiment>/latest on a run
    that still has its model."""
    from optuna.trial import TrialState

    best = best_trial(study)
    best_run = Path(best.user_attrs["run"]) if best and "run" in best.user_attrs else None
    if sweep.keep_models == "best":
        keep = best.number if best is not None else None
        for trial in study.get_trials(deepcopy=False):
            run = trial.user_attrs.get("run")
            if trial.state != TrialState.RUNNING and run is not None and trial.number != keep:
                _remove_model(Path(run))
    if best_run is not None and best_run.is_dir():
        _link(sweep.folder / "best", best_run)
        latest = best_run.parent / "latest"
        if latest.is_symlink() and not (latest / "final").exists():
            _link(latest, best_run)


def _remove_model(run: Path) -> None:
    if not (run / "final").is_dir():
        return
    shutil.rmtree(run / "final")
    record = _read_json(run / "manifest.json")
    if record is None:
        return
    record["artifacts"] = [name for name in record.get("artifacts", []) if name != "final"]
    record.setdefault("sweep", {})["model"] = (
        "removed: not the study's best trial (emb sweep --keep-models all keeps it)"
    )
    temporary = run / ".manifest.json.tmp"
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, run / "manifest.json")


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(target, link.parent)
    temporary = link.with_name(f".{link.name}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        os.symlink(relative, temporary, target_is_directory=True)
    except OSError:  # no symbolic links here: a file naming the run
        temporary.write_text(relative + "\n", encoding="utf-8")
    os.replace(temporary, link)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the sweep like Ctrl-C (the running trial is told the same signal)."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt("SIGTERM")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
