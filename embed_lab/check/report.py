"""Render a CheckResult as a rich table for people or as JSON for machines.

JSON document (`emb check --json`), schema_version 1::

    {
      "schema_version": 1,
      "data_dir": str,
      "ok": bool,                      # no finding fails
      "exit_code": 0 | 1,
      "options": {"strict": bool, "allow": [str], "near_dup": bool, "threshold": float,
                  "tokenizer": str | null, "min_chars": int},
      "splits": [{
        "name": "train" | "dev" | "gold", "file": str, "present": bool, "lines": int,
        "rows": int,                   # rows that fit the schema
        "invalid_rows": int, "blank_lines": int, "distinct_queries": int,
        "pos_per_row": Summary | null, "neg_per_row": Summary | null,
        "chars": {"query": Summary | null, "pos": Summary | null, "neg": Summary | null},
        "tokens": {"query": ..., "pos": ..., "neg": ...} | null,   # only with --tokenizer
        "empty_texts": int, "short_texts": int
      }],
      "corpus": null | {              # data/corpus.jsonl, when present
        "file": str, "lines": int,
        "documents": int,              # lines that fit the contract
        "invalid_rows": int, "blank_lines": int, "distinct_ids": int, "distinct_texts": int,
        "empty_documents": int, "chars": Summary | null
      },
      "findings": [{
        "kind": str,                   # one of embed_lab.check.kinds.FINDING_KINDS
        "severity": "error" | "warning",
        "fails": bool,                 # after --strict / --allow
        "splits": [str],               # one split, [earlier, later] for cross-split kinds,
                                       # or ["corpus"]
        "count": int,
        "message": str,
        "examples": [{"locations": ["train.jsonl:12", ...], "detail": str}]
      }],
      "summary": {"failing": int, "warnings": int, "errors": int}
    }

    Summary = {"min": int, "median": int, "p95": int, "max": int, "mean": float}

Example locations come first-occurrence-last: the offending line, then where it was seen first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from embed_lab.check.findings import Finding
from embed_lab.check.kinds import ERROR
from embed_lab.check.runner import CheckResult
from embed_lab.check.stats import TEXT_ROLES, SplitStats

JSON_SCHEMA_VERSION = 1


def to_json(result: CheckResult) -> dict[str, Any]:
    options = result.options
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "data_dir": str(result.data_dir),
        "ok": result.ok,
        "exit_code": result.exit_code,
        "options": {
            "strict": options.strict,
            "allow": sorted(options.allow),
            "near_dup": options.near_dup,
            "threshold": options.threshold,
            "tokenizer": None if options.tokenizer is None else str(options.tokenizer),
            "min_chars": options.min_chars,
        },
        "splits": [
            {
                "name": scan.name,
                "file": scan.file_name,
                "present": scan.present,
                "lines": scan.lines,
                **scan.stats.as_dict(),
            }
            for scan in result.scans
        ],
        "corpus": result.corpus.as_dict() if result.corpus.present else None,
        "findings": [
            {
                "kind": finding.kind,
                "severity": finding.severity,
                "fails": finding.fails,
                "splits": list(finding.splits),
                "count": finding.count,
                "message": finding.message,
                "examples": [
                    {
                        "locations": [str(location) for location in example.locations],
                        "detail": example.detail,
                    }
                    for example in finding.examples
                ],
            }
            for finding in result.findings
        ],
        "summary": {
            "failing": sum(finding.fails for finding in result.findings),
            "errors": sum(finding.severity == ERROR for finding in result.findings),
            "warnings": sum(finding.severity != ERROR for finding in result.findings),
        },
    }


def _summary_cell(summary: dict[str, float] | None) -> str:
    if summary is None:
        return "-"
    return f"{summary['min']}/{summary['median']}/{summary['p95']}/{summary['max']}"


def _splits_table(result: CheckResult) -> Table:
    """One column per split, one row per figure, so it fits a narrow terminal."""
    table = Table(title="Splits", title_justify="left", caption_justify="left")
    table.caption = "lengths and counts per row: min/median/p95/max"
    table.add_column("")
    for scan in result.scans:
        table.add_column(scan.file_name, justify="right")

    def add(label: str, cell: Callable[[SplitStats], str]) -> None:
        table.add_row(
            label, *(cell(scan.stats) if scan.present else "missing" for scan in result.scans)
        )

    add("rows", lambda stats: f"{stats.rows:,}")
    add("distinct queries", lambda stats: f"{stats.distinct_queries:,}")
    add("positives/row", lambda stats: _summary_cell(stats.pos_per_row.summary()))
    add("negatives/row", lambda stats: _summary_cell(stats.neg_per_row.summary()))
    for role in TEXT_ROLES:
        add(f"{role} chars", lambda stats, role=role: _summary_cell(stats.chars[role].summary()))
    if result.options.tokenizer is not None:
        for role in TEXT_ROLES:
            add(
                f"{role} tokens",
                lambda stats, role=role: (
                    _summary_cell(stats.tokens[role].summary()) if stats.tokens else "-"
                ),
            )
    add("empty / short texts", lambda stats: f"{stats.empty_texts:,} / {stats.short_texts:,}")
    add("invalid / blank lines", lambda stats: f"{stats.invalid_rows:,} / {stats.blank_lines:,}")
    return table


def _corpus_line(result: CheckResult) -> Text:
    corpus = result.corpus
    return Text(
        f"{corpus.file_name}: {corpus.documents:,} documents, {len(corpus.ids):,} distinct ids, "
        f"{len(corpus.texts):,} distinct texts, text chars "
        f"{_summary_cell(corpus.chars.summary())} (min/median/p95/max), "
        f"{corpus.empty_documents:,} empty, {corpus.invalid_rows:,} invalid / "
        f"{corpus.blank_lines:,} blank lines"
    )


def _status(finding: Finding) -> Text:
    if finding.fails:
        return Text("FAIL", style="bold red")
    if finding.severity == ERROR:
        return Text("allowed", style="yellow")
    return Text("warn", style="yellow")


def _findings_table(result: CheckResult) -> Table:
    table = Table(title="Findings", title_justify="left")
    table.add_column("")
    table.add_column("kind")
    table.add_column("splits")
    table.add_column("count", justify="right")
    table.add_column("what")
    for finding in result.findings:
        splits = "→".join(finding.splits)
        table.add_row(_status(finding), finding.kind, splits, f"{finding.count:,}", finding.message)
    return table


def _examples(result: CheckResult) -> Text:
    text = Text()
    for finding in result.findings:
        if not finding.examples:
            continue
        text.append(f"{finding.kind} ({'→'.join(finding.splits)})\n", style="bold")
        for example in finding.examples:
            head, *also = dict.fromkeys(str(location) for location in example.locations)
            text.append(f"  {head}")
            if also:
                text.append(f" (also {', '.join(also)})", style="dim")
            if example.detail:
                text.append(f": {example.detail}")
            text.append("\n")
    return text


def render(result: CheckResult, console: Console) -> None:
    console.print(_splits_table(result))
    if result.corpus.present:
        console.print(_corpus_line(result))
    if result.findings:
        console.print(_findings_table(result))
        console.print(_examples(result), end="")
    failing = sum(finding.fails for finding in result.findings)
    if failing:
        console.print(Text(f"✗ {failing} finding(s) fail the check (exit 1)", style="bold red"))
    else:
        note = f", {len(result.findings)} finding(s) that do not fail" if result.findings else ""
        console.print(Text(f"✓ {result.data_dir} passes{note}", style="bold green"))
