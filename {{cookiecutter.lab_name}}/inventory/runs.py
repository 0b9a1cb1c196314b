"""Run records: every run in its own folder, with a manifest.json that says what produced it.

The folders, the `latest` link and the links beside it are laid out as inventory/layout.py says.

A running run's manifest names its process and carries a heartbeat (see inventory/liveness.py), so
a run killed without a word is shown as died, not running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from inventory import distributed, liveness, manifest, tracking, trial
from inventory.config import LAB_ROOT, RunConfig
from inventory.errors import Interrupted, LabError, Pruned, telling_lines
from inventory.files import check_writable, read_json, write_json, write_text, writing
from inventory.layout import LATEST, LINKED, MANIFEST, METRICS, RUN_ID_FORMAT, TRAIN_LOG

_active: list[Run] = []  # the runs started in this process and not finished yet
_sigterm: list[Any] = []  # the SIGTERM handler to restore once no run is active


@dataclass
class Run:
    dir: Path
    record: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    beaten: float = field(default_factory=time.monotonic)  # when the heartbeat was last saved

    @property
    def id(self) -> str:
        return self.dir.name

    @property
    def final_dir(self) -> Path:
        return self.dir / "final"

    @property
    def eval_dir(self) -> Path:
        return self.dir / "eval"

    @property
    def plots_dir(self) -> Path:
        return self.dir / "plots"

    @property
    def train_log(self) -> Path:
        return self.dir / TRAIN_LOG

    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST

    def note(self, **sections: Any) -> None:
        """Add sections to the manifest (saved at once, so a crash keeps them; rank 0 only)."""
        self.record.update(sections)
        if distributed.is_main_process():
            write_json(self.manifest_path, self.record)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time one step of the run (a step met again adds up): manifest.json's "phases_s" says
        where the time went."""
        start = time.monotonic()
        self.enter(name)
        try:
            yield
        finally:
            phases = self.record.get("phases_s", {})
            took = phases.get(name, 0.0) + time.monotonic() - start
            self.note(phases_s=phases | {name: round(took, 1)}, heartbeat=liveness.now())

    def enter(self, phase: str) -> None:
        """Record the step the run is in (timed or not), with a heartbeat."""
        self.beaten = time.monotonic()
        self.note(phase=phase, heartbeat=liveness.now())

    def beat(self) -> None:
        """Save a heartbeat if none was saved for liveness.HEARTBEAT_S; cheap to call often."""
        if time.monotonic() - self.beaten >= liveness.HEARTBEAT_S:
            self.beaten = time.monotonic()
            self.note(heartbeat=liveness.now())

    def finish(self, error: BaseException | None = None) -> None:
        """Record how the run ended; a completed run becomes results/<experiment>/latest."""
        if self not in _active:
            return
        _active.remove(self)
        if not _active and _sigterm:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, _sigterm.pop())
        status, message = outcome(error)
        self.record.update(
            status=status,
            error=message,
            ended=_now(),
            duration_s=round(time.monotonic() - self.started, 3),
            metrics=read_json(self.dir / METRICS),
            artifacts=[name for name in ARTIFACTS if (self.dir / name).exists()],
            heartbeat=liveness.now(),
        )
        from inventory.plotting import write_report  # plotly loads only when a run ends

        try:
            write_json(self.manifest_path, self.record)
            write_report(self.dir)
        except Exception as failure:
            if status != "completed":
                return  # a failed run keeps its own error (its record may not be saved)
            # The results are incomplete (a full disk, a bug in the report): the run failed.
            self.record.update(status="failed", error=outcome(failure)[1])
            with contextlib.suppress(Exception):
                write_json(self.manifest_path, self.record)
            raise
        if status == "completed":
            with writing("pointing the latest run's links to", self.dir):
                point_latest(self.dir)
        if self.dir.resolve().is_relative_to(LAB_ROOT / "results"):  # not a --output-dir elsewhere
            write_front_page(LAB_ROOT / "results")
        if tracking.wanted(((self.record.get("config") or {}).get("train") or {}).get("report_to")):
            report_to_mlflow(self.dir, self.record)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.finish(error)


def report_to_mlflow(run_dir: Path, record: dict[str, Any]) -> None:
    """Log the run's results to MLflow (inventory/tracking.py); the run stands without it, so a
    failure (a tracking server that does not answer) is a warning."""
    try:
        tracking.log_run(run_dir, record)
    except Exception as error:
        print(f"warning: the run was not logged to MLflow ({outcome(error)[1]})", file=sys.stderr)


def write_front_page(results: Path) -> None:
    """Rewrite results/index.html (inventory/lab_page.py); the run stands without it, so a
    failure is a warning."""
    from inventory.lab_page import write_lab_page

    try:
        write_lab_page(results)
    except Exception as error:
        print(f"warning: {results / 'index.html'} not updated ({outcome(error)[1]})",
              file=sys.stderr)  # fmt: skip


ARTIFACTS = ("final", "eval/metrics.json", "eval/per_query.csv", "plots/index.html",
             "train_log.json")  # fmt: skip


def outcome(error: BaseException | None) -> tuple[str, str | None]:
    """(status, one-line error) for how a run ended."""
    if error is None or (isinstance(error, SystemExit) and error.code in (0, None)):
        return "completed", None
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", str(error) or "SIGINT"
    if isinstance(error, Pruned):  # an `emb sweep` trial its study stopped early
        return "pruned", str(error)
    if isinstance(error, LabError):
        return "failed", str(error)
    lines = telling_lines(str(error))
    return "failed", f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def active_dir() -> Path | None:
    """The folder of the run this process started last and has not finished, if any."""
    return _active[-1].dir if _active else None


def heartbeat() -> None:
    """Keep the runs of this process heard from during a long step (see Run.beat)."""
    for run in _active:
        run.beat()


def finish_active(error: BaseException | None = None) -> list[Run]:
    """Finish every run this process started and did not finish; returns them."""
    runs = list(_active)
    for run in reversed(runs):
        run.finish(error)
    return runs


@distributed.main_process
def check_run(config: RunConfig) -> None:
    """Fail early, without writing anything, when the results folder cannot take a new run."""
    out = config.output_dir
    if out.is_file():
        raise LabError(f"{out} is a file, not a folder for results")
    check_writable(out)  # no permission, a read-only disk: said now, not after training
    if (out / "run.json").is_file():
        raise LabError(f"{out} holds a run from an older lab (run.json); move it away to keep it")
    if (out / LATEST).is_file() and not (out / LATEST).is_symlink():
        return  # copies made in place of links: ours to replace
    for name in LINKED:
        entry = out / name
        if entry.exists() and not entry.is_symlink():
            raise LabError(f"{entry} is in the way of the link to the latest run; move it away")


@distributed.main_process
def start_run(config: RunConfig) -> Run:
    """Create results/<experiment>/<run id>/ and its manifest (status "running")."""
    check_run(config)
    started = datetime.now(UTC)
    run_dir = _new_run_dir(config.output_dir, started)
    run = Run(run_dir)
    _active.append(run)
    run.note(
        experiment={"name": config.name, "file": _experiment_file()},
        run_id=run.id,
        status="running",
        error=None,
        started=started.isoformat(timespec="seconds"),
        process=liveness.this_process(),  # rank 0's under a launcher: it keeps the record
        heartbeat=liveness.now(),
        phase="starting",
        config=asdict(config),
        processes=distributed.world_size(),  # the batch size is per process
        **manifest.environment(config.data_dir, config.base_model, LAB_ROOT),
        **trial.manifest_section(),  # under `emb sweep`: {"sweep": {"study", "trial", ...}}
    )
    trial.attach(run_dir)
    tracking.prepare(config.train.report_to, config.name)
    if len(_active) == 1:
        _sigterm[:] = [_raise_on_sigterm()]
    return run


def _new_run_dir(out: Path, started: datetime) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stem = started.strftime(RUN_ID_FORMAT)
    for number in range(1, 1000):
        candidate = out / (stem if number == 1 else f"{stem}-{number}")
        try:
            candidate.mkdir()  # atomic: two runs started in the same second get different folders
        except FileExistsError:
            continue
        return candidate
    raise LabError(f"too many runs started at {stem} in {out}")


def point_latest(run_dir: Path) -> None:
    """Make results/<experiment>/latest (and final, eval, plots, manifest.json) reach `run_dir`."""
    out = run_dir.parent
    try:
        _symlink(run_dir.name, out / LATEST)
        for name in LINKED:
            if not (out / name).is_symlink():
                _symlink(f"{LATEST}/{name}", out / name)
    except OSError:  # no symbolic links here: a plain pointer file and copies
        for name in LINKED:
            if (run_dir / name).exists():
                _copy(run_dir / name, out / name)
        write_text(out / LATEST, run_dir.name + "\n")  # atomic, like every file of a run


def _symlink(target: str, link: Path) -> None:
    temporary = _temporary(link)
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary, target_is_directory=not target.endswith(".json"))
    os.replace(temporary, link)  # atomic: the link always reaches a whole run


def _temporary(path: Path) -> Path:
    """A temporary name beside `path` unique to this process, so that concurrent runs (sweep
    workers) never meet on it and fall back to copies."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _copy(source: Path, target: Path) -> None:
    temporary = _temporary(target)
    if temporary.is_dir():
        shutil.rmtree(temporary)
    if source.is_dir():
        shutil.copytree(source, temporary)
    else:
        shutil.copy2(source, temporary)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    os.replace(temporary, target)


def _experiment_file() -> str | None:
    script = getattr(sys.modules["__main__"], "__file__", None)
    if script is None:
        return None
    path = Path(script).resolve()
    return path.relative_to(LAB_ROOT).as_posix() if path.is_relative_to(LAB_ROOT) else str(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _raise_on_sigterm() -> Any:
    """SIGTERM (a scheduler, `kill`) ends the run like Ctrl-C, so the manifest says so.

    Returns the handler it replaced (the default when signals cannot be set from this thread).
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return signal.SIG_DFL
