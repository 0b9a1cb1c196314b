"""What --fix repairs, read off the check's own result: the failing findings of the kinds it can
repair, with the digests the check found them by (so it repairs exactly what the check reports).
Gold is never a target: it is what results are compared on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embed_lab.check.digests import overlap
from embed_lab.check.findings import Finding
from embed_lab.check.fix.rows import Cause, RowRules
from embed_lab.check.runner import SPLITS, CheckResult
from embed_lab.check.scan import SplitScan

GOLD = "gold"
REPAIRED_IN_SPLITS = frozenset(
    {"duplicate-query", "duplicate-pair", "false-negative", "query-leak", "pair-leak"}
)


def repairable(finding: Finding) -> bool:
    """Whether --fix repairs this kind of finding where it is (never in gold)."""
    if finding.kind == "duplicate-id":
        return True
    return finding.kind in REPAIRED_IN_SPLITS and finding.splits[0] != GOLD


@dataclass
class SplitTargets:
    """The repairs of one split (train or dev)."""

    split: str
    path: Path
    merge: bool = False  # duplicate-query: rows of one query become one
    dedupe_pairs: bool = False
    false_negatives: set[int] = field(default_factory=set)
    leaked_pairs: dict[int, str] = field(default_factory=dict)
    removed_queries: dict[int, Cause] = field(default_factory=dict)  # query digest -> cause

    def rules(self) -> RowRules:
        return RowRules(
            self.split, self.dedupe_pairs, frozenset(self.false_negatives), self.leaked_pairs
        )

    @property
    def needs_groups(self) -> bool:
        """Rows of one query must be seen together (merged, or their repeats found)."""
        return self.merge or self.dedupe_pairs

    def __bool__(self) -> bool:
        return bool(
            self.needs_groups or self.false_negatives or self.leaked_pairs or self.removed_queries
        )


@dataclass
class Targets:
    splits: dict[str, SplitTargets]
    corpus: Path | None = None  # duplicate-id: corpus lines repeated with the same text collapse


def find_targets(result: CheckResult, near_leaks: list[tuple[str, int, Cause]]) -> Targets:
    """Targets for every failing finding --fix repairs; `near_leaks` (split, query digest,
    cause) adds near-duplicate queries to remove."""
    scans = {scan.name: scan for scan in result.scans}
    splits = {
        name: SplitTargets(name, scans[name].path)
        for name in SPLITS
        if name != GOLD and scans[name].present
    }
    corpus = None
    for finding in result.findings:
        if not finding.fails:
            continue
        if finding.kind == "duplicate-id":
            corpus = result.corpus.path
        if finding.kind not in REPAIRED_IN_SPLITS or finding.splits[0] not in splits:
            continue
        target = splits[finding.splits[0]]
        _add(target, finding.kind, [scans[name] for name in finding.splits])
    for split, query_digest, cause in near_leaks:
        if split in splits:
            splits[split].removed_queries.setdefault(query_digest, cause)
    return Targets({name: target for name, target in splits.items() if target}, corpus)


def _add(target: SplitTargets, kind: str, scans: list[SplitScan]) -> None:
    if kind == "duplicate-query":
        target.merge = True
    elif kind == "duplicate-pair":
        target.dedupe_pairs = True
    elif kind == "false-negative":
        common = overlap(scans[0].pairs, scans[0].negative_pairs)
        target.false_negatives.update(int(d) for d in common.digests)
    elif kind == "query-leak":
        later = scans[1].name
        for d in overlap(scans[0].queries, scans[1].queries).digests:
            # gold outranks dev as the reason: it is the leak that matters most
            if int(d) not in target.removed_queries or later == GOLD:
                target.removed_queries[int(d)] = (kind, (target.split, later))
    elif kind == "pair-leak":
        later = scans[1].name
        for d in overlap(scans[0].pairs, scans[1].pairs).digests:
            if int(d) not in target.leaked_pairs or later == GOLD:
                target.leaked_pairs[int(d)] = later
