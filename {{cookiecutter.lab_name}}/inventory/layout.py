"""The run layout: where a run's files are, and how what identifies its inputs is computed.

results/<experiment>/
    20261127-093012/        one folder per run (UTC start time): manifest.json, final/, eval/,
    20261127-101544/        plots/index.html, train_log.json; a rerun never touches earlier ones
    latest                  -> the newest completed run
    final, eval, plots, manifest.json  -> latest/...

`latest` and the links are symbolic links; where they cannot be made (Windows without developer
mode), `latest` is a text file holding the run id and the four entries are copies of that run's.

Data hash: sha256 over a file's rows in file order, where a row is a non-blank line with its line
ending (LF or CRLF) removed, fed to sha256 followed by one LF. A changed, added, removed or
reordered row changes the hash; line endings and blank lines do not (the loader ignores them).

The lab writes runs in this layout (inventory/runs.py, inventory/manifest.py) and `emb runs` and
`emb compare` read them back by this very file. Standard library only.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
LATEST = "latest"
LINKED = ("final", "eval", "plots", MANIFEST)  # each reaches latest/<name>
RUN_ID_FORMAT = "%Y%m%d-%H%M%S"  # a run folder's name: its UTC start time (-2, -3 on a clash)
METRICS = Path("eval") / "metrics.json"
PER_QUERY = Path("eval") / "per_query.csv"
TRAIN_LOG = "train_log.json"
DATA_FILES = ("train", "dev", "gold", "corpus")  # hashed when present in the data folder
NOT_SYSTEMS = ("delta", "gold", "dev")  # metrics.json sections that are not a scored system


def latest_run(experiment_dir: Path) -> Path | None:
    """The newest completed run of an experiment (through the `latest` link or its text file)."""
    latest = experiment_dir / LATEST
    if latest.is_symlink() or latest.is_dir():
        return latest.resolve() if (latest / MANIFEST).is_file() else None
    if latest.is_file():
        run = experiment_dir / latest.read_text(encoding="utf-8").strip()
        return run if (run / MANIFEST).is_file() else None
    return None


def run_dirs(results: Path) -> list[Path]:
    """Every run folder under results/<experiment>/ (the `latest` link excluded), sorted."""
    manifests = sorted(results.glob(f"*/*/{MANIFEST}")) if results.is_dir() else []
    return [path.parent for path in manifests if not path.parent.is_symlink()]


def scored_systems(metrics: dict[str, Any]) -> list[str]:
    """The scored systems of a metrics.json, in its order: the top-level keys holding a flat
    dict metric -> number ("before", "after", "bm25", "hybrid", a recipe's "first_stage")."""
    return [
        key
        for key, value in metrics.items()
        if key not in NOT_SYSTEMS
        and not key.endswith("_config")
        and isinstance(value, dict)
        and value
        and all(isinstance(number, int | float) for number in value.values())
    ]


def data_hash(path: Path) -> dict[str, Any]:
    """{"path", "rows", "sha256"} of one JSONL file (see the module docstring)."""
    digest, rows = hashlib.sha256(), 0
    with path.open("rb") as file:
        for line in file:
            row = line.rstrip(b"\r\n")
            if row.strip():
                digest.update(row + b"\n")
                rows += 1
    return {"path": str(path), "rows": rows, "sha256": digest.hexdigest()}


def data_hashes(data_dir: Path) -> dict[str, Any]:
    """Hashes of every split file present in `data_dir` (and of corpus.jsonl when there is one)."""
    return {
        name: data_hash(data_dir / f"{name}.jsonl")
        for name in DATA_FILES
        if (data_dir / f"{name}.jsonl").is_file()
    }


def git_state(folder: Path) -> dict[str, Any] | None:
    """Commit, dirty flag and a short diff stat of the repository holding `folder`, if any."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                                  timeout=30, check=False)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None or git("check-ignore", "-q", ".") is not None:
        return None  # no repository, or one that ignores the lab (such as a demo folder)
    status = git("status", "--porcelain", "--untracked-files=normal") or ""
    stat = git("diff", "HEAD", "--stat", "--stat-width=100") or ""
    return {
        "commit": commit,
        "dirty": bool(status),
        "changed_files": len(status.splitlines()),
        "diff_stat": stat.splitlines()[-1].strip() if stat else "",
    }
