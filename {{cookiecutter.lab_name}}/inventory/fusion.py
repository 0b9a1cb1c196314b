"""Hybrid retrieval: a dense and a sparse ranking fused into one, the fusion chosen on dev.

The default is reciprocal-rank fusion with equal weights (k = 60). Other fusions (RRF with
another weight, or a convex combination of min-max or z-score normalised scores) replace it only
when they beat it on dev by more than noise (inventory/significance.py): a bumpy curve of eleven
noisy dev figures does not pick the weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inventory import significance
from inventory.retrieval import DEPTH, Judgments, Ranking, per_query_metrics

RRF_K = 60  # the usual constant of reciprocal-rank fusion (Cormack et al., 2009)
METHODS = ("rrf", "minmax", "zscore")
# The dense ranking's share, for each method; on NFCorpus none of these beat equal-weight RRF on
# dev (benchmarks/fusion_nfcorpus.py), so the default stays the default there.
WEIGHTS = (0.3, 0.5, 0.7)


@dataclass(frozen=True)
class Fusion:
    method: str = "rrf"  # "rrf", or a convex combination of "minmax"/"zscore" normalised scores
    weight: float = 0.5  # the dense ranking's share

    @property
    def name(self) -> str:
        return f"{self.method}@{self.weight:g}"


DEFAULT = Fusion()
CANDIDATES = tuple(Fusion(method, weight) for method in METHODS for weight in WEIGHTS)


def fuse(dense: Ranking, sparse: Ranking, fusion: Fusion = DEFAULT, depth: int = DEPTH) -> Ranking:
    """Each query's documents found by either ranking, best first by their fused score.

    RRF scores a document weight/(k + dense rank) + (1 - weight)/(k + sparse rank). The convex
    fusions scale each ranking's scores per query (min-max to [0, 1], or z-scores), and a
    document that one ranking did not return gets that ranking's lowest scaled score.
    """
    indices = np.full((len(dense.indices), depth), -1, dtype=np.int64)
    scores = np.zeros((len(dense.indices), depth), dtype=np.float32)
    shares = (fusion.weight, 1 - fusion.weight)
    for query in range(len(dense.indices)):
        parts = [_scaled(ranking, query, fusion.method) for ranking in (dense, sparse)]
        fused = {
            document: sum(
                share * values.get(document, floor)
                for share, (values, floor) in zip(shares, parts, strict=True)
            )
            for document in set(parts[0][0]) | set(parts[1][0])
        }
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:depth]
        indices[query, : len(best)] = [document for document, _ in best]
        scores[query, : len(best)] = [score for _, score in best]
    return Ranking(indices, scores)


def _scaled(ranking: Ranking, query: int, method: str) -> tuple[dict[int, float], float]:
    """One query's documents with their scaled scores, and the score of a document not found."""
    row = ranking.indices[query]
    documents = row[row >= 0].tolist()
    raw = ranking.scores[query][row >= 0].astype(np.float64)
    if method == "rrf":
        values = 1 / (RRF_K + np.arange(1, len(documents) + 1))
        return dict(zip(documents, values.tolist(), strict=True)), 0.0
    if method == "minmax":
        spread = raw.max() - raw.min() if len(raw) else 0.0
        values = (raw - raw.min()) / spread if spread > 0 else np.ones_like(raw)
    elif method == "zscore":
        spread = raw.std() if len(raw) else 0.0
        values = (raw - raw.mean()) / spread if spread > 0 else np.zeros_like(raw)
    else:
        raise ValueError(f"unknown fusion method {method!r}; known: {', '.join(METHODS)}")
    floor = float(values.min()) if len(values) else 0.0
    return dict(zip(documents, values.tolist(), strict=True)), floor


def choose_fusion(
    dense: Ranking, sparse: Ranking, relevant: Sequence[Judgments]
) -> tuple[Fusion, significance.Choice]:
    """The fusion for the hybrid: DEFAULT unless a candidate beats it on dev beyond noise."""
    candidates = {fusion.name: fusion for fusion in (DEFAULT, *CANDIDATES)}
    scores = {
        name: per_query_metrics(fuse(dense, sparse, fusion), relevant)["ndcg@10"]
        for name, fusion in candidates.items()
    }
    choice = significance.choose(scores, DEFAULT.name)
    return candidates[choice.chosen], choice
