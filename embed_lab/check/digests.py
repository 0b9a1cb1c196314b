"""Sets of 64-bit digests with the line each was first seen on, grown one batch at a time."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LINE_DTYPE = np.uint32


@dataclass(frozen=True)
class Repeat:
    """A digest seen again: on `line`, first seen on `first_line`."""

    digest: int
    line: int
    first_line: int


@dataclass
class DigestIndex:
    """Distinct digests (sorted) and their first line; counts and samples repeats.

    Memory is 12 bytes per distinct digest, however many times each occurs. Batches must be
    added in line order so that "first seen" and the earliest repeats are right.
    """

    max_examples: int = 3
    digests: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    first_lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=LINE_DTYPE))
    repeats: int = 0
    examples: list[Repeat] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.digests)

    def add(self, digests: np.ndarray, lines: np.ndarray) -> None:
        if len(digests) == 0:
            return
        order = np.argsort(digests, kind="stable")  # stable: equal digests stay in line order
        sorted_digests = digests[order]
        sorted_lines = lines[order].astype(LINE_DTYPE, copy=False)
        starts_group = np.empty(len(sorted_digests), dtype=bool)
        starts_group[0] = True
        np.not_equal(sorted_digests[1:], sorted_digests[:-1], out=starts_group[1:])
        group_digests = sorted_digests[starts_group]
        group_lines = sorted_lines[starts_group]

        known_at = np.searchsorted(self.digests, group_digests)
        known = np.zeros(len(group_digests), dtype=bool)
        if len(self.digests):
            clipped = np.minimum(known_at, len(self.digests) - 1)
            known = self.digests[clipped] == group_digests
            group_first_lines = np.where(known, self.first_lines[clipped], group_lines)
        else:
            group_first_lines = group_lines

        new = ~known
        self.repeats += len(sorted_digests) - int(new.sum())
        if len(self.examples) < self.max_examples:
            group_of = np.cumsum(starts_group) - 1
            is_repeat = ~(starts_group & new[group_of])
            self._sample_repeats(
                sorted_digests[is_repeat],
                sorted_lines[is_repeat],
                group_first_lines[group_of[is_repeat]],
            )
        self.digests = np.insert(self.digests, known_at[new], group_digests[new])
        self.first_lines = np.insert(self.first_lines, known_at[new], group_lines[new])

    def shift_lines(self, offset: int) -> None:
        """Renumber lines, for an index built from a later part of a file."""
        self.first_lines = self.first_lines + LINE_DTYPE(offset)
        self.examples = [
            Repeat(r.digest, r.line + offset, r.first_line + offset) for r in self.examples
        ]

    def merge(self, later: DigestIndex) -> None:
        """Fold in an index built from lines that all come after this index's lines."""
        known_first = {
            r.digest: self.first_line_of(r.digest) for r in later.examples if r.digest in self
        }
        later_examples = [
            Repeat(r.digest, r.line, known_first.get(r.digest, r.first_line))
            for r in later.examples
        ]
        earlier_examples, self.examples = self.examples, []
        self.add(later.digests, later.first_lines)  # counts later's digests already seen here
        self.repeats += later.repeats
        candidates = sorted(self.examples + later_examples, key=lambda r: r.line)
        self.examples = (earlier_examples + candidates)[: self.max_examples]

    def __contains__(self, digest: int) -> bool:
        at = int(np.searchsorted(self.digests, np.uint64(digest)))
        return at < len(self.digests) and int(self.digests[at]) == digest

    def _sample_repeats(self, digests: np.ndarray, lines: np.ndarray, first: np.ndarray) -> None:
        wanted = self.max_examples - len(self.examples)
        for index in np.argsort(lines, kind="stable")[:wanted]:
            self.examples.append(Repeat(int(digests[index]), int(lines[index]), int(first[index])))

    def first_line_of(self, digest: int) -> int:
        return int(self.first_lines[np.searchsorted(self.digests, np.uint64(digest))])


@dataclass(frozen=True)
class Overlap:
    """Digests present in two indexes, with their first line in each."""

    digests: np.ndarray
    lines_a: np.ndarray
    lines_b: np.ndarray

    def __len__(self) -> int:
        return len(self.digests)

    def earliest(self, count: int) -> list[tuple[int, int, int]]:
        """The `count` overlaps seen first in the second index: (digest, line_a, line_b)."""
        order = np.argsort(self.lines_b, kind="stable")[:count]
        return [(int(self.digests[i]), int(self.lines_a[i]), int(self.lines_b[i])) for i in order]


def overlap(a: DigestIndex, b: DigestIndex) -> Overlap:
    common, in_a, in_b = np.intersect1d(
        a.digests, b.digests, assume_unique=True, return_indices=True
    )
    return Overlap(common, a.first_lines[in_a], b.first_lines[in_b])
