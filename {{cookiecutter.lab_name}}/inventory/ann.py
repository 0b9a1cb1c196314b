"""Top-k where the vectors are: exact on the model's GPU, exact and chunked on the CPU, and on the
CPU past ANN_MIN_DOCUMENTS documents and ANN_MIN_QUERIES queries an approximate index (faiss, the
optional `ann` extra: `pip install faiss-cpu`), whose recall@100 against exact search on a sample
of queries is measured every time, so that an ANN loss is never mistaken for a model loss.

Without faiss, a task past the threshold is ranked exactly, with one line saying so. On a GPU
exact search is fast at any size the GPU holds, so the index is a CPU-only choice.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inventory.retrieval import DEPTH, Ranking, dense_ranking

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

    Similarity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# From benchmarks/bench_topk.py (2-core CPU, 384 dims): building the index costs about as much as
# exact search of ~3,000 queries at 1M documents (~5,000 at 300k); with fewer queries exact search
# is faster (3x at 1M documents and 1,000 queries), and on smaller corpora it takes seconds.
ANN_MIN_DOCUMENTS = 1_000_000
ANN_MIN_QUERIES = 4_000
RECALL_QUERIES = 200  # queries ranked both ways to measure the index's recall@100
NPROBE_SHARE = 1 / 8  # share of the index's lists searched per query
ADD_BLOCK = 65_536  # documents normalised and added at once (bounded memory)
RESCORE_BLOCK = 256  # queries whose candidates are scored exactly at once
SIMILARITIES = {"cosine", "dot"}  # inner-product indexes; other similarities rank exactly


@dataclass(frozen=True)
class AnnReport:
    """What metrics.json says of an approximate ranking."""

    index: str  # e.g. "faiss IVF1000,SQ8 nprobe=125"
    recall: float  # recall@100 of the index against exact top-100, over `queries` queries
    queries: int


def rank(
    model: SentenceTransformer, queries: np.ndarray, documents: np.ndarray, depth: int = DEPTH
) -> tuple[Ranking, AnnReport | None]:
    """Each query's top `depth` documents by the model's similarity: exact on the model's device,
    or from an approximate index on the CPU past the thresholds (with its measured recall)."""
    name = model.similarity_fn_name or "cosine"
    large = len(documents) >= ANN_MIN_DOCUMENTS and len(queries) >= ANN_MIN_QUERIES
    if model.device.type != "cpu" or not large or name not in SIMILARITIES:
        return dense_ranking(queries, documents, model.similarity, depth, model.device), None
    try:
        import faiss  # noqa: F401
    except ImportError:
        print(f"top-k: {len(queries)} queries x {len(documents)} documents, exact search on the "
              "CPU (install faiss-cpu, the lab's `ann` extra, for an approximate index)",
              file=sys.stderr)  # fmt: skip
        return dense_ranking(queries, documents, model.similarity, depth), None
    return approximate_ranking(queries, documents, model.similarity, name == "cosine", depth)


def approximate_ranking(
    queries: np.ndarray,
    documents: np.ndarray,
    similarity: Similarity,
    cosine: bool,
    depth: int = DEPTH,
) -> tuple[Ranking, AnnReport]:
    """Top `depth` from a faiss IVF index (8-bit scalar quantised: a quarter of the vectors'
    memory), its candidates then scored exactly (inner product, of unit vectors for `cosine`);
    recall@100 is measured against exact search by `similarity` on a seeded sample of
    RECALL_QUERIES queries."""
    import faiss

    count, dim = documents.shape
    depth = min(depth, count)
    lists = max(1, int(math.sqrt(count)))
    nprobe = max(1, int(lists * NPROBE_SHARE))
    index = faiss.index_factory(dim, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(count, min(count, 40 * lists), replace=False)
    index.train(_prepared(documents[np.sort(sample)], cosine))
    for start in range(0, count, ADD_BLOCK):
        index.add(_prepared(documents[start : start + ADD_BLOCK], cosine))
    index.nprobe = nprobe
    _, candidates = index.search(_prepared(queries, cosine), depth)
    scores = np.full(candidates.shape, -np.inf, dtype=np.float32)
    for start in range(0, len(queries), RESCORE_BLOCK):  # exact scores of the found documents
        found = candidates[start : start + RESCORE_BLOCK]
        vectors = _prepared(documents[np.maximum(found, 0).reshape(-1)], cosine)
        query_block = _prepared(queries[start : start + RESCORE_BLOCK], cosine)
        exact = np.einsum("qd,qkd->qk", query_block, vectors.reshape(*found.shape, dim))
        scores[start : start + RESCORE_BLOCK] = np.where(found >= 0, exact, -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")
    indices = np.take_along_axis(candidates, order, 1).astype(np.int64)
    ranking = Ranking(indices, np.take_along_axis(scores, order, 1))
    return ranking, AnnReport(
        index=f"faiss IVF{lists},SQ8 nprobe={nprobe}",
        recall=recall_against_exact(ranking, queries, documents, similarity),
        queries=min(RECALL_QUERIES, len(queries)),
    )


def recall_against_exact(
    ranking: Ranking, queries: np.ndarray, documents: np.ndarray, similarity: Similarity,
    k: int = 100,
) -> float:  # fmt: skip
    """The share of the exact top-k that `ranking` finds, over a seeded sample of queries."""
    rows = np.sort(np.random.default_rng(0).choice(
        len(queries), min(RECALL_QUERIES, len(queries)), replace=False
    ))  # fmt: skip
    exact = dense_ranking(queries[rows], documents, similarity, k)
    found = [
        len(set(approx[:k]) & set(truth[truth >= 0])) / max(1, int((truth >= 0).sum()))
        for approx, truth in zip(ranking.indices[rows].tolist(), exact.indices, strict=True)
    ]
    return float(np.mean(found))


def _prepared(vectors: np.ndarray, cosine: bool) -> np.ndarray:
    """float32, C-contiguous, unit length for cosine (a copy: the caller's array is untouched)."""
    array = np.array(vectors, dtype=np.float32, order="C")
    if cosine:
        array /= np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    return array
