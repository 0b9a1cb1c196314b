"""Run --fix: check, repair what the check reports, swap the files in, check again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from embed_lab.check.errors import CheckError
from embed_lab.check.findings import Finding
from embed_lab.check.fix.plan import (
    Drop,
    Keep,
    Outcome,
    Replace,
    Unresolved,
    corpus_outcomes,
    split_outcomes,
)
from embed_lab.check.fix.publish import (
    MINED,
    Staged,
    backup_dir,
    discard,
    move_mined,
    swap,
    temp_file,
)
from embed_lab.check.fix.records import Tally, count, records_file, report_record, staged_report
from embed_lab.check.fix.rows import Cause
from embed_lab.check.fix.targets import GOLD, Targets, find_targets, repairable
from embed_lab.check.kinds import FINDING_KINDS
from embed_lab.check.normalize import text_digest
from embed_lab.check.runner import SPLITS, CheckOptions, CheckResult, run_check

Lines = Iterator[tuple[int, bytes, Outcome]]


class FixError(CheckError):
    """A repair that would do harm (a split left without rows): nothing is written."""


@dataclass(frozen=True)
class FileChange:
    file: str
    lines_before: int
    lines_after: int


@dataclass
class FixResult:
    data_dir: Path
    dry_run: bool
    before: CheckResult
    after: CheckResult | None = None  # None for a dry run
    tallies: dict[Cause, Tally] = field(default_factory=dict)
    files: list[FileChange] = field(default_factory=list)
    backup: Path | None = None
    number: int | None = None  # 1 for the first fix of this data folder, 2, ...
    mined: list[str] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    @property
    def check(self) -> CheckResult:
        return self.after or self.before

    @property
    def exit_code(self) -> int:
        return self.check.exit_code


def run_fix(
    data_dir: Path,
    options: CheckOptions | None = None,
    *,
    dry_run: bool = False,
    near_dup_threshold: float | None = None,
) -> FixResult:
    """Repair DATA_DIR's failing findings that --fix repairs (see targets.py); gold is never
    written. Raises CheckError when the check cannot run, FixError when a repair would harm."""
    options = options or CheckOptions()
    before = run_check(data_dir, options)
    near = _near_leaks(before, near_dup_threshold) if near_dup_threshold is not None else []
    targets = find_targets(before, near)
    result = FixResult(data_dir, dry_run, before)
    corpus_unresolved: list[Unresolved] = []
    files = _outcomes(targets, corpus_unresolved)
    with _unchanged_on_error(data_dir), ExitStack() as stack:
        records = None if dry_run else stack.enter_context(records_file(data_dir))
        staged = _stage(data_dir, files, records, result, before)
        if dry_run or not staged:
            result.unresolved = _unresolved(before, corpus_unresolved, after=False)
            return result
        try:
            staged.append(staged_report(data_dir, records))
            result.backup, result.number = backup_dir(data_dir)
            swap(staged, result.backup)
        finally:
            discard(staged)  # the temporary files not swapped in
    try:
        result.mined = move_mined(data_dir, result.backup)  # mined from the old splits
    except OSError as error:
        raise FixError(
            f"{data_dir / MINED}: {error.strerror or error}; the splits were repaired, but move "
            "the mined files away yourself: they were mined from the old splits"
        ) from None
    result.after = run_check(data_dir, options)
    result.unresolved = _unresolved(result.after, corpus_unresolved, after=True)
    return result


def _order(cause: Cause) -> tuple[list[int], int]:
    """Causes in the check's order: by splits (train, dev, gold, corpus), then kind."""
    kind, splits = cause
    places = [*SPLITS, "corpus"]
    return [places.index(split) for split in splits], list(FINDING_KINDS).index(kind)


@contextmanager
def _unchanged_on_error(data_dir: Path) -> Iterator[None]:
    """A write that fails (a full disk, say) ends the fix in one line; the data is as it was."""
    try:
        yield
    except OSError as error:
        where = error.filename or data_dir
        raise FixError(
            f"{where}: {error.strerror or error}; nothing was changed (--fix writes all or nothing)"
        ) from None


def _outcomes(targets: Targets, unresolved: list[Unresolved]) -> dict[str, Lines]:
    files: dict[str, Lines] = {
        target.path.name: split_outcomes(target) for target in targets.splits.values()
    }
    if targets.corpus is not None:
        files[targets.corpus.name] = corpus_outcomes(targets.corpus, unresolved)
    return files


def _stage(
    data_dir: Path,
    files: dict[str, Lines],
    records: IO[bytes] | None,
    result: FixResult,
    before: CheckResult,
) -> list[Staged]:
    """Write each repaired file to a temporary file (none for a dry run); the unchanged ones
    are dropped. A failure removes every temporary file."""
    rows = {scan.file_name: scan.stats.rows for scan in before.scans}
    staged: list[Staged] = []
    try:
        for name, lines in files.items():
            temp = None if records is None else temp_file(data_dir, name)
            if temp is not None:
                staged.append(Staged(data_dir / name, temp))
            with ExitStack() as stack:
                out = None if temp is None else stack.enter_context(temp.open("wb"))
                change, dropped = _rewrite(name, lines, out, records, result.tallies)
            if rows.get(name, 0) and dropped >= rows[name]:
                raise FixError(
                    f"{data_dir / name}: --fix would remove every row (each leaks or repeats); "
                    "nothing was written"
                )
            if change is None and temp is not None:
                staged.pop().temp.unlink()
            elif change is not None:
                result.files.append(change)
    except BaseException:
        discard(staged)
        raise
    result.tallies = dict(sorted(result.tallies.items(), key=lambda item: _order(item[0])))
    return staged


def _rewrite(
    name: str,
    lines: Lines,
    out: IO[bytes] | None,
    records: IO[bytes] | None,
    tallies: dict[Cause, Tally],
) -> tuple[FileChange | None, int]:
    """Write the file's lines as their outcomes say, and a fix-report record per changed line.
    Returns the change (None when no line changed) and the number of lines dropped."""
    before = after = dropped = 0
    changed = False
    for line, raw, outcome in lines:
        before += 1
        if isinstance(outcome, Keep):
            data = raw if raw.endswith(b"\n") else raw + b"\n"
        else:
            changed = True
            count(outcome, tallies)
            if records is not None:
                records.write(orjson.dumps(report_record(name, line, raw, outcome)) + b"\n")
            data = orjson.dumps(outcome.row) + b"\n" if isinstance(outcome, Replace) else b""
            dropped += isinstance(outcome, Drop)
        if data:
            after += 1
            if out is not None:
                out.write(data)
    return (FileChange(name, before, after) if changed else None), dropped


def _near_leaks(result: CheckResult, threshold: float) -> list[tuple[str, int, Cause]]:
    """Queries of train or dev that are near-duplicates of a later split's query."""
    from embed_lab.check.neardup import find_near_duplicates

    order = {split: index for index, split in enumerate(SPLITS)}
    present = [(scan.name, scan.path) for scan in result.scans if scan.present]
    leaks = []
    for pair in find_near_duplicates(present, threshold):
        earlier, later = sorted((pair.first, pair.second), key=lambda ref: order[ref.split])
        if earlier.split != later.split:
            cause = ("near-duplicate", (earlier.split, later.split))
            leaks.append((earlier.split, text_digest(earlier.text), cause))
    return leaks


def _unresolved(result: CheckResult, corpus: list[Unresolved], *, after: bool) -> list[Unresolved]:
    """The failing findings --fix does not repair (or, after it, left), with the reason."""
    found = list(corpus)
    for finding in result.findings:
        if finding.fails and not (finding.kind == "duplicate-id" and corpus):
            reason = _reason(finding, after)
            if reason is not None:
                found.append(Unresolved(finding.kind, finding.splits, reason))
    return found


def _reason(finding: Finding, after: bool) -> str | None:
    if finding.splits == (GOLD,):
        return (
            f"{finding.message}: --fix never changes {GOLD}.jsonl (results are compared on it); "
            f"repair it by hand, or --allow {finding.kind}"
        )
    if repairable(finding):
        return f"{finding.message}: still there after --fix" if after else None
    if finding.kind == "near-duplicate":
        return f"{finding.message}: --fix removes near-duplicate leaks only with --fix-near-dup"
    return f"{finding.message}: --fix does not repair {finding.kind}"
