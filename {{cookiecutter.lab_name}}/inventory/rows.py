"""Records made into training rows, in one place: (anchor, positive, negative...) rows for the
in-batch negatives losses, and (query, passage, label) pairs for pairwise losses.

A row's columns are plain lists, by name; the lab turns them into a `datasets.Dataset`
(inventory/datasets.py and the recipes) and `emb export st` into parquet, from this very file.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

PAIR_COLUMNS = ("query", "passage", "label")


class Texts(Protocol):
    """What a row is made of: a split line's query, positives and negatives."""

    @property
    def query(self) -> str: ...
    @property
    def pos(self) -> Sequence[str]: ...
    @property
    def neg(self) -> Sequence[str]: ...


def negative_columns(count: int) -> list[str]:
    """The negative columns: "negative" for one, "negative_1" ... "negative_<count>" for more."""
    return ["negative"] if count == 1 else [f"negative_{i + 1}" for i in range(count)]


def triplet_columns(records: Iterable[Texts], negatives: int = 0) -> dict[str, list[str]]:
    """Columns (anchor, positive, then `negatives` negative columns): one row per positive.

    The row of a record's i-th positive takes its negatives from the i-th on, cycling (so each
    positive of a query meets another negative first, and a query with fewer negatives than
    columns repeats them in turn). With `negatives`, every record must have a negative.
    """
    names = negative_columns(negatives) if negatives else []
    columns: dict[str, list[str]] = {"anchor": [], "positive": [], **{name: [] for name in names}}
    for record in records:
        for index, positive in enumerate(record.pos):
            columns["anchor"].append(record.query)
            columns["positive"].append(positive)
            for slot, name in enumerate(names):
                columns[name].append(record.neg[(index + slot) % len(record.neg)])
    return columns


def training_columns(records: Sequence[Texts]) -> dict[str, list[str]]:
    """(anchor, positive[, negative]): the negative column only when every record has one,
    because a column must be complete."""
    complete = bool(records) and all(record.neg for record in records)
    return triplet_columns(records, 1 if complete else 0)


def pair_columns(
    records: Iterable[Texts], names: Sequence[str] = PAIR_COLUMNS
) -> dict[str, list[str | float]]:
    """Labelled pairs under `names` (text, text, label): a query with each of its positives
    (1.0), then with each of its negatives (0.0)."""
    query, passage, label = names
    columns: dict[str, list[str | float]] = {query: [], passage: [], label: []}
    for record in records:
        for texts, value in ((record.pos, 1.0), (record.neg, 0.0)):
            for text in texts:
                columns[query].append(record.query)
                columns[passage].append(text)
                columns[label].append(value)
    return columns
