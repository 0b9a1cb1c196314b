"""Labelled pairs for pairwise losses: a query with each positive (1) and each negative (0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from datasets import Dataset

from inventory import distributed
from inventory.datasets import Record


@dataclass(frozen=True)
class PairOptions:
    """OnlineContrastiveLoss's setting: negatives are pushed to a cosine distance of `margin`."""

    margin: float = 0.5
    # `emb sweep` searches it besides the shared flags (inventory/config.py).
    SEARCH_SPACE: ClassVar[dict[str, dict]] = {"margin": {"low": 0.2, "high": 1.0}}


def to_pair_dataset(records: list[Record]) -> Dataset:
    """Columns (text1, text2, label): one row per positive passage of a record (label 1) and one
    per negative passage (label 0).

    Only records with negatives make pairs. Positive pairs alone pull texts together with nothing
    pushing them apart: on NFCorpus, where a third of the train queries had a mined negative,
    keeping the others' positive pairs collapsed the model (every text nearly one point; gold
    ndcg@10 0.3184 -> 0.0207, at margin 0.5 and 1.0 alike).
    """
    judged = [record for record in records if record.neg]
    if len(judged) < len(records) and distributed.is_main_process():
        print(f"contrastive: left out {len(records) - len(judged)} of {len(records)} train "
              "records without a negative")  # fmt: skip
    rows: dict[str, list] = {"text1": [], "text2": [], "label": []}
    for record in judged:
        for passages, label in ((record.pos, 1), (record.neg, 0)):
            for passage in passages:
                rows["text1"].append(record.query)
                rows["text2"].append(passage)
                rows["label"].append(label)
    return Dataset.from_dict(rows)
