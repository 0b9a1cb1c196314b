"""Find and load run records; a manifest that cannot be read is reported and skipped."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embed_lab.template import load_layout

layout = load_layout()  # the lab's inventory/layout.py: where the lab writes a run's files
MANIFEST: str = layout.MANIFEST
PER_QUERY: Path = layout.PER_QUERY


class RunsError(Exception):
    """A run that cannot be found or read; the CLI prints it as one line."""


@dataclass(frozen=True)
class RunRecord:
    dir: Path
    manifest: dict[str, Any]

    @property
    def experiment(self) -> str:
        return str(self.manifest.get("experiment", {}).get("name") or self.dir.parent.name)

    @property
    def id(self) -> str:
        return str(self.manifest.get("run_id") or self.dir.name)

    @property
    def study(self) -> str | None:
        """The `emb sweep` study this run is a trial of, if any."""
        return (self.manifest.get("sweep") or {}).get("study")

    @property
    def label(self) -> str:
        return f"{self.experiment}/{self.id}"

    @property
    def state(self) -> Any:
        """How the run stands (inventory/liveness.py's RunState): a run recorded as running
        whose process is gone, or whose heartbeat is stale, has status "died"."""
        from embed_lab.template import load_liveness

        return load_liveness().run_state(self.manifest)

    def metric(self, stage: str, name: str) -> float | None:
        value = (self.manifest.get("metrics") or {}).get(stage, {}).get(name)
        return value if isinstance(value, int | float) else None

    def data_sha256(self, split: str) -> str | None:
        return ((self.manifest.get("data") or {}).get(split) or {}).get("sha256")

    def train_log(self) -> list[dict[str, Any]]:
        try:
            log = json.loads((self.dir / "train_log.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return log if isinstance(log, list) else []


@dataclass
class Found:
    runs: list[RunRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "path: reason" per skipped manifest


def find_runs(lab: Path) -> Found:
    """Every run under lab/results/<experiment>/<run id>/ (links to the latest run excluded)."""
    found = Found()
    for run_dir in layout.run_dirs(lab / "results"):
        try:
            found.runs.append(load_run(run_dir))
        except RunsError as error:
            found.problems.append(str(error))
    return found


def load_run(run_dir: Path) -> RunRecord:
    path = run_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RunsError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise RunsError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise RunsError(f"{path}:{error.lineno}: malformed JSON ({error.msg})") from None
    if not isinstance(manifest, dict):
        raise RunsError(f"{path}: expected a JSON object, got {type(manifest).__name__}")
    return RunRecord(run_dir.resolve(), manifest)


def resolve_run(reference: str, lab: Path) -> RunRecord:
    """A run from a folder path, a run id, <experiment>/<run id>, or <experiment> (its latest)."""
    for candidate in (Path(reference), lab / "results" / reference):
        latest = layout.latest_run(candidate)  # an experiment folder: its latest run
        if latest is not None:
            return load_run(latest)
        if (candidate / MANIFEST).is_file():
            return load_run(candidate)
    matches = [p for p in (lab / "results").glob(f"*/{reference}") if (p / MANIFEST).is_file()]
    if len(matches) == 1:
        return load_run(matches[0])
    if len(matches) > 1:
        names = ", ".join(f"{p.parent.name}/{p.name}" for p in matches)
        raise RunsError(f"run {reference!r} is ambiguous: {names}")
    raise RunsError(f"no run {reference!r} (a run folder, a run id or <experiment>/<run id>)")


def data_hash(path: Path) -> str:
    """The sha256 the lab records for a data file (layout.data_hash)."""
    return str(layout.data_hash(path)["sha256"])


def per_query(run: RunRecord, system: str = "after", metric: str = "ndcg@10") -> dict[str, float]:
    """{query_id: score} from the run's eval/per_query.csv; empty when the run has none."""
    path = run.dir / PER_QUERY
    if not path.is_file():
        return {}
    scores: dict[str, float] = {}
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        missing = {"query_id", "system", metric} - set(reader.fieldnames or ())
        if missing:
            raise RunsError(f"{path}: missing column {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            if row["system"] != system:
                continue
            try:
                scores[row["query_id"]] = float(row[metric])
            except (TypeError, ValueError):
                raise RunsError(f"{path}:{line}: {metric} is not a number") from None
    return scores
