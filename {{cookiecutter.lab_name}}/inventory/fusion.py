"""Hybrid retrieval: weighted reciprocal-rank fusion of two rankings, its weight chosen on dev."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inventory.retrieval import DEPTH, Judgments, Ranking, per_query_metrics

RRF_K = 60  # the usual constant of reciprocal-rank fusion (Cormack et al., 2009)
WEIGHTS = tuple(round(0.1 * step, 1) for step in range(11))  # the dense ranking's share


def fuse(dense: Ranking, sparse: Ranking, weight: float, depth: int = DEPTH) -> Ranking:
    """Score each document weight/(RRF_K + dense rank) + (1 - weight)/(RRF_K + sparse rank)."""
    indices = np.full((len(dense.indices), depth), -1, dtype=np.int64)
    scores = np.zeros((len(dense.indices), depth), dtype=np.float32)
    for query, rows in enumerate(zip(dense.indices, sparse.indices, strict=True)):
        fused: dict[int, float] = {}
        for share, row in zip((weight, 1 - weight), rows, strict=True):
            for rank, document in enumerate(row[row >= 0].tolist(), start=1):
                fused[document] = fused.get(document, 0.0) + share / (RRF_K + rank)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:depth]
        indices[query, : len(best)] = [document for document, _ in best]
        scores[query, : len(best)] = [score for _, score in best]
    return Ranking(indices, scores)


def choose_weight(
    dense: Ranking, sparse: Ranking, relevant: Sequence[Judgments]
) -> tuple[float, float]:
    """The weight of WEIGHTS with the best mean ndcg@10 (ties: nearest 0.5), and that ndcg@10."""
    results = {
        weight: float(per_query_metrics(fuse(dense, sparse, weight), relevant)["ndcg@10"].mean())
        for weight in WEIGHTS
    }
    best = max(WEIGHTS, key=lambda weight: (round(results[weight], 6), -abs(weight - 0.5)))
    return best, results[best]
