"""data/fix-report.jsonl: one record per line --fix changed, with the line as it was; and the
tallies of what each finding's repair did."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from embed_lab.check.fix.plan import Drop, Replace
from embed_lab.check.fix.publish import REPORT, Staged, temp_file
from embed_lab.check.fix.rows import Cause
from embed_lab.check.reader import contract


@dataclass
class Tally:
    """What one finding's repairs did."""

    removed_lines: int = 0
    merged_lines: int = 0
    edited_lines: int = 0
    removed_positives: int = 0
    removed_negatives: int = 0


def count(outcome: Replace | Drop, tallies: dict[Cause, Tally]) -> None:
    if isinstance(outcome, Drop):
        tally = tallies.setdefault(outcome.cause, Tally())
        if outcome.cause[0] == "duplicate-query" and outcome.into is not None:
            tally.merged_lines += 1
        else:
            tally.removed_lines += 1
        return
    by_cause: dict[Cause, Counter[str]] = {}
    for item in outcome.removed:
        by_cause.setdefault(item.cause, Counter())[item.role] += 1
    for cause, roles in by_cause.items():
        tally = tallies.setdefault(cause, Tally())
        tally.edited_lines += 1
        tally.removed_positives += roles["pos"]
        tally.removed_negatives += roles["neg"]


def report_record(name: str, line: int, raw: bytes, outcome: Replace | Drop) -> dict[str, Any]:
    """One line of data/fix-report.jsonl: what happened to a line, why, and the line itself."""
    text = (contract.strip_bom(raw) if line == 1 else raw).decode("utf-8").rstrip("\r\n")
    record: dict[str, Any] = {"file": name, "line": line}
    if isinstance(outcome, Drop):
        record["action"] = "merged" if outcome.cause[0] == "duplicate-query" else "removed"
        record |= _cause(outcome.cause)
        if outcome.into is not None:
            record["into"] = outcome.into
    else:
        record["action"] = "edited"
        if outcome.merged_from:
            record["merged_from"] = outcome.merged_from
        record["removed"] = [
            {**_cause(item.cause), "role": item.role, "text": item.text} for item in outcome.removed
        ]
    return record | {"line_text": text}


def _cause(cause: Cause) -> dict[str, Any]:
    return {"kind": cause[0], "splits": list(cause[1])}


@contextmanager
def records_file(data_dir: Path) -> Iterator[IO[bytes]]:
    path = temp_file(data_dir, "records")
    try:
        with path.open("w+b") as file:
            yield file
    finally:
        path.unlink(missing_ok=True)


def staged_report(data_dir: Path, records: IO[bytes]) -> Staged:
    """The fix report with this fix's records appended (a new file, swapped in like the rest)."""
    report, temp = data_dir / REPORT, temp_file(data_dir, REPORT)
    with temp.open("wb") as out:
        if report.is_file():
            with report.open("rb") as old:
                shutil.copyfileobj(old, out)
        records.seek(0)
        shutil.copyfileobj(records, out)
    return Staged(report, temp)
