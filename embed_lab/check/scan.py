"""One streaming pass over a split: schema problems, digests of every text, statistics."""

from __future__ import annotations

import functools
import hashlib
import math
import multiprocessing
import os
import sys
from array import array
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

import numpy as np

from embed_lab.check.digests import DigestIndex
from embed_lab.check.normalize import DIGEST_BYTES, digest_array, normalize_text, pair_digests
from embed_lab.check.reader import LineProblem, Row, line_aligned_ranges, read_blocks
from embed_lab.check.stats import TEXT_ROLES, Histogram, SplitStats
from embed_lab.check.tokens import load_tokenizer, token_counts

if TYPE_CHECKING:
    from tokenizers import Tokenizer

FLUSH_ROWS = 100_000
PARALLEL_MIN_BYTES = 32 << 20
PART_BYTES = 32 << 20


@dataclass(frozen=True)
class ShortText:
    line: int
    role: str


@dataclass
class SplitScan:
    """Everything later checks need from one split, without its texts."""

    name: str
    path: Path
    present: bool = True
    lines: int = 0
    max_examples: int = 3
    stats: SplitStats = field(default_factory=SplitStats)
    problems: list[LineProblem] = field(default_factory=list)
    blank_lines: list[int] = field(default_factory=list)
    short_texts: list[ShortText] = field(default_factory=list)
    queries: DigestIndex = field(default_factory=DigestIndex)
    pairs: DigestIndex = field(default_factory=DigestIndex)
    negative_pairs: DigestIndex = field(default_factory=DigestIndex)
    documents: DigestIndex = field(default_factory=DigestIndex)

    @property
    def file_name(self) -> str:
        return self.path.name

    def indexes(self) -> tuple[DigestIndex, ...]:
        return (self.queries, self.pairs, self.negative_pairs, self.documents)

    def shift_lines(self, offset: int) -> None:
        """Renumber lines, for a scan of a later part of the file."""
        for index in self.indexes():
            index.shift_lines(offset)
        self.problems = [LineProblem(p.line + offset, p.reason) for p in self.problems]
        self.blank_lines = [line + offset for line in self.blank_lines]
        self.short_texts = [ShortText(s.line + offset, s.role) for s in self.short_texts]

    def merge(self, later: SplitScan) -> None:
        """Fold in the scan of the part of the file right after this one (lines shifted)."""
        self.lines += later.lines
        self.stats.merge(later.stats)
        for mine, theirs in zip(self.indexes(), later.indexes(), strict=True):
            mine.merge(theirs)
        keep_first(self.problems, later.problems, self.max_examples)
        keep_first(self.blank_lines, later.blank_lines, self.max_examples)
        keep_first(self.short_texts, later.short_texts, self.max_examples)


@dataclass
class _Buffers:
    """Per-text digests and line numbers since the last flush (appends are cheap)."""

    query_digests: list[bytes] = field(default_factory=list)
    query_lines: array = field(default_factory=lambda: array("I"))
    pos_digests: list[bytes] = field(default_factory=list)
    pos_query_digests: list[bytes] = field(default_factory=list)
    pos_lines: array = field(default_factory=lambda: array("I"))
    neg_digests: list[bytes] = field(default_factory=list)
    neg_query_digests: list[bytes] = field(default_factory=list)
    neg_lines: array = field(default_factory=lambda: array("I"))
    pos_counts: array = field(default_factory=lambda: array("I"))
    neg_counts: array = field(default_factory=lambda: array("I"))
    lengths: dict[str, array] = field(
        default_factory=lambda: {role: array("I") for role in TEXT_ROLES}
    )


@dataclass(frozen=True)
class ScanSettings:
    min_chars: int = 3
    max_examples: int = 3
    tokenizer: Path | None = None


def scan_split(
    name: str,
    path: Path,
    settings: ScanSettings = ScanSettings(),
    on_bytes: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> SplitScan:
    """Read the split once; `on_bytes(n)` reports progress as the file offset reached."""
    if not path.is_file():
        scan = _empty_scan(name, path, settings)
        scan.present = False
        return scan
    scan = scan_in_parts(
        path,
        functools.partial(_scan_range, name, path, settings),
        functools.partial(_empty_scan, name, path, settings),
        on_bytes,
        workers,
    )
    scan.stats.distinct_queries = len(scan.queries)
    return scan


class PartScan(Protocol):
    lines: int

    def shift_lines(self, offset: int) -> None: ...

    def merge(self, later: Self) -> None: ...


Scan = TypeVar("Scan", bound=PartScan)


def scan_in_parts(
    path: Path,
    scan_range: Callable[..., Scan],
    empty: Callable[[], Scan],
    on_bytes: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> Scan:
    """`scan_range(start, end[, on_bytes])` over the whole file, in parallel when it is large.

    A large file is cut into line-aligned parts scanned by `workers` processes (default: one
    per CPU) and merged in file order, so the result is the same as a single pass.
    """
    workers = workers or available_cpus()
    size = path.stat().st_size
    if workers == 1 or size < PARALLEL_MIN_BYTES:
        return scan_range(0, None, on_bytes)
    ranges = line_aligned_ranges(path, max(workers, math.ceil(size / PART_BYTES)))
    scan = empty()
    pool = ProcessPoolExecutor(max_workers=min(workers, len(ranges)), mp_context=_clean_context())
    with pool:
        parts = [pool.submit(scan_range, start, end) for start, end in ranges]
        for part, (_, end) in zip(parts, ranges, strict=True):
            later = part.result()
            later.shift_lines(scan.lines)
            scan.merge(later)
            if on_bytes is not None:
                on_bytes(end)
    return scan


def available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _clean_context() -> multiprocessing.context.BaseContext:
    """fork on Linux: fast, and safe as this process runs no other threads (the progress bar
    refreshes without one); elsewhere the platform's default (spawn)."""
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _empty_scan(name: str, path: Path, settings: ScanSettings) -> SplitScan:
    scan = SplitScan(name, path, max_examples=settings.max_examples)
    for index in scan.indexes():
        index.max_examples = settings.max_examples
    if settings.tokenizer is not None:
        scan.stats.tokens = {role: Histogram() for role in TEXT_ROLES}
    return scan


def _scan_range(
    name: str,
    path: Path,
    settings: ScanSettings,
    start: int,
    end: int | None,
    on_bytes: Callable[[int], None] | None = None,
) -> SplitScan:
    scan = _empty_scan(name, path, settings)
    tokenizer = None if settings.tokenizer is None else _load_tokenizer(settings.tokenizer)
    buffers = _Buffers()
    pending_rows = 0
    for block in read_blocks(path, start, end):
        scan.lines += block.lines
        scan.stats.invalid_rows += len(block.problems)
        scan.stats.blank_lines += len(block.blank_lines)
        keep_first(scan.problems, block.problems, settings.max_examples)
        keep_first(scan.blank_lines, block.blank_lines, settings.max_examples)
        _digest_rows(block.rows, buffers, scan, settings.min_chars)
        if tokenizer is not None:
            _count_tokens(block.rows, tokenizer, scan.stats)
        pending_rows += len(block.rows)
        if pending_rows >= FLUSH_ROWS:
            _flush(buffers, scan)
            buffers = _Buffers()
            pending_rows = 0
        if on_bytes is not None:
            on_bytes(block.bytes_read)
    _flush(buffers, scan)
    return scan


@functools.cache
def _load_tokenizer(path: Path) -> Tokenizer:
    return load_tokenizer(path)


def keep_first(kept: list, new: list, limit: int) -> None:
    if len(kept) < limit:
        kept.extend(new[: limit - len(kept)])


def _digest_rows(rows: list[Row], buffers: _Buffers, scan: SplitScan, min_chars: int) -> None:
    """The hot loop: normalise and digest every text. Kept flat on purpose (it is per text)."""
    normalize = normalize_text
    blake2b = hashlib.blake2b
    add_query, add_query_line = buffers.query_digests.append, buffers.query_lines.append
    add_pos, add_pos_query = buffers.pos_digests.append, buffers.pos_query_digests.append
    add_pos_line = buffers.pos_lines.append
    add_neg, add_neg_query = buffers.neg_digests.append, buffers.neg_query_digests.append
    add_neg_line = buffers.neg_lines.append
    add_pos_count, add_neg_count = buffers.pos_counts.append, buffers.neg_counts.append
    add_query_length = buffers.lengths["query"].append
    add_pos_length = buffers.lengths["pos"].append
    add_neg_length = buffers.lengths["neg"].append
    stats = scan.stats
    # `" ".join(t.lower().split())` is normalize_text's ASCII path, inlined: it is per text.
    for line, query, positives, negatives in rows:
        normalized = " ".join(query.lower().split()) if query.isascii() else normalize(query)
        query_digest = blake2b(normalized.encode(), digest_size=DIGEST_BYTES).digest()
        add_query(query_digest)
        add_query_line(line)
        add_query_length(len(query))
        if len(normalized) < min_chars:
            _note_short(scan, line, "query")
        add_pos_count(len(positives))
        for text in positives:
            normalized = " ".join(text.lower().split()) if text.isascii() else normalize(text)
            add_pos(blake2b(normalized.encode(), digest_size=DIGEST_BYTES).digest())
            add_pos_query(query_digest)
            add_pos_line(line)
            add_pos_length(len(text))
            if len(normalized) < min_chars:
                _note_short(scan, line, "pos")
        add_neg_count(len(negatives))
        for text in negatives:
            normalized = " ".join(text.lower().split()) if text.isascii() else normalize(text)
            add_neg_length(len(text))
            if len(normalized) < min_chars:
                _note_short(scan, line, "neg")
                if not normalized:
                    stats.empty_texts += 1
                    continue  # an empty negative is not a document worth comparing
            add_neg(blake2b(normalized.encode(), digest_size=DIGEST_BYTES).digest())
            add_neg_query(query_digest)
            add_neg_line(line)
    stats.rows += len(rows)


def _note_short(scan: SplitScan, line: int, role: str) -> None:
    scan.stats.short_texts += 1
    if len(scan.short_texts) < scan.max_examples:
        scan.short_texts.append(ShortText(line, role))


def _flush(buffers: _Buffers, scan: SplitScan) -> None:
    def numbers(values: array, dtype: type) -> np.ndarray:
        return np.frombuffer(values, dtype=dtype) if len(values) else np.empty(0, dtype=dtype)

    query_digests = digest_array(buffers.query_digests)
    pos_digests = digest_array(buffers.pos_digests)
    neg_digests = digest_array(buffers.neg_digests)
    pos_lines = numbers(buffers.pos_lines, np.uint32)
    neg_lines = numbers(buffers.neg_lines, np.uint32)
    scan.queries.add(query_digests, numbers(buffers.query_lines, np.uint32))
    scan.pairs.add(pair_digests(digest_array(buffers.pos_query_digests), pos_digests), pos_lines)
    scan.negative_pairs.add(
        pair_digests(digest_array(buffers.neg_query_digests), neg_digests), neg_lines
    )
    # Positives and negatives share one document index; merge them in line order.
    document_lines = np.concatenate([pos_lines, neg_lines])
    order = np.argsort(document_lines, kind="stable")
    scan.documents.add(np.concatenate([pos_digests, neg_digests])[order], document_lines[order])
    stats = scan.stats
    stats.pos_per_row.add(numbers(buffers.pos_counts, np.uint32))
    stats.neg_per_row.add(numbers(buffers.neg_counts, np.uint32))
    for role, lengths in buffers.lengths.items():
        stats.chars[role].add(numbers(lengths, np.uint32))


def _count_tokens(rows: list[Row], tokenizer: Tokenizer, stats: SplitStats) -> None:
    assert stats.tokens is not None
    texts = {
        "query": [query for _, query, _, _ in rows],
        "pos": [text for _, _, positives, _ in rows for text in positives],
        "neg": [text for _, _, _, negatives in rows for text in negatives],
    }
    for role, role_texts in texts.items():
        if role_texts:
            stats.tokens[role].add(np.asarray(token_counts(tokenizer, role_texts)))
