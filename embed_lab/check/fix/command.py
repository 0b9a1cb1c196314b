"""`emb check --fix` and `emb import ... --fix`: run the fix, show it, return the exit status."""

from __future__ import annotations

from pathlib import Path

import click

from embed_lab.check.errors import CheckError
from embed_lab.check.runner import CheckOptions


def fix_and_report(
    data_dir: Path,
    options: CheckOptions,
    dry_run: bool = False,
    near_dup_threshold: float | None = None,
    *,
    as_json: bool = False,
) -> int:
    """Fix DATA_DIR (or plan it, for a dry run), print the outcome; 2 when it cannot run."""
    import orjson
    from rich.console import Console

    from embed_lab.check.fix.report import fix_lines, to_fix_json, unresolved_lines
    from embed_lab.check.fix.run import run_fix
    from embed_lab.check.report import render

    try:
        result = run_fix(data_dir, options, dry_run=dry_run, near_dup_threshold=near_dup_threshold)
    except CheckError as error:
        click.echo(f"Error: {error}", err=True)
        return 2
    if as_json:
        click.echo(orjson.dumps(to_fix_json(result), option=orjson.OPT_INDENT_2).decode())
        return result.exit_code
    if result.after is None:
        render(result.before, Console())
    for line in fix_lines(result):
        click.echo(line)
    if result.after is not None:
        click.echo(f"checking {data_dir} again:")
        render(result.after, Console())
    for line in unresolved_lines(result):
        click.echo(line)
    return result.exit_code
