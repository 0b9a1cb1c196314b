"""Near-duplicate queries: MinHash LSH finds candidates, exact Jaccard confirms them.

Queries of SHORT_QUERY_WORDS words or more are shingled into word bigrams; shorter ones into
character trigrams, because a few words give too few word shingles to compare. Needs the
optional `datasketch` package. Memory grows with the number of distinct queries (their text
and LSH band keys), which is why this check is opt-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from embed_lab.check.errors import CheckError
from embed_lab.check.normalize import normalize_text, text_digest
from embed_lab.check.reader import read_blocks

SHORT_QUERY_WORDS = 6
CHAR_NGRAM = 3
NUM_PERM = 128
BATCH = 2048
CANDIDATE_MARGIN = 0.05
INSTALL_HINT = "--near-dup needs the 'datasketch' package: pip install 'embed-lab[near-dup]'"

_WORD = re.compile(r"\w+")


def shingles(normalized: str) -> set[str]:
    words = _WORD.findall(normalized)
    if len(words) >= SHORT_QUERY_WORDS:
        return {f"{first} {second}" for first, second in pairwise(words)}
    joined = " ".join(words)
    if len(joined) <= CHAR_NGRAM:
        return {joined} if joined else set()
    return {joined[i : i + CHAR_NGRAM] for i in range(len(joined) - CHAR_NGRAM + 1)}


def candidate_threshold(threshold: float) -> float:
    """LSH threshold for candidates: a little lower than the reported one, since MinHash only
    estimates similarity (exact Jaccard confirms), and within what datasketch can band."""
    return min(0.9, max(0.05, threshold - CANDIDATE_MARGIN))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


@dataclass(frozen=True)
class QueryRef:
    split: str
    file: str
    line: int
    text: str  # normalised


@dataclass(frozen=True)
class NearDuplicate:
    first: QueryRef
    second: QueryRef
    similarity: float


ProgressFor = Callable[[str], Callable[[int], None]]
"""Given a file name, a callback taking the bytes of that file read so far."""


def _distinct_queries(
    splits: list[tuple[str, Path]], progress_for: ProgressFor | None
) -> Iterator[QueryRef]:
    """Each split's distinct normalised queries, first occurrence only."""
    for split, path in splits:
        seen: set[int] = set()
        on_bytes = progress_for(path.name) if progress_for is not None else None
        for block in read_blocks(path):
            for line, query, _, _ in block.rows:
                normalized = normalize_text(query)
                digest = text_digest(normalized)
                if digest not in seen:
                    seen.add(digest)
                    yield QueryRef(split, path.name, line, normalized)
            if on_bytes is not None:
                on_bytes(block.bytes_read)


def find_near_duplicates(
    splits: list[tuple[str, Path]],
    threshold: float,
    progress_for: ProgressFor | None = None,
) -> list[NearDuplicate]:
    """Pairs of distinct queries (within or across splits) with Jaccard >= threshold.

    Identical normalised queries are left out: they are duplicates or leaks, reported as such.
    """
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        raise CheckError(INSTALL_HINT) from None
    lsh = MinHashLSH(threshold=candidate_threshold(threshold), num_perm=NUM_PERM)
    refs: list[QueryRef] = []
    found: list[NearDuplicate] = []

    def process(batch: list[tuple[QueryRef, set[str]]]) -> None:
        if not batch:
            return
        sketches = MinHash.bulk(
            [[s.encode() for s in shingle_set] for _, shingle_set in batch], num_perm=NUM_PERM
        )
        for (ref, shingle_set), sketch in zip(batch, sketches, strict=True):
            for key in lsh.query(sketch):
                other = refs[key]
                if other.text == ref.text:
                    continue
                similarity = jaccard(shingles(other.text), shingle_set)
                if similarity >= threshold:
                    found.append(NearDuplicate(other, ref, round(similarity, 3)))
            lsh.insert(len(refs), sketch, check_duplication=False)
            refs.append(ref)

    batch: list[tuple[QueryRef, set[str]]] = []
    for ref in _distinct_queries(splits, progress_for):
        shingle_set = shingles(ref.text)
        if shingle_set:
            batch.append((ref, shingle_set))
        if len(batch) >= BATCH:
            process(batch)
            batch = []
    process(batch)
    return found
