"""`emb sweep`, end to end: check everything, open the study, run the trials, report."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from embed_lab.sweep.experiment import ExperimentError, describe, find_experiment
from embed_lab.sweep.space import SpaceError, build_space, read_space_file
from embed_lab.sweep.study import Sweep, SweepError, open_study, run_trials

MIN_DEV_QUERIES = 20  # fewer cannot tell settings apart (issue 21's rule warns alike)
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class SweepRequest:
    lab: Path
    experiment: str
    fixed: list[str]
    trials: int
    timeout: float | None
    space_file: Path | None
    study_name: str | None
    storage: str | None
    as_json: bool
    prune: bool
    keep_models: str
    launcher: str | None
    seed: int


def run_sweep(request: SweepRequest) -> int:
    """Exit status: 0 done, 1 bad input (one line on stderr), 130 interrupted (resumable)."""
    try:
        sweep = prepare(request)
        study = open_study(sweep)
    except (ExperimentError, SpaceError, SweepError) as error:
        click.echo(f"error: {error}", err=True)
        return 1
    say = _say
    count = len(study.get_trials(deepcopy=False))
    plural = "s" * (count != 1)
    say(f"study {sweep.study_name} ({sweep.storage_shown}): {count} trial{plural} so far")
    interrupted = False
    try:
        run_trials(sweep, study, request.trials, request.timeout, say)
    except KeyboardInterrupt:
        interrupted = True
    from embed_lab.sweep.page import write_page
    from embed_lab.sweep.study import clean_up
    from embed_lab.sweep.summary import summarise

    clean_up(sweep, study)
    document = summarise(sweep, study)
    page = write_page(study, document, sweep.folder)
    _rewrite_lab_page(sweep.lab / "results", say)
    if request.as_json:
        import orjson

        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        render(document)
    say(f"page: {page}")
    if interrupted:
        say("interrupted: the study is consistent; run the same command again to resume")
        return 130
    return 0


def prepare(request: SweepRequest) -> Sweep:
    """Everything checked before a study is opened: the experiment, its space, dev, the name."""
    lab = request.lab.resolve()
    launcher = split_launcher(request.launcher)
    script = find_experiment(lab, request.experiment)
    description = describe(lab, script)
    if request.space_file is not None:
        space, source = read_space_file(request.space_file), str(request.space_file)
    else:
        space, source = description["space"], f"{script.name}'s default search space"
    params = build_space(space, description["flags"], request.fixed, source)
    if not params:
        raise SpaceError(f"{source}: empty; give --space FILE with a table per flag")
    check_dev(lab, request.fixed, description["flags"])
    name = request.study_name or script.stem
    if not STUDY_NAME.fullmatch(name):
        raise SweepError(f"--study {name!r}: letters, digits, '.', '_' and '-' only")
    return Sweep(
        lab,
        script,
        params,
        request.fixed,
        name,
        request.storage,
        request.prune,
        request.keep_models,
        launcher,
        request.seed,
    )


def split_launcher(command: str | None) -> tuple[str, ...]:
    """--launcher as the words a trial's command starts with; () for plain python. A launcher
    that cannot start (unbalanced quotes, not on PATH) stops the sweep before any trial."""
    if not command:
        return ()
    try:
        words = tuple(shlex.split(command))
    except ValueError as error:
        raise SweepError(f"--launcher {command!r}: {error}") from None
    if not words or shutil.which(words[0]) is None:
        raise SweepError(f"--launcher {command!r}: {words[0] if words else 'nothing'} is not a "
                         "command on PATH")  # fmt: skip
    return words


def check_dev(lab: Path, fixed: list[str], flags: dict[str, Any]) -> None:
    """The sweep chooses on dev: no dev split is an error, a small one a warning."""
    data_dir = Path(flags.get("data_dir", {}).get("default") or lab / "data")
    for position, argument in enumerate(fixed):
        if argument == "--data-dir" and position + 1 < len(fixed):
            data_dir = Path(fixed[position + 1])
        elif argument.startswith("--data-dir="):
            data_dir = Path(argument.split("=", 1)[1])
    dev = data_dir if data_dir.is_absolute() else lab / data_dir
    dev = dev / "dev.jsonl"
    if not dev.is_file():
        raise SweepError(f"{dev}: no dev split; a sweep chooses settings on dev, never on gold")
    queries = sum(1 for line in dev.open(encoding="utf-8", errors="replace") if line.strip())
    if queries < MIN_DEV_QUERIES:
        _say(
            f"warning: {dev} holds {queries} queries (under {MIN_DEV_QUERIES}): too few to "
            "tell settings apart; the best trial will rarely beat the defaults beyond noise"
        )


def render(document: dict[str, Any]) -> None:
    from rich.table import Table

    from embed_lab.runs.table import console

    out = console()
    table = Table(title=f"study {document['study']} ({document['storage']})", title_justify="left")
    for column in ("trial", "settings", "dev ndcg@10", "95 % CI", "status", "time"):
        table.add_column(column, overflow="fold")
    for trial in document["trials"]:
        ci = trial["dev_ndcg@10_ci95"]
        settings = (
            "defaults"
            if trial["defaults"]
            else " ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in trial["params"].items()
            )
        )
        status = trial["status"] + (f": {trial['error']}" if trial["error"] else "")
        table.add_row(
            str(trial["number"]),
            settings,
            "" if trial["dev_ndcg@10"] is None else f"{trial['dev_ndcg@10']:.4f}",
            f"{ci[0]:.4f}–{ci[1]:.4f}" if ci else "",
            status,
            "" if trial["duration_s"] is None else f"{trial['duration_s']:.0f} s",
        )
    out.print(table)
    best = document["best"]
    if best is None:
        out.print("no completed trial yet")
        return
    out.print(
        f"best: trial {best['number']}, dev ndcg@10 {best['dev_ndcg@10']:.4f}  ({best['run']})",
        markup=False,
    )
    out.print(f"reproduce: {best['command']}", markup=False, soft_wrap=True)
    gold = best.get("gold") or {}
    if gold:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in gold.items())
        out.print(
            f"gold ndcg@10 of trial {best['number']} (reported, never chosen on): {shown}",
            markup=False,
        )
    out.print(document["significance"]["summary"], markup=False, soft_wrap=True)
    if "warning" in document["significance"]:
        out.print(document["significance"]["warning"], markup=False, soft_wrap=True)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _rewrite_lab_page(results: Path, say: Callable[[str], None]) -> None:
    """results/index.html, rewritten by the lab after each trial, now links the study's page."""
    from embed_lab.template import load_lab_page

    try:
        load_lab_page().write_lab_page(results)
    except OSError as error:
        say(f"warning: {results / 'index.html'} not updated ({error})")
