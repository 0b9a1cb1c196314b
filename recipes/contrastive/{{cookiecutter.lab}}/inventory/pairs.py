"""Labelled pairs for pairwise losses: a query with each positive (1) and each negative (0)."""

from __future__ import annotations

from dataclasses import dataclass

from datasets import Dataset

from inventory.datasets import Record


@dataclass(frozen=True)
class PairOptions:
    """OnlineContrastiveLoss's setting: negatives are pushed to a cosine distance of `margin`."""

    margin: float = 0.5


def to_pair_dataset(records: list[Record]) -> Dataset:
    """Columns (text1, text2, label): one row per positive passage of a record (label 1) and one
    per negative passage (label 0). A record without negatives gives positive pairs only."""
    rows: dict[str, list] = {"text1": [], "text2": [], "label": []}
    for record in records:
        for passages, label in ((record.pos, 1), (record.neg, 0)):
            for passage in passages:
                rows["text1"].append(record.query)
                rows["text2"].append(passage)
                rows["label"].append(label)
    return Dataset.from_dict(rows)
