"""What --fix did (or, with --dry-run, would do): lines for people, a "fix" object for --json.

JSON (`emb check --fix --json`): the check's document (embed_lab.check.report, after the fix;
before it for a dry run or when nothing changed) with one more key::

    "fix": {
      "dry_run": bool,
      "changed": bool,                 # files were rewritten
      "number": int | null,            # 1 for the data folder's first fix, 2, ...
      "files": [{"file": str, "lines_before": int, "lines_after": int}],
      "actions": [{"kind": str, "splits": [str], "removed_lines": int, "merged_lines": int,
                   "edited_lines": int, "removed_positives": int, "removed_negatives": int}],
      "before": {"failing": int, "findings": [{"kind": str, "splits": [str], "count": int}]},
      "originals": str | null,         # the folder holding the files as they were
      "report": str | null,            # data/fix-report.jsonl
      "mined_moved": [str],            # data/mined/ files moved to the originals' folder
      "unresolved": [{"kind": str, "splits": [str], "reason": str}]
    }
"""

from __future__ import annotations

from typing import Any

from embed_lab.check.fix.publish import REPORT
from embed_lab.check.fix.records import Tally
from embed_lab.check.fix.rows import Cause
from embed_lab.check.fix.run import FixResult
from embed_lab.check.fix.targets import repairable
from embed_lab.check.report import to_json
from embed_lab.check.runner import CheckResult


def to_fix_json(result: FixResult) -> dict[str, Any]:
    changed = result.after is not None
    fix = {
        "dry_run": result.dry_run,
        "changed": changed,
        "number": result.number,
        "files": [vars(change) for change in result.files],
        "actions": [
            {"kind": kind, "splits": list(splits), **vars(tally)}
            for (kind, splits), tally in result.tallies.items()
        ],
        "before": {
            "failing": sum(finding.fails for finding in result.before.findings),
            "findings": [
                {"kind": f.kind, "splits": list(f.splits), "count": f.count}
                for f in result.before.findings
                if f.fails
            ],
        },
        "originals": None if result.backup is None else str(result.backup),
        "report": str(result.data_dir / REPORT) if changed else None,
        "mined_moved": result.mined,
        "unresolved": [
            {"kind": u.kind, "splits": list(u.splits), "reason": u.reason}
            for u in result.unresolved
        ],
    }
    return to_json(result.check) | {"fix": fix}


def fix_lines(result: FixResult) -> list[str]:
    """What was done (or would be), one line per file and per finding repaired."""
    if not result.files:
        return ["--fix: nothing to repair"]
    verb = "would rewrite" if result.dry_run else "rewrote"
    files = ", ".join(
        f"{change.file} ({change.lines_before:,} → {change.lines_after:,} lines)"
        for change in result.files
    )
    lines = [f"--fix {verb} {files}"]
    lines += [f"  {_label(cause)}: {_done(tally)}" for cause, tally in result.tallies.items()]
    if result.dry_run:
        lines.append("--dry-run: nothing was written")
        return lines
    lines.append(
        f"originals kept in {result.backup}/; each removed or merged line, verbatim, with the "
        f"finding that removed it: {result.data_dir / REPORT}"
    )
    if result.mined:
        lines.append(
            f"mined from the old splits, moved to {result.backup}/: {', '.join(result.mined)} "
            "(the next run mines again)"
        )
    return lines


def unresolved_lines(result: FixResult) -> list[str]:
    return [f"not repaired: {'→'.join(u.splits)} {u.kind}: {u.reason}" for u in result.unresolved]


def repair_hint(result: CheckResult, alternative: str = "") -> str | None:
    """The command that repairs a failing check, when --fix repairs some of what fails."""
    kinds = sorted({f.kind for f in result.findings if f.fails and repairable(f)})
    if not kinds:
        return None
    return (
        f"repair: `emb check --fix {result.data_dir}`{alternative} repairs {', '.join(kinds)}; "
        "gold is never changed, the originals are kept (add --dry-run to see what it would do)"
    )


def _label(cause: Cause) -> str:
    kind, splits = cause
    return f"{kind} ({'→'.join(splits)})"


def _done(tally: Tally) -> str:
    parts = []
    if tally.removed_lines:
        parts.append(f"{tally.removed_lines:,} line(s) removed")
    if tally.merged_lines:
        parts.append(f"{tally.merged_lines:,} line(s) merged into an earlier line of their query")
    if tally.removed_positives:
        parts.append(
            f"{tally.removed_positives:,} positive(s) removed from {tally.edited_lines:,} line(s)"
        )
    if tally.removed_negatives:
        where = "" if tally.removed_positives else f" from {tally.edited_lines:,} line(s)"
        parts.append(f"{tally.removed_negatives:,} negative(s) removed{where}")
    return ", ".join(parts)
