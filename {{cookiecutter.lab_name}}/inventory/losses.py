"""Training losses, built from the run's settings."""

from __future__ import annotations

from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from inventory.config import TrainConfig


def in_batch_negatives(
    model: SentenceTransformer, config: TrainConfig
) -> MultipleNegativesRankingLoss:
    """Each query's positive against every other passage in the batch (and its hard negative,
    when the data has them). With --gather-across-devices, against every process's batch."""
    return MultipleNegativesRankingLoss(model, gather_across_devices=config.gather_across_devices)
