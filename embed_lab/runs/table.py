"""`emb runs`: all of a lab's runs in one table, as JSON, or one run in detail (--show)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from embed_lab.runs.store import RunRecord, RunsError, data_hash, layout

KEY_HYPERPARAMETERS = {"epochs": "ep", "batch_size": "bs", "learning_rate": "lr", "seed": "seed"}
SORT_KEYS = ("date", "duration", "status", "experiment")
LAB_FOLDERS = ("results/", "data/", "inventory/")


def console() -> Console:
    """A console for wide tables: 160 columns when the output is not a terminal (pipes, files)."""
    terminal = Console()
    return terminal if terminal.is_terminal else Console(width=160)


def summary(run: RunRecord) -> dict[str, Any]:
    """One row of `emb runs` (also its --json output)."""
    config = run.manifest.get("config") or {}
    train = config.get("train") or {}
    state = run.state
    return {
        "experiment": run.experiment,
        "run_id": run.id,
        "started": run.manifest.get("started"),
        "status": state.status,  # "died" for a run recorded as running whose process is gone
        "error": run.manifest.get("error"),
        "phase": state.phase,
        "heartbeat": state.heartbeat,
        "base_model": (run.manifest.get("model") or {}).get("name") or config.get("base_model"),
        "recipe": (run.manifest.get("recipe") or {}).get("name"),
        "hyperparameters": {key: train[key] for key in KEY_HYPERPARAMETERS if key in train},
        "ndcg@10": {stage: run.metric(stage, "ndcg@10") for stage in ("before", "after")},
        "duration_s": run.manifest.get("duration_s"),
        "sweep": run.manifest.get("sweep"),
        "path": str(run.dir),
    }


def check_lab(lab: Path) -> None:
    """A folder that does not exist, or holds none of a lab's folders, is an error."""
    if not lab.is_dir():
        raise RunsError(f"{lab}: no such folder")
    if not any((lab / name.rstrip("/")).is_dir() for name in LAB_FOLDERS):
        raise RunsError(f"{lab} is not a lab: it holds none of {', '.join(LAB_FOLDERS)}")


def check_sort(key: str, runs: list[RunRecord]) -> None:
    """An unknown --sort key is an error naming the known ones."""
    metrics = dict.fromkeys(["ndcg@10"])
    for run in runs:
        metrics.update(dict.fromkeys((run.manifest.get("metrics") or {}).get("after") or {}))
    if key not in SORT_KEYS and key not in metrics:
        known = ", ".join([*SORT_KEYS, *metrics])
        raise RunsError(f"--sort {key}: unknown; one of {known}")


def sort_runs(runs: list[RunRecord], key: str) -> list[RunRecord]:
    """Sort by date (default), duration, status, experiment, or a gold metric's after value."""
    if key == "date":
        return sorted(runs, key=lambda run: str(run.manifest.get("started", "")))
    if key == "duration":
        return sorted(runs, key=lambda run: run.manifest.get("duration_s") or 0.0)
    if key in ("status", "experiment"):
        return sorted(runs, key=lambda run: str(summary(run)[key]))
    # best first; runs without the metric last
    return sorted(runs, key=lambda run: -(run.metric("after", key) or float("-inf")))


def render_table(runs: list[RunRecord], console: Console) -> None:
    table = Table(title=f"{len(runs)} run{'s' * (len(runs) != 1)}", title_justify="left")
    for column in ("experiment", "run id", "started (UTC)", "status", "base model", "recipe",
                   "hyperparameters", "gold ndcg@10", "duration"):  # fmt: skip
        wrap = column in ("base model", "recipe", "hyperparameters", "experiment")
        table.add_column(column, overflow="fold", no_wrap=not wrap)
    for run in runs:
        row = summary(run)
        before, after = row["ndcg@10"]["before"], row["ndcg@10"]["after"]
        status = _status(run)
        colour = {
            "completed": "green",
            "failed": "red",
            "interrupted": "yellow",
            "died": "red",
            "pruned": "blue",
        }.get(row["status"], "")  # pruned: a sweep trial stopped early
        table.add_row(
            row["experiment"],
            row["run_id"],
            str(row["started"] or "")[:16].replace("T", " "),
            f"[{colour}]{status}[/]" if colour else status,
            _short_model(row["base_model"]),
            row["recipe"] or "",
            " ".join(f"{KEY_HYPERPARAMETERS[k]}={v}" for k, v in row["hyperparameters"].items()),
            f"{_score(before)} → {_score(after)}" if after is not None else _score(before),
            f"{row['duration_s']:.0f} s" if isinstance(row["duration_s"], int | float) else "",
        )
    console.print(table)


def _status(run: RunRecord) -> str:
    """The status; a dead run's with its last phase and heartbeat (UTC), on two lines."""
    state = run.state
    if state.status != "died":
        return state.status
    heard = (state.heartbeat or "?").replace("T", " ")[5:16]
    return f"died during {state.phase or '?'}\nlast heartbeat {heard}"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def _short_model(name: str | None) -> str:
    if not name:
        return ""
    return Path(name).name if name.startswith(("/", ".", "~")) else name


def reproduce_command(run: RunRecord) -> str:
    command = run.manifest.get("command") or {}
    argv = command.get("argv") or []
    line = shlex.join(argv) if argv else "(the manifest holds no command)"
    return f"cd {shlex.quote(command['cwd'])} && {line}" if command.get("cwd") else line


def drift(run: RunRecord, lab: Path) -> list[str]:
    """Warnings: data files whose content changed, or a commit other than the run's."""
    warnings = []
    for split, recorded in (run.manifest.get("data") or {}).items():
        path = Path(recorded.get("path", ""))
        if not path.is_file():
            warnings.append(f"data {split}: {path} no longer exists")
        elif data_hash(path) != recorded.get("sha256"):
            warnings.append(f"data {split}: {path} changed since the run (sha256 differs)")
    git = run.manifest.get("git")
    cwd = Path((run.manifest.get("command") or {}).get("cwd") or lab)
    folder = cwd if cwd.is_dir() else lab
    if git:
        now = layout.git_state(folder) or {}  # as the lab records it
        head = now.get("commit")
        if head and head != git.get("commit"):
            warnings.append(
                f"git: the lab is at {head[:12]}, the run was made at {git['commit'][:12]}"
                f" (git checkout {git['commit'][:12]})"
            )
        if git.get("dirty"):
            warnings.append("git: the run was made from a tree with uncommitted changes")
        if now.get("dirty"):
            warnings.append("git: the working tree has uncommitted changes")
    return warnings


def render_show(run: RunRecord, lab: Path, console: Console) -> None:
    row = summary(run)
    error = f": {row['error']}" if row["error"] else ""
    console.print(f"[bold]{run.label}[/]  {run.state.describe()}{error}")
    console.print(f"folder:  {run.dir}")
    config = run.manifest.get("config") or {}
    console.print(f"config:  {config.get('train')}", markup=False)
    console.print(f"metrics: gold ndcg@10 {_score(row['ndcg@10']['before'])} → "
                  f"{_score(row['ndcg@10']['after'])}")  # fmt: skip
    for difference in (run.manifest.get("encoding") or {}).get("differences") or []:
        console.print(f"[yellow]evaluation differs from training:[/] {difference}", soft_wrap=True)
    console.print("reproduce:", style="bold")
    console.print(f"  {reproduce_command(run)}", markup=False, soft_wrap=True)
    warnings = drift(run, lab)
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    if not warnings and run.manifest.get("git"):
        console.print("data and git commit match the working tree")
    elif not warnings:
        console.print("data match the working tree; the run recorded no git commit (not in a "
                      "git repository, or in one without commits)")  # fmt: skip
