"""The `emb` command. Heavy modules are imported inside commands so `emb --help` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from embed_lab import __version__

DEFAULT_RECIPE = "in-batch-negatives"  # embed_lab.registry.DEFAULT_RECIPE, without its imports


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="emb")
def main() -> None:
    """Reproducible workspaces for fine-tuning embedding models."""


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--name", help="Lab name (default: PATH's folder name).")
@click.option("--base-model", help="Base model: a hub id or a local path.")
@click.option("--no-git", is_flag=True, help="Do not initialise a git repository.")
@click.option("--no-input", is_flag=True, help="Do not prompt; use defaults and options.")
@click.option(
    "--recipe",
    default=DEFAULT_RECIPE,
    show_default=True,
    metavar="RECIPE",
    help="The recipe of the first experiment (see emb recipes).",
)
def init(
    path: Path,
    name: str | None,
    base_model: str | None,
    no_git: bool,
    no_input: bool,
    recipe: str,
) -> None:
    """Create a lab in PATH (created if missing). Existing files are never overwritten.

    The default recipe gives experiments/exp_01_baseline.py; another recipe R gives
    experiments/exp_01_R.py ('-' becoming '_') and the inventory modules it needs instead.
    """
    from embed_lab.scaffold import ScaffoldError, init_lab

    try:
        report = init_lab(
            path,
            name=name,
            base_model=base_model,
            git=not no_git,
            no_input=no_input,
            recipe=recipe,
        )
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from None
    except (click.Abort, EOFError):  # input ended at a prompt: a script, CI or a pipe
        if sys.stdin.isatty():
            raise
        click.echo()  # end the unanswered prompt's line
        raise click.ClickException(
            "no answers to the prompts (stdin is not a terminal); "
            "pass --no-input to use the defaults and the options given"
        ) from None
    for line in report.lines():
        click.echo(line)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the recipes as JSON.")
def recipes(as_json: bool) -> None:
    """List the recipes (built-in and registered) for emb new and emb init --recipe.

    Third-party packages register recipes under the entry-point group `embed_lab.recipes`
    (see the README); a broken entry is reported in one line on stderr and skipped.
    """
    from embed_lab.registry import discover

    registry = discover()
    for problem in registry.problems:
        click.echo(f"warning: {problem}", err=True)
    if as_json:
        import orjson

        found = [recipe.to_json() for recipe in registry.recipes.values()]
        click.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())
        return
    from rich.table import Table

    from embed_lab.runs.table import console

    table = Table("recipe", "description", "data needed", "source")
    for recipe in registry.recipes.values():
        table.add_row(recipe.name, recipe.description, ", ".join(recipe.needs), recipe.source)
    console().print(table)


@main.command()
@click.argument("name")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option(
    "--recipe",
    default=DEFAULT_RECIPE,
    show_default=True,
    metavar="RECIPE",
    help="The experiment's recipe (see emb recipes).",
)
def new(name: str, path: Path, recipe: str) -> None:
    """Add experiments/exp_NN_NAME.py from a recipe to the lab in PATH (default: .).

    NN is one above the highest number in experiments/. NAME: lowercase letters, digits and '_'
    ('-' becomes '_'), starting with a letter. Inventory modules the recipe needs are added only
    when missing; nothing is ever overwritten.
    """
    from embed_lab.new import new_experiment
    from embed_lab.registry import RecipeError

    try:
        report = new_experiment(path, name, recipe)
    except RecipeError as error:
        raise click.ClickException(str(error)) from None
    for line in report.lines():
        click.echo(line)
    warning = report.warning()
    if warning:
        click.echo(warning, err=True)


@main.command()
@click.argument("data_dir", type=click.Path(path_type=Path), default="data")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report on stdout.")
@click.option("--strict", is_flag=True, help="Also fail on warnings (shared documents, ...).")
@click.option(
    "--allow",
    "allowed",
    multiple=True,
    metavar="KIND",
    help="Do not fail on this finding kind, e.g. duplicate-query (repeatable).",
)
@click.option("--near-dup", is_flag=True, help="Also find near-duplicate queries (datasketch).")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.8,
    show_default=True,
    help="Jaccard similarity from which two queries are near-duplicates.",
)
@click.option(
    "--tokenizer",
    type=click.Path(exists=True, path_type=Path),
    help="tokenizer.json (or a folder holding one) for lengths in tokens.",
)
@click.option(
    "--min-chars",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Texts shorter than this (normalised) are reported as very short.",
)
@click.option(
    "--examples",
    "max_examples",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Examples (file:line) shown per finding.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Repair what fails and --fix can repair (see below); gold is never changed.",
)
@click.option("--dry-run", is_flag=True, help="With --fix: say what it would do, write nothing.")
@click.option(
    "--fix-near-dup",
    "fix_near_dup",
    type=click.FloatRange(0, 1, min_open=True),
    metavar="THRESHOLD",
    help="With --fix: also remove train/dev queries with a Jaccard similarity of at least "
    "THRESHOLD to a later split's query (datasketch). Never by default.",
)
def check(
    data_dir: Path,
    as_json: bool,
    strict: bool,
    allowed: tuple[str, ...],
    near_dup: bool,
    threshold: float,
    tokenizer: Path | None,
    min_chars: int,
    max_examples: int,
    fix: bool,
    dry_run: bool,
    fix_near_dup: float | None,
) -> None:
    """Validate DATA_DIR's train.jsonl, dev.jsonl, gold.jsonl and corpus.jsonl (default: ./data).

    Applies the lab's data contract to every line (the rules the lab loads data by; see the
    lab README), then checks duplicates within a split, query and (query, positive) leaks
    across splits, positives that are also negatives, repeated ids and texts in the optional
    corpus.jsonl, and prints statistics per split. Exit status:
    0 clean, 1 a finding fails (errors; warnings too with --strict; not the --allow'ed kinds),
    2 the check could not run (missing directory, bad option, missing optional package).

    \b
    Finding kinds (for --allow):
      errors:   missing-split, empty-split, schema, duplicate-query, duplicate-pair,
                query-leak, pair-leak, false-negative, duplicate-id
      warnings: blank-line, short-text, shared-document, near-duplicate,
                duplicate-document, empty-document

    A UTF-8 BOM and CRLF line endings are accepted; blank lines are skipped (a warning).

    --fix rewrites train, dev and corpus.jsonl so that the check passes: a train or dev query
    also in a later split (train→dev→gold) is removed from the earlier one, and so is a leaked
    (query, positive) pair; the rows of one query are merged into its first row (positives,
    negatives, pos_grades and other keys united, in order); a repeated positive and a negative
    that is a positive of its query are removed; a corpus line repeating an earlier line's _id
    and text goes. Gold is never changed: it is what results are compared on. --allow'ed kinds
    are left alone. The originals go to DATA_DIR/.before-fix/ (a later fix's to
    .before-fix/N/), each removed or merged line to DATA_DIR/fix-report.jsonl with its
    finding, and DATA_DIR/mined/ (mined from the old train) to the originals. Files are
    swapped in atomically; a second --fix changes nothing. Exit status: the check's after the
    fix (with --dry-run, before it), and what remains is named; 2, with nothing written, when
    a write fails or a repair would leave a split without rows.
    """
    from embed_lab.check.errors import CheckError
    from embed_lab.check.kinds import FINDING_KINDS

    unknown = sorted(set(allowed) - set(FINDING_KINDS))
    if unknown:
        raise click.BadParameter(
            f"unknown kind {', '.join(unknown)}; kinds: {', '.join(FINDING_KINDS)}",
            param_hint="--allow",
        )
    if not data_dir.is_dir():
        raise click.BadParameter(f"{data_dir} is not a directory", param_hint="DATA_DIR")

    import orjson
    from rich.console import Console

    from embed_lab.check.report import render, to_json
    from embed_lab.check.runner import CheckOptions, run_check

    options = CheckOptions(
        strict=strict,
        allow=frozenset(allowed),
        near_dup=near_dup,
        threshold=threshold,
        tokenizer=tokenizer,
        min_chars=min_chars,
        max_examples=max_examples,
    )
    if fix or dry_run or fix_near_dup is not None:
        from embed_lab.check.fix.command import fix_and_report

        raise SystemExit(fix_and_report(data_dir, options, dry_run, fix_near_dup, as_json=as_json))
    try:
        result = run_check(data_dir, options)
    except CheckError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from None
    if as_json:
        click.echo(orjson.dumps(to_json(result), option=orjson.OPT_INDENT_2).decode())
    else:
        render(result, Console())
        from embed_lab.check.fix.report import repair_hint

        hint = repair_hint(result)
        if hint:
            click.echo(hint)
    raise SystemExit(result.exit_code)


@main.command()
@click.argument("lab", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--sort",
    "sort_key",
    default="date",
    show_default=True,
    metavar="KEY",
    help="date, duration, status, experiment, or a gold metric (ndcg@10, ...), best first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.option("--show", "show", metavar="RUN", help="One run: how to reproduce it, and drift.")
@click.option("--study", "study", metavar="NAME", help="Only the trials of this emb sweep study.")
@click.option("--html", "html_path", is_flag=False, flag_value="", metavar="[PATH]",
              help="Also write the lab's page (default: LAB/results/index.html).")  # fmt: skip
def runs(
    lab: Path, sort_key: str, as_json: bool, show: str | None, study: str | None,
    html_path: str | None,
) -> None:  # fmt: skip
    """List the runs of the lab in LAB (default: .), from results/<experiment>/<run id>/."""
    import orjson

    from embed_lab.runs import table
    from embed_lab.runs.store import RunsError, find_runs, resolve_run

    try:
        table.check_lab(lab)
        if show:
            table.render_show(resolve_run(show, lab), lab, table.console())
            return
        found = find_runs(lab)
        table.check_sort(sort_key, found.runs)
    except RunsError as error:
        raise click.ClickException(str(error)) from None
    for problem in found.problems:
        click.echo(f"skipped {problem}", err=True)
    chosen = [run for run in found.runs if study is None or run.study == study]
    ordered = table.sort_runs(chosen, sort_key)
    if as_json:
        rows = [table.summary(run) for run in ordered]
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2))
    elif ordered:
        table.render_table(ordered, table.console())
    else:
        click.echo(f"no runs in {lab / 'results'}")
    if html_path is not None:  # "" when --html is given without a PATH
        from embed_lab.template import load_lab_page

        page = Path(html_path) if html_path else None
        try:
            written = load_lab_page().write_lab_page(lab / "results", page)
        except OSError as error:
            raise click.ClickException(f"cannot write the page: {error}") from None
        click.echo(f"page: {written}", err=as_json)  # stdout stays JSON with --json


@main.command()
@click.argument("run_refs", nargs=-1, required=True, metavar="RUN_A RUN_B ...")
@click.option("--lab", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The lab whose results/ holds the runs.")  # fmt: skip
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write an offline page with the same evidence and the charts.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON only.")
def compare(run_refs: tuple[str, ...], lab: Path, html_path: Path | None, as_json: bool) -> None:
    """Compare runs (folders, run ids, <experiment>/<run id>); the first is the baseline.

    Shows gold metrics side by side and the settings that differ. Each other run on the same gold
    set is tested against the baseline with a paired randomisation test over per-query ndcg@10
    (eval/per_query.csv), with the queries that won and lost most. --json prints the same as one
    document; --html draws it, with zero-shot, BM25 and the hybrid beside every run.
    """
    from embed_lab.runs import compare as comparison
    from embed_lab.runs.store import RunsError, resolve_run
    from embed_lab.runs.table import console

    try:
        records = [resolve_run(ref, lab) for ref in run_refs]
        if len(records) < 2:
            raise RunsError("compare needs at least two runs")
        if as_json:
            import orjson

            document = comparison.evidence(records)
            click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        else:
            document = None
            comparison.render(records, console())
        if html_path:
            from embed_lab.runs.page import write_page

            written = write_page(records, html_path, document)
            click.echo(f"page: {written}", err=as_json)  # stdout stays JSON with --json
    except RunsError as error:
        raise click.ClickException(str(error)) from None


@main.command(context_settings={"show_default": True})
@click.argument("experiment")
@click.argument("fixed", nargs=-1, type=click.UNPROCESSED, metavar="[-- FLAG ...]")
@click.option("--trials", type=click.IntRange(0), default=20,
              help="Trials to run in this call (0: show the study).")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(0, min_open=True), metavar="S",
              help="Start no new trial after S seconds.")  # fmt: skip
@click.option("--space", "space_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A TOML search space replacing the recipe's (one table per flag).")  # fmt: skip
@click.option("--study", "study_name", help="The study's name (default: the experiment's).")
@click.option("--storage", metavar="URL",
              help="An Optuna storage URL (default: results/sweeps/<study>.journal).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option("--no-prune", is_flag=True, help="Never stop a trial early.")
@click.option("--keep-models", type=click.Choice(["best", "all"]), default="best",
              help="Model weights kept: the best trial's, or every trial's.")  # fmt: skip
@click.option("--lab", type=click.Path(file_okay=False, path_type=Path), default=".",
              help="The lab folder.")  # fmt: skip
@click.option("--launcher", metavar="COMMAND",
              help='Run each trial under e.g. "torchrun --nproc_per_node 2".')  # fmt: skip
@click.option("--seed", type=int, default=0, help="The sampler's seed (plus the trial number).")
def sweep(
    experiment: str,
    fixed: tuple[str, ...],
    trials: int,
    timeout: float | None,
    space_file: Path | None,
    study_name: str | None,
    storage: str | None,
    as_json: bool,
    no_prune: bool,
    keep_models: str,
    lab: Path,
    launcher: str | None,
    seed: int,
) -> None:
    """Search EXPERIMENT's flags on dev with Optuna (TPE); every trial is a run of the lab.

    EXPERIMENT is a file of experiments/ (name, stem, or the NAME of exp_NN_NAME). Flags after
    `--` go to every trial unchanged. The first trial of a new study runs the experiment's
    defaults; the objective is the fine-tuned model's ndcg@10 on the full dev split
    (metrics.json dev.ndcg@10), never gold. The study accumulates across calls and workers.
    """
    from embed_lab.sweep.command import SweepRequest, run_sweep

    request = SweepRequest(
        lab=lab, experiment=experiment, fixed=list(fixed), trials=trials, timeout=timeout,
        space_file=space_file, study_name=study_name, storage=storage, as_json=as_json,
        prune=not no_prune, keep_models=keep_models, launcher=launcher, seed=seed,
    )  # fmt: skip
    raise SystemExit(run_sweep(request))


def _add_io_commands() -> None:
    from embed_lab.io.commands import export_command, import_group

    main.add_command(import_group)
    main.add_command(export_command)


_add_io_commands()
