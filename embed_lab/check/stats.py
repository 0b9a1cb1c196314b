"""Summary statistics that need constant memory: histograms of small non-negative integers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Histogram:
    """Exact counts per integer value (text lengths, list sizes), so quantiles are exact."""

    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def add(self, values: np.ndarray) -> None:
        if len(values) == 0:
            return
        binned = np.bincount(values)
        if len(binned) > len(self.counts):
            self.counts = np.pad(self.counts, (0, len(binned) - len(self.counts)))
        self.counts[: len(binned)] += binned

    def merge(self, other: Histogram) -> None:
        if len(other.counts) > len(self.counts):
            self.counts = np.pad(self.counts, (0, len(other.counts) - len(self.counts)))
        self.counts[: len(other.counts)] += other.counts

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def quantile(self, q: float) -> int:
        """Nearest-rank quantile: the smallest value with at least q of the counts at or below."""
        cumulative = np.cumsum(self.counts)
        rank = max(1, math.ceil(q * int(cumulative[-1])))
        return int(np.searchsorted(cumulative, rank))

    def summary(self) -> dict[str, float] | None:
        """min/median/p95/max/mean, or None when nothing was counted."""
        total = self.total
        if total == 0:
            return None
        present = np.flatnonzero(self.counts)
        mean = float(np.dot(self.counts, np.arange(len(self.counts)))) / total
        return {
            "min": int(present[0]),
            "median": self.quantile(0.5),
            "p95": self.quantile(0.95),
            "max": int(present[-1]),
            "mean": round(mean, 2),
        }


TEXT_ROLES = ("query", "pos", "neg")


@dataclass
class SplitStats:
    """Per-split figures; lengths are in characters and, with a tokenizer, in tokens."""

    rows: int = 0
    blank_lines: int = 0
    invalid_rows: int = 0
    distinct_queries: int = 0
    pos_per_row: Histogram = field(default_factory=Histogram)
    neg_per_row: Histogram = field(default_factory=Histogram)
    chars: dict[str, Histogram] = field(
        default_factory=lambda: {role: Histogram() for role in TEXT_ROLES}
    )
    tokens: dict[str, Histogram] | None = None
    empty_texts: int = 0
    short_texts: int = 0

    def merge(self, other: SplitStats) -> None:
        """Add the figures of another part of the same split (distinct_queries excepted)."""
        self.rows += other.rows
        self.blank_lines += other.blank_lines
        self.invalid_rows += other.invalid_rows
        self.empty_texts += other.empty_texts
        self.short_texts += other.short_texts
        self.pos_per_row.merge(other.pos_per_row)
        self.neg_per_row.merge(other.neg_per_row)
        for role in TEXT_ROLES:
            self.chars[role].merge(other.chars[role])
            if self.tokens is not None and other.tokens is not None:
                self.tokens[role].merge(other.tokens[role])

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "invalid_rows": self.invalid_rows,
            "blank_lines": self.blank_lines,
            "distinct_queries": self.distinct_queries,
            "pos_per_row": self.pos_per_row.summary(),
            "neg_per_row": self.neg_per_row.summary(),
            "chars": {role: hist.summary() for role, hist in self.chars.items()},
            "tokens": (
                None
                if self.tokens is None
                else {role: hist.summary() for role, hist in self.tokens.items()}
            ),
            "empty_texts": self.empty_texts,
            "short_texts": self.short_texts,
        }
