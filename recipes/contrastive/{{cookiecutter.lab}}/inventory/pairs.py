"""Labelled pairs for pairwise losses: a query with each positive (1) and each negative (0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from inventory import distributed
from inventory.config import option
from inventory.datasets import Record
from inventory.rows import pair_columns

if TYPE_CHECKING:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import OnlineContrastiveLoss


@dataclass(frozen=True)
class PairOptions:
    """OnlineContrastiveLoss's setting: negatives are pushed to a cosine distance of `margin`."""

    margin: float = option(0.5, "the cosine distance negative pairs are pushed to")
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
    from datasets import Dataset

    judged = [record for record in records if record.neg]
    if len(judged) < len(records) and distributed.is_main_process():
        print(f"contrastive: left out {len(records) - len(judged)} of {len(records)} train "
              "records without a negative")  # fmt: skip
    return Dataset.from_dict(pair_columns(judged, names=("text1", "text2", "label")))


def contrastive_loss(model: SentenceTransformer, options: PairOptions) -> OnlineContrastiveLoss:
    """OnlineContrastiveLoss with the options' margin."""
    from sentence_transformers.sentence_transformer.losses import OnlineContrastiveLoss

    return OnlineContrastiveLoss(model, margin=options.margin)
