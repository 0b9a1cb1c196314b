"""Training losses, built from the run's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from inventory.config import TrainConfig, option
from inventory.errors import LabError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )


@dataclass(frozen=True)
class InBatchOptions:
    """--cached trades about one extra forward pass per step for a batch size that no longer
    costs memory: the batch is embedded --mini-batch-size texts at a time (GradCache)."""

    cached: bool = option(False, "the same loss a mini-batch at a time: big batches, little memory")
    mini_batch_size: int = option(32, "texts embedded at a time with --cached")
    # `emb sweep` searches nothing here by default: --cached computes the same loss (only memory
    # changes). To reach batches that do not fit otherwise, a --space file can add
    # [cached] choices = [false, true] with larger [batch_size] choices.
    SEARCH_SPACE: ClassVar[dict[str, dict]] = {}


def in_batch_negatives(
    model: SentenceTransformer, config: TrainConfig, options: InBatchOptions | None = None
) -> MultipleNegativesRankingLoss | CachedMultipleNegativesRankingLoss:
    """Each query's positive against every other passage in the batch (and its hard negative,
    when the data has them). With --gather-across-devices, against every process's batch.

    With `options.cached`, the same loss computed by CachedMultipleNegativesRankingLoss: memory
    grows with the mini-batch, not the batch, so --batch-size can be in the thousands."""
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    if options is None or not options.cached:
        return MultipleNegativesRankingLoss(
            model, gather_across_devices=config.gather_across_devices
        )
    if options.mini_batch_size < 1:
        raise LabError("--mini-batch-size must be at least 1")
    try:
        return CachedMultipleNegativesRankingLoss(
            model,
            mini_batch_size=options.mini_batch_size,
            gather_across_devices=config.gather_across_devices,
        )
    except ValueError as error:  # a model it cannot split into mini-batches (StaticEmbedding)
        raise LabError(f"--cached: {error}") from None
