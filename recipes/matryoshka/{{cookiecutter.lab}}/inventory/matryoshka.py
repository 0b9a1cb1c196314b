"""Matryoshka embeddings: vectors whose first `dim` values are a smaller embedding of their own.

MatryoshkaLoss applies the in-batch negatives loss to the full vectors and to each truncation at
once, so a smaller index (fewer values per document) loses as little as possible. Gold is scored
at every dimension from the full vectors already computed, cut to their first `dim` values: no
text is encoded twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inventory import distributed
from inventory.config import TrainConfig, option
from inventory.errors import LabError
from inventory.evaluate import GoldEvaluation
from inventory.losses import InBatchOptions, in_batch_negatives
from inventory.retrieval import dense_ranking, mean_metrics, per_query_metrics

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss

KEY = "matryoshka"  # metrics.json["matryoshka"][dim][system]: gold metrics at that dimension


@dataclass(frozen=True)
class MatryoshkaOptions(InBatchOptions):
    """--dims: the truncations trained and scored besides the model's own dimension; none given:
    the three powers of two below it (384 -> 256 128 64, 768 -> 512 256 128)."""

    dims: tuple[int, ...] = option(
        (), "dimensions trained and scored besides the full one; none: three powers of two below it"
    )


def matryoshka_dims(full: int, requested: Sequence[int] = ()) -> tuple[int, ...]:
    """The model's own dimension `full` and the `requested` ones (or the default), largest first."""
    for dim in requested:
        if not 1 <= dim <= full:
            raise LabError(f"--dims {dim}: must be between 1 and the model's dimension, {full}")
    if not requested:
        below = 1 << ((full - 1).bit_length() - 1) if full > 1 else 1  # largest power of 2 < full
        requested = [below >> shift for shift in range(3) if below >> shift >= 1]
    return tuple(sorted({full, *requested}, reverse=True))


def matryoshka_loss(
    model: SentenceTransformer, config: TrainConfig, options: MatryoshkaOptions
) -> MatryoshkaLoss:
    """In-batch negatives (cached with --cached) at every dimension, each weighted 1."""
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss

    full = model.get_embedding_dimension() or 0
    dims = matryoshka_dims(full, options.dims)
    return MatryoshkaLoss(model, in_batch_negatives(model, config, options), dims)


def truncate(vectors: np.ndarray, dim: int, normalise: bool) -> np.ndarray:
    """The first `dim` values of each vector; rescaled to unit length when `normalise` (what an
    index of truncated vectors holds for cosine similarity)."""
    # A copy even at the full dimension: `vectors` may be a view of the embedding cache.
    cut = np.array(vectors[:, :dim], dtype=np.float32, order="C")
    if normalise:
        cut /= np.maximum(np.linalg.norm(cut, axis=1, keepdims=True), 1e-12)
    return cut


class TruncatedScores:
    """A gold hook (evaluate.VectorHook): every model scored on gold is also scored at each
    dimension, into metrics.json["matryoshka"][dim][system]."""

    def __init__(self, requested: Sequence[int] = ()) -> None:
        self.requested = tuple(requested)
        self.scores: dict[str, dict[str, dict[str, float]]] = {}  # dim -> system -> metrics

    def __call__(
        self,
        evaluation: GoldEvaluation,
        system: str,
        model: SentenceTransformer,
        queries: np.ndarray,
        documents: np.ndarray,
    ) -> None:
        cosine = (model.similarity_fn_name or "cosine") == "cosine"
        for dim in matryoshka_dims(queries.shape[1], self.requested):
            ranking = dense_ranking(
                truncate(queries, dim, cosine), truncate(documents, dim, cosine), model.similarity,
                device=model.device,
            )  # fmt: skip
            per_query = per_query_metrics(ranking, evaluation.task.relevant)
            self.scores.setdefault(str(dim), {})[system] = mean_metrics(per_query)
        evaluation.add_section(KEY, self.scores)


@distributed.main_process
def print_table(metrics: dict, metric: str = "ndcg@10") -> None:
    """Gold `metric` before and after fine-tuning at each dimension, and each index's size."""
    scores = metrics[KEY]
    full = max(map(int, scores))
    print(f"gold {metric} by dimension:")
    print("    dim  index size   before    after")
    for dim, systems in scores.items():
        before, after = systems["before"][metric], systems["after"][metric]
        print(f"  {dim:>5}  {int(dim) / full:>10.0%}   {before:.4f}   {after:.4f}")
