"""The `emb` command. Heavy modules are imported inside commands so `emb --help` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from embed_lab import __version__


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
def init(
    path: Path, name: str | None, base_model: str | None, no_git: bool, no_input: bool
) -> None:
    """Create a lab in PATH (created if missing). Existing files are never overwritten."""
    from embed_lab.scaffold import ScaffoldError, init_lab

    try:
        report = init_lab(path, name=name, base_model=base_model, git=not no_git, no_input=no_input)
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
) -> None:
    """Validate DATA_DIR's train.jsonl, dev.jsonl and gold.jsonl (default: ./data).

    Checks the schema, duplicates within a split, query and (query, positive) leaks across
    splits, positives that are also negatives, and prints statistics per split. Exit status:
    0 clean, 1 a finding fails (errors; warnings too with --strict; not the --allow'ed kinds),
    2 the check could not run (missing directory, bad option, missing optional package).

    \b
    Finding kinds (for --allow):
      errors:   missing-split, empty-split, schema, duplicate-query, duplicate-pair,
                query-leak, pair-leak, false-negative
      warnings: blank-line, short-text, shared-document, near-duplicate

    A UTF-8 BOM and CRLF line endings are accepted; blank lines are skipped (a warning).
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
    try:
        result = run_check(data_dir, options)
    except CheckError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from None
    if as_json:
        click.echo(orjson.dumps(to_json(result), option=orjson.OPT_INDENT_2).decode())
    else:
        render(result, Console())
    raise SystemExit(result.exit_code)
