"""Retrieval tasks, rankings and the standard IR metrics, per query.

Relevance is graded when the data grades its positives (`pos_grades`), as BEIR's and MTEB's
leaderboards score it (trec_eval through pytrec_eval): ndcg@10 takes each document's grade as its
gain (trec_eval's ndcg_cut), and the other metrics count a document as relevant when its grade is
at least RELEVANCE_THRESHOLD (trec_eval's default relevance level, 1). Without grades every
positive is grade 1, and the figures are sentence-transformers' InformationRetrievalEvaluator's
exactly: tests/test_relevance.py checks the figures value by value against pytrec_eval, and
tests/test_retrieval.py against the evaluator. One definition differs from trec_eval, as in
sentence-transformers: map@100 divides by min(100, relevant documents), trec_eval's map_cut.100
by the relevant documents; the two agree whenever a query has at most 100 relevant documents.

The metrics are kept per query so that runs can be compared query by query and a ranking from
any system (dense, BM25, fused) can be scored.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # `emb compare` loads this file alone for query_ids: numpy and stdlib only
    import torch

    from inventory.datasets import Document, Record

DEPTH = 100  # documents ranked per query: the deepest cut-off of METRICS
METRICS = ("ndcg@10", "mrr@10", "map@100", "recall@1", "recall@10", "recall@100")
CPU_SCORES = 1 << 24  # scores computed at once on the CPU (64 MB of float32)
QUERY_BLOCK = 4096  # queries scored at once against a block of documents
RELEVANCE_THRESHOLD = 1  # the grade from which a document counts as relevant (binary metrics)

Judgments = Mapping[int, int]  # one query's relevant documents: corpus position -> grade


@dataclass(frozen=True)
class Task:
    """Queries, a corpus, and the documents relevant to each query: corpus position -> grade."""

    name: str
    query_ids: list[str]
    queries: list[str]
    doc_ids: list[str]
    documents: list[str]
    relevant: list[Judgments]


@dataclass(frozen=True)
class Ranking:
    """Each query's best documents, best first: corpus positions (-1 where none) and scores."""

    indices: np.ndarray  # (queries, depth) int64
    scores: np.ndarray  # (queries, depth) float32


def build_task(
    records: Sequence[Record], name: str, extra_documents: Sequence[Document] = ()
) -> Task:
    """A task whose corpus is every pos/neg passage of `records` plus `extra_documents`.

    Identical texts become one document, so a passage shared by several queries counts once
    (and a positive listed twice for a query keeps its best grade). Query ids: see `query_ids`.
    """
    corpus: dict[str, str] = {}  # text -> document id
    for record in records:
        for text in record.pos + record.neg:
            corpus.setdefault(text, f"{name}-doc-{len(corpus) + 1}")
    for document in extra_documents:
        corpus.setdefault(document.text, f"corpus-{document.id}")
    position = {text: index for index, text in enumerate(corpus)}
    queries = [record.query for record in records]
    return Task(
        name=name,
        query_ids=query_ids(queries, name),
        queries=queries,
        doc_ids=list(corpus.values()),
        documents=list(corpus),
        relevant=[graded_positives(record, position) for record in records],
    )


def query_ids(queries: Sequence[str], name: str) -> list[str]:
    """The ids of a split's queries: `name` and a hash of the text (`gold-3f9a0c1b2d`), the same
    in every run on the same file, whatever the order of its lines; a repeated query text gets
    `-2`, `-3`, ... `emb compare` names the queries of a run's gold file by it too."""
    ids: list[str] = []
    seen: Counter[str] = Counter()
    for query in queries:
        query_id = f"{name}-{hashlib.sha1(query.encode()).hexdigest()[:10]}"
        seen[query_id] += 1
        ids.append(query_id if seen[query_id] == 1 else f"{query_id}-{seen[query_id]}")
    return ids


def graded_positives(record: Record, position: Mapping[str, int]) -> dict[int, int]:
    """The record's positives by corpus position, with their grades (the best of repeats)."""
    grades: dict[int, int] = {}
    for text, grade in zip(record.pos, record.grades, strict=True):
        grades[position[text]] = max(grade, grades.get(position[text], grade))
    return grades


def relevance(relevant: Sequence[Judgments | Collection[int]]) -> str:
    """What metrics.json records: "graded" when any grade differs from 1, else "binary"."""
    graded = [wanted for wanted in relevant if isinstance(wanted, Mapping)]
    return "graded" if any(set(wanted.values()) - {1} for wanted in graded) else "binary"


def dense_ranking(
    queries: np.ndarray,
    documents: np.ndarray,
    similarity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    depth: int = DEPTH,
    device: str | torch.device | None = None,
) -> Ranking:
    """Exact top-`depth` documents of every query by `similarity` (the model's score function),
    computed on `device` (the CPU by default; pass the model's device to rank where it is).

    The corpus is scored a block of documents at a time, each block against every query, keeping
    each query's best `depth` so far: memory stays bounded (never a full queries x corpus matrix)
    and the corpus, possibly memory-mapped, is read once.
    """
    import torch

    target = torch.device(device if device is not None else "cpu")
    depth = min(depth, len(documents))
    if depth == 0 or len(queries) == 0:
        empty = np.zeros((len(queries), depth))
        return Ranking(empty.astype(np.int64), empty.astype(np.float32))
    query_rows = min(len(queries), QUERY_BLOCK)
    document_rows = max(depth, score_budget(target) // query_rows)
    query_tensor = torch.from_numpy(np.ascontiguousarray(queries)).to(target)
    best_scores = torch.full((len(queries), depth), -torch.inf, device=target)
    best_indices = torch.full((len(queries), depth), -1, dtype=torch.int64, device=target)
    for start in range(0, len(documents), document_rows):
        block = torch.from_numpy(np.ascontiguousarray(documents[start : start + document_rows]))
        block = block.to(target)
        for first in range(0, len(queries), query_rows):
            rows = slice(first, first + query_rows)
            scores = similarity(query_tensor[rows], block).float()
            top = scores.topk(min(depth, scores.shape[1]), dim=1)
            merged_scores = torch.cat([best_scores[rows], top.values], dim=1)
            merged_indices = torch.cat([best_indices[rows], top.indices + start], dim=1)
            keep = merged_scores.topk(depth, dim=1)
            best_scores[rows] = keep.values
            best_indices[rows] = merged_indices.gather(1, keep.indices)
    return Ranking(best_indices.cpu().numpy(), best_scores.cpu().numpy())


def score_budget(device: torch.device) -> int:
    """How many scores one block may hold: a quarter of a GPU's free memory, else CPU_SCORES."""
    import torch

    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(CPU_SCORES, free // 4 // 4)  # float32 scores, room for topk and the block
    return CPU_SCORES


def per_query_metrics(
    ranking: Ranking, relevant: Sequence[Judgments | Collection[int]]
) -> dict[str, np.ndarray]:
    """Every metric of METRICS (and accuracy/precision at 1, 10, 100) for each query.

    `relevant`: each query's judgments (corpus position -> grade), or a set of positions (all
    grade 1). ndcg@10's gains are the grades; the other metrics count grades >= RELEVANCE_THRESHOLD.
    """
    grades = [wanted if isinstance(wanted, Mapping) else dict.fromkeys(wanted, 1)
              for wanted in relevant]  # fmt: skip
    gains = np.array(
        [
            [judged.get(index, 0) for index in row]
            for row, judged in zip(ranking.indices.tolist(), grades, strict=True)
        ],
        dtype=np.float64,
    ).reshape(len(relevant), -1)
    gains = np.pad(gains, ((0, 0), (0, max(0, DEPTH - gains.shape[1]))))  # short lists: misses
    hits = (gains >= RELEVANCE_THRESHOLD).astype(np.float64)
    n_relevant = np.array(
        [sum(grade >= RELEVANCE_THRESHOLD for grade in judged.values()) for judged in grades],
        dtype=np.float64,
    )
    ranks = np.arange(1, DEPTH + 1)
    discounts = 1 / np.log2(ranks + 1)
    ideal = np.array([ideal_dcg(judged.values(), discounts[:10]) for judged in grades])
    precision_at_hits = np.cumsum(hits, axis=1) / ranks * hits
    metrics = {
        "ndcg@10": (gains[:, :10] * discounts[:10]).sum(axis=1) / ideal,
        "mrr@10": (hits[:, :10] / ranks[:10]).max(axis=1),
        "map@100": precision_at_hits.sum(axis=1) / np.minimum(DEPTH, n_relevant),
    }
    for k in (1, 10, 100):
        metrics[f"recall@{k}"] = hits[:, :k].sum(axis=1) / n_relevant
        metrics[f"precision@{k}"] = hits[:, :k].sum(axis=1) / k
        metrics[f"accuracy@{k}"] = hits[:, :k].max(axis=1)
    return metrics


def ideal_dcg(grades: Collection[int], discounts: np.ndarray) -> float:
    """The DCG of the best possible ranking: every positive grade, highest first."""
    best = sorted((grade for grade in grades if grade > 0), reverse=True)[: len(discounts)]
    return float((np.array(best, dtype=np.float64) * discounts[: len(best)]).sum())


def mean_metrics(per_query: dict[str, np.ndarray]) -> dict[str, float]:
    """The average over queries of each metric in METRICS."""
    return {metric: float(per_query[metric].mean()) for metric in METRICS}
