"""What happens to each line of a file: kept as it is, replaced by a repaired row, or dropped.

Lines the contract refuses, and blank lines, are kept verbatim (--fix does not repair them;
the check still reports them). A split is read up to three times: the query of every row, the
rows of repeated queries, then every line in order as it is written.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embed_lab.check.fix.rows import (
    Cause,
    Removed,
    RowRules,
    digest,
    drop_texts,
    merge_rows,
)
from embed_lab.check.fix.targets import SplitTargets
from embed_lab.check.normalize import digest_bytes
from embed_lab.check.reader import BLANK, contract, decode, read_blocks, read_lines


@dataclass(frozen=True)
class Keep:
    pass


@dataclass(frozen=True)
class Replace:
    row: dict[str, Any]
    removed: list[Removed] = field(default_factory=list)
    merged_from: list[int] = field(default_factory=list)  # lines folded into this one


@dataclass(frozen=True)
class Drop:
    cause: Cause
    into: int | None = None  # the line it was merged into, or that holds the same document


Outcome = Keep | Replace | Drop
KEEP = Keep()


@dataclass(frozen=True)
class Unresolved:
    """A finding --fix leaves, with the reason (file:line where it helps)."""

    kind: str
    splits: tuple[str, ...]
    reason: str


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as file:
        yield from enumerate(file, 1)


def _row(raw: bytes, line: int) -> dict[str, Any] | None:
    """The line's object when it fits the contract as a split row, else None."""
    try:
        value = decode(contract.strip_bom(raw) if line == 1 else raw)
        if value is BLANK:
            return None
        contract.split_row(value)
    except contract.ContractError:
        return None
    return value


def split_outcomes(targets: SplitTargets) -> Iterator[tuple[int, bytes, Outcome]]:
    """(line, raw line, outcome) for every line of the split, in order."""
    rules = targets.rules()
    groups = _group_outcomes(targets, rules) if targets.needs_groups else {}
    for line, raw in numbered_lines(targets.path):
        if line in groups:
            yield line, raw, groups[line]
            continue
        row = _row(raw, line)
        if row is None:
            yield line, raw, KEEP
            continue
        query_digest = digest(row["query"])
        if query_digest in targets.removed_queries:
            yield line, raw, Drop(targets.removed_queries[query_digest])
            continue
        edited, removed = drop_texts(row, query_digest, rules, set())
        yield line, raw, _edited(edited, removed, [])


def _edited(row: dict[str, Any], removed: list[Removed], merged_from: list[int]) -> Outcome:
    if not row["pos"]:  # every positive went: the line goes, for the last positive's reason
        return Drop([item for item in removed if item.role == "pos"][-1].cause)
    return Replace(row, removed, merged_from) if removed or merged_from else KEEP


def _group_outcomes(targets: SplitTargets, rules: RowRules) -> dict[int, Outcome]:
    """The outcome of every line whose query is on several lines of the split."""
    queries, lines = array("Q"), array("I")
    for block in read_blocks(targets.path):
        for line, query, _, _ in block.rows:
            queries.append(digest(query))
            lines.append(line)
    digests = np.frombuffer(queries, dtype=np.uint64) if queries else np.empty(0, np.uint64)
    values, counts = np.unique(digests, return_counts=True)
    repeated = set(values[counts > 1].tolist())
    by_query: dict[int, list[int]] = {}
    for query_digest, line in zip(digests.tolist(), lines, strict=True):
        if query_digest in repeated:
            by_query.setdefault(query_digest, []).append(line)
    raws = read_lines(targets.path, {line for group in by_query.values() for line in group})
    outcomes: dict[int, Outcome] = {}
    for query_digest, group in by_query.items():
        rows = [decode(raws[line]) for line in group]
        outcomes |= _one_query(query_digest, group, rows, targets, rules)
    return outcomes


def _one_query(
    query_digest: int,
    lines: list[int],
    rows: list[dict[str, Any]],
    targets: SplitTargets,
    rules: RowRules,
) -> dict[int, Outcome]:
    """Outcomes of the rows of one query: merged into the first (duplicate-query), or each
    without the positives an earlier row of the query already lists."""
    if query_digest in targets.removed_queries:
        return dict.fromkeys(lines, Drop(targets.removed_queries[query_digest]))
    seen: set[int] = set()
    if targets.merge:
        merged = merge_rows(rows)
        edited, removed = drop_texts(merged, query_digest, rules, seen)
        head = _edited(edited, removed, lines[1:])
        later = Drop(("duplicate-query", (targets.split,)), into=lines[0])
        return {lines[0]: head} | dict.fromkeys(
            lines[1:], head if isinstance(head, Drop) else later
        )
    outcomes = {}
    for line, row in zip(lines, rows, strict=True):
        edited, removed = drop_texts(row, query_digest, rules, seen)
        outcomes[line] = _edited(edited, removed, [])
    return outcomes


def corpus_outcomes(
    path: Path, unresolved: list[Unresolved]
) -> Iterator[tuple[int, bytes, Outcome]]:
    """Corpus lines whose _id and document text repeat an earlier line's are dropped; the
    same _id with another text stays (added to `unresolved`): which text is right is the
    user's call."""
    ids, lines = array("Q"), array("I")
    for block in read_blocks(path, parse_row=contract.corpus_row):
        for line, doc_id, _ in block.rows:
            ids.append(_id_digest(doc_id))
            lines.append(line)
    digests = np.frombuffer(ids, dtype=np.uint64) if ids else np.empty(0, np.uint64)
    values, counts = np.unique(digests, return_counts=True)
    repeated = set(values[counts > 1].tolist())
    first: dict[str, tuple[int, str]] = {}
    cause = ("duplicate-id", ("corpus",))
    for line, raw in numbered_lines(path):
        document = _document(raw, line) if repeated else None
        if document is None or _id_digest(document[0]) not in repeated:
            yield line, raw, KEEP
            continue
        doc_id, text = document
        if doc_id not in first:
            first[doc_id] = (line, text)
            yield line, raw, KEEP
        elif first[doc_id][1] == text:
            yield line, raw, Drop(cause, into=first[doc_id][0])
        else:
            reason = (
                f"{path.name}:{line}: _id {doc_id!r} is also on line {first[doc_id][0]} with "
                "another text; keep the right one by hand (--fix does not choose)"
            )
            unresolved.append(Unresolved("duplicate-id", ("corpus",), reason))
            yield line, raw, KEEP


def _id_digest(doc_id: str) -> int:
    """The check's digest of a corpus _id (exact, not normalised)."""
    return int.from_bytes(digest_bytes(doc_id), sys.byteorder)


def _document(raw: bytes, line: int) -> tuple[str, str] | None:
    try:
        value = decode(contract.strip_bom(raw) if line == 1 else raw)
        return None if value is BLANK else contract.corpus_row(value)
    except contract.ContractError:
        return None
