"""Turn split scans into findings: what is wrong, how often, and where (first few examples)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from embed_lab.check.digests import DigestIndex, overlap
from embed_lab.check.kinds import severity
from embed_lab.check.scan import SplitScan


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Example:
    """Where one occurrence is; `show`/`digest` say which text describe.py quotes as detail."""

    locations: list[Location]
    detail: str = ""
    show: str = "none"  # "query", "pair" (query and document) or "document"
    digest: int | None = None


@dataclass
class Finding:
    kind: str
    splits: tuple[str, ...]
    count: int
    message: str
    examples: list[Example] = field(default_factory=list)
    fails: bool = False

    @property
    def severity(self) -> str:
        return severity(self.kind)


def split_findings(scan: SplitScan) -> list[Finding]:
    """Findings within one split."""
    name, file = scan.name, scan.file_name
    if not scan.present:
        return [Finding("missing-split", (name,), 1, f"{scan.path} does not exist")]
    found: list[Finding] = []
    if scan.stats.invalid_rows:
        found.append(
            Finding(
                "schema",
                (name,),
                scan.stats.invalid_rows,
                f"{scan.stats.invalid_rows} line(s) of {file} are invalid",
                [Example([Location(file, p.line)], p.reason) for p in scan.problems],
            )
        )
    if scan.lines == scan.stats.blank_lines:
        found.append(Finding("empty-split", (name,), 1, f"{file} has no rows"))
    if scan.stats.blank_lines:
        found.append(
            Finding(
                "blank-line",
                (name,),
                scan.stats.blank_lines,
                f"{scan.stats.blank_lines} blank line(s) in {file} (skipped)",
                [Example([Location(file, line)]) for line in scan.blank_lines],
            )
        )
    found += _repeats("duplicate-query", scan, scan.queries, "row(s) repeat an earlier query")
    found += _repeats("duplicate-pair", scan, scan.pairs, "(query, positive) pair(s) repeated")
    false_negatives = overlap(scan.pairs, scan.negative_pairs)
    if len(false_negatives):
        found.append(
            Finding(
                "false-negative",
                (name,),
                len(false_negatives),
                f"{len(false_negatives)} (query, document) pair(s) of {file} are both "
                "positive and negative",
                [
                    Example([Location(file, pos), Location(file, neg)], show="pair", digest=d)
                    for d, pos, neg in false_negatives.earliest(scan.max_examples)
                ],
            )
        )
    if scan.stats.short_texts:
        found.append(
            Finding(
                "short-text",
                (name,),
                scan.stats.short_texts,
                f"{scan.stats.short_texts} empty or very short text(s) in {file}",
                [
                    Example([Location(file, short.line)], f"{short.role} is very short")
                    for short in scan.short_texts
                ],
            )
        )
    return found


def _repeats(kind: str, scan: SplitScan, index: DigestIndex, what: str) -> list[Finding]:
    if not index.repeats:
        return []
    file = scan.file_name
    show = "query" if kind == "duplicate-query" else "pair"
    examples = [
        Example(
            [Location(file, repeat.line), Location(file, repeat.first_line)],
            show=show,
            digest=repeat.digest,
        )
        for repeat in index.examples
    ]
    message = f"{index.repeats} {what} in {file}"
    return [Finding(kind, (scan.name,), index.repeats, message, examples)]


def cross_split_findings(scans: list[SplitScan]) -> list[Finding]:
    """Leaks between every two present splits, in order (train→dev, train→gold, dev→gold)."""
    found: list[Finding] = []
    present = [scan for scan in scans if scan.present]
    for earlier, later in combinations(present, 2):
        for kind, attribute, what, show in (
            ("query-leak", "queries", "query(ies)", "query"),
            ("pair-leak", "pairs", "(query, positive) pair(s)", "pair"),
            ("shared-document", "documents", "document(s)", "document"),
        ):
            common = overlap(getattr(earlier, attribute), getattr(later, attribute))
            if not len(common):
                continue
            found.append(
                Finding(
                    kind,
                    (earlier.name, later.name),
                    len(common),
                    f"{len(common)} {what} of {later.file_name} also in {earlier.file_name}",
                    [
                        Example(
                            [Location(later.file_name, b), Location(earlier.file_name, a)],
                            show=show,
                            digest=digest,
                        )
                        for digest, a, b in common.earliest(later.max_examples)
                    ],
                )
            )
    return found
