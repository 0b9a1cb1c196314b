"""The `emb import` and `emb export` commands. Format modules are imported inside commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from embed_lab.io.splits import Imported

MAX_POSITIVES_HELP = (
    "Keep at most N positives per train query (highest grade or score first, ties in source "
    "order). Training makes one pair per positive: NFCorpus's train qrels hold 110,575 pairs "
    "(hours per epoch on a CPU); --max-positives 1 leaves one per query. Dev and gold keep "
    "every positive, so evaluation is unchanged."
)

FIX_HELP = (
    "Then repair what the check finds, as `emb check --fix` does: leaked train/dev queries "
    "removed, duplicates merged; gold is never changed."
)


def import_options(*, gold_default: str, single_file: bool) -> Callable[[Callable], Callable]:
    """The options every importer shares."""

    def decorate(command: Callable) -> Callable:
        options = [
            click.option(
                "--data-dir",
                type=click.Path(path_type=Path),
                default="data",
                show_default=True,
                help="Where to write train/dev/gold.jsonl (and corpus.jsonl).",
            ),
            click.option("--force", is_flag=True, help="Replace existing splits (atomically)."),
            click.option(
                "--train",
                "train_name",
                default="train",
                show_default=True,
                help="Source split for train.",
            ),
            click.option(
                "--dev",
                "dev_name",
                help="Source split for dev [default: dev; when there is none, carved from train].",
            ),
            click.option(
                "--gold",
                "gold_name",
                default=gold_default,
                show_default=True,
                help="Source split for gold.",
            ),
            click.option(
                "--dev-fraction",
                type=click.FloatRange(0, 1, min_open=True, max_open=True),
                default=0.1,
                show_default=True,
                help="Share of queries carved from train into dev when the source has no dev.",
            ),
            click.option(
                "--seed", type=int, default=42, show_default=True, help="Seed of the carving."
            ),
            click.option("--max-positives", type=click.IntRange(1), help=MAX_POSITIVES_HELP),
            click.option("--fix", is_flag=True, help=FIX_HELP),
        ]
        if single_file:
            options.append(
                click.option(
                    "--gold-fraction",
                    type=click.FloatRange(0, 1, min_open=True, max_open=True),
                    default=0.1,
                    show_default=True,
                    help="Share of queries put in gold when SOURCE is one file.",
                )
            )
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def run_import(build: Callable[..., Imported], **kwargs: Any) -> None:
    """Stage, write and publish the import, print counts, then validate like `emb check`."""
    from embed_lab.io.records import ImportFailure
    from embed_lab.io.splits import (
        CORPUS,
        SplitOptions,
        assemble,
        many_positives_note,
        publish,
        staging,
        summary,
        write_split,
    )

    data_dir: Path = kwargs["data_dir"]
    options = SplitOptions(
        dev_fraction=kwargs["dev_fraction"],
        gold_fraction=kwargs.get("gold_fraction") or 0.1,
        seed=kwargs["seed"],
        max_positives=kwargs["max_positives"],
    )
    try:
        with staging(data_dir, kwargs["force"]) as folder:
            imported = build(folder)
            splits = assemble(imported, options)
            for split, examples in splits.items():
                if not examples:
                    raise ImportFailure(kwargs["source"], f"the {split} split would be empty")
                write_split(folder / f"{split}.jsonl", examples)
            publish(folder, data_dir)
    except ImportFailure as error:
        raise click.ClickException(str(error)) from None
    for line in summary(splits):
        click.echo(line)
    if imported.corpus_documents is not None:
        click.echo(f"{CORPUS}: {imported.corpus_documents:,} documents")
    if options.max_positives is None:
        size = (data_dir / "train.jsonl").stat().st_size
        imported.notes += filter(None, [many_positives_note(splits["train"], size)])
    for note in imported.notes:
        click.echo(f"note: {note}")
    if kwargs["fix"]:
        from embed_lab.check.fix.command import fix_and_report
        from embed_lab.check.runner import CheckOptions

        click.echo(f"wrote {data_dir}; repairing it as `emb check --fix {data_dir}` does:")
        raise SystemExit(fix_and_report(data_dir, CheckOptions()))
    click.echo(f"wrote {data_dir}; checking it as `emb check {data_dir}` does:")
    raise SystemExit(validate(data_dir))


def validate(data_dir: Path) -> int:
    """Run `emb check`'s validation with its default options, show it; return its exit code.
    When it fails on what `emb check --fix` repairs, the last line says so."""
    from rich.console import Console

    from embed_lab.check.errors import CheckError
    from embed_lab.check.fix.report import repair_hint
    from embed_lab.check.report import render
    from embed_lab.check.runner import run_check

    try:
        result = run_check(data_dir)
    except CheckError as error:
        click.echo(f"Error: {error}", err=True)
        return 2
    render(result, Console())
    hint = repair_hint(result, " (or the import again with --fix)")
    if hint:
        click.echo(hint)
    return result.exit_code


def split_names(train_name: str, dev_name: str | None, gold_name: str) -> dict[str, str | None]:
    return {"train": train_name, "dev": dev_name, "gold": gold_name}


@click.group("import")
def import_group() -> None:
    """Convert a dataset into the lab's data/{train,dev,gold}.jsonl (+ corpus.jsonl).

    Existing splits are kept unless --force. Each importer prints the counts per split, then
    validates the result as `emb check` does and exits with its status (0 clean, 1 findings,
    2 the check could not run); a source it cannot read exits 1 with FILE:LINE: REASON.
    """


@import_group.command("beir")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--min-score",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Judgments with at least this score are positives; scores <= 0 become negatives.",
)
@import_options(gold_default="test", single_file=False)
def import_beir(source: Path, min_score: int, **kwargs: Any) -> None:
    """A BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.

    Positives get the text the lab gives a corpus document ("title text"), so a positive and
    its copy in data/corpus.jsonl are one document; the whole corpus is written to
    data/corpus.jsonl (streamed), so gold ranks against it as in BEIR. Grades other than 1 are
    kept as "pos_grades". qrels may have a header line and CRLF endings.
    """
    from embed_lab.io.beir import BeirOptions
    from embed_lab.io.beir import import_beir as build

    names = BeirOptions(kwargs["train_name"], kwargs["dev_name"], kwargs["gold_name"], min_score)
    run_import(functools.partial(build, source, options=names), source=source, **kwargs)


@import_group.command("flag")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@import_options(gold_default="test", single_file=True)
def import_flag(source: Path, **kwargs: Any) -> None:
    """FlagEmbedding JSONL ({"query", "pos", "neg", "pos_scores", "prompt", ...} per line).

    SOURCE is one file (split by query into train/dev/gold) or a folder of <split>.jsonl files.
    Lines without a positive are skipped (and counted); extra keys are kept.
    """
    from embed_lab.io.flag import import_flag as build

    names = split_names(kwargs["train_name"], kwargs["dev_name"], kwargs["gold_name"])
    run_import(lambda _folder: build(source, names), source=source, **kwargs)


@import_group.command("triplets")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@import_options(gold_default="test", single_file=True)
def import_triplets(source: Path, **kwargs: Any) -> None:
    """(query, positive[, negative]) rows: .tsv (optional header) or .jsonl with keys
    query (or anchor), positive, negative. Rows are grouped by query.

    SOURCE is one file (split by query into train/dev/gold) or a folder of <split>.tsv/.jsonl.
    """
    from embed_lab.io.triplets import import_triplets as build

    names = split_names(kwargs["train_name"], kwargs["dev_name"], kwargs["gold_name"])
    run_import(lambda _folder: build(source, names), source=source, **kwargs)


@import_group.command("hf")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--query-column", default="query", show_default=True)
@click.option("--pos-column", default="pos", show_default=True, help="A text or a list of texts.")
@click.option("--neg-column", help="A text or a list of texts [default: neg, when present].")
@click.option("--id-column", help="Query ids [default: id, when present].")
@import_options(gold_default="test", single_file=True)
def import_hf(
    source: Path,
    query_column: str,
    pos_column: str,
    neg_column: str | None,
    id_column: str | None,
    **kwargs: Any,
) -> None:
    """A Hugging Face dataset: a `save_to_disk` folder (its splits by name; a single split is
    split by query), one parquet/jsonl/csv file, or a folder of <split>.<ext> files.

    Rows are grouped by query. Example, for `emb export st` output:
    emb import hf out/ --gold gold --query-column anchor --pos-column positive --neg-column negative
    """
    from embed_lab.io.hf import Columns
    from embed_lab.io.hf import import_hf as build

    columns = Columns(
        query_column,
        pos_column,
        neg_column or "neg",
        id_column or "id",
        neg_required=neg_column is not None,
        id_required=id_column is not None,
    )
    names = split_names(kwargs["train_name"], kwargs["dev_name"], kwargs["gold_name"])
    run_import(lambda _folder: build(source, names, columns), source=source, **kwargs)


@click.command("export")
@click.argument("format_name", metavar="FORMAT", type=click.Choice(["beir", "st"]))
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default="data",
    show_default=True,
)
@click.option("--force", is_flag=True, help="Write into OUT even when it is not empty.")
def export_command(format_name: str, out: Path, data_dir: Path, force: bool) -> None:
    """Write the lab's splits to OUT as FORMAT.

    \b
    beir  corpus.jsonl, queries.jsonl, qrels/{train,dev,test}.tsv (grade or 1; negatives 0);
          the corpus is data/corpus.jsonl plus every passage not in it.
          `emb import beir OUT` gives back the same splits.
    st    {train,dev,gold}.parquet with anchor, positive[, negative]: one row per positive,
          the rows sentence-transformers trains on (the lab's own pairing).
    """
    from embed_lab.io.export import export_beir, export_st
    from embed_lab.io.records import ImportFailure

    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise click.ClickException(f"{out}: exists and is not empty; pass --force to write into it")
    try:
        lines = (export_beir if format_name == "beir" else export_st)(data_dir, out)
    except ImportFailure as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line)
