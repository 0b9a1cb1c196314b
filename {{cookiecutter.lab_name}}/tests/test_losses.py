import pytest
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from inventory.config import TrainConfig
from inventory.errors import LabError
from inventory.losses import InBatchOptions, in_batch_negatives

# The cached loss itself is trained in the embed-lab repository's recipe tests (a tiny BERT).


def test_in_batch_negatives_is_plain_without_cached(static_model) -> None:
    loss = in_batch_negatives(static_model, TrainConfig(gather_across_devices=True))
    assert type(loss) is MultipleNegativesRankingLoss and loss.gather_across_devices
    options = InBatchOptions(cached=False, mini_batch_size=0)  # ignored without --cached
    assert type(in_batch_negatives(static_model, TrainConfig(), options)) is type(loss)


def test_cached_problems_are_one_line_errors(static_model) -> None:
    with pytest.raises(LabError, match="--mini-batch-size must be at least 1"):
        in_batch_negatives(static_model, TrainConfig(), InBatchOptions(True, 0))
    # Static embeddings cannot be split into mini-batches: the library says so, in one line.
    with pytest.raises(LabError, match="^--cached: .*StaticEmbedding"):
        in_batch_negatives(static_model, TrainConfig(), InBatchOptions(cached=True))
