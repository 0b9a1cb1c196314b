"""Retrieval evaluation: rank a corpus for every query and report standard IR metrics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

from inventory import distributed
from inventory.datasets import Document, Record
from inventory.files import write_json

METRICS = ("ndcg@10", "mrr@10", "map@100", "recall@1", "recall@10", "recall@100")


def ir_evaluator(
    records: list[Record], name: str, extra_documents: Sequence[Document] = ()
) -> InformationRetrievalEvaluator:
    """An evaluator whose corpus is every pos/neg passage of `records` plus `extra_documents`.

    Identical texts become one document, so a passage shared by several queries counts once.
    """
    corpus: dict[str, str] = {}  # text -> document id
    queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for number, record in enumerate(records, start=1):
        for text in record.pos + record.neg:
            corpus.setdefault(text, f"{name}-doc-{len(corpus) + 1}")
        query_id = f"{name}-q-{number}"
        queries[query_id] = record.query
        relevant[query_id] = {corpus[text] for text in record.pos}
    for document in extra_documents:
        corpus.setdefault(document.text, f"corpus-{document.id}")
    return InformationRetrievalEvaluator(
        queries=queries,
        corpus={doc_id: text for text, doc_id in corpus.items()},
        relevant_docs=relevant,
        name=name,
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1, 10],
        precision_recall_at_k=[1, 10, 100],
        map_at_k=[100],
    )


def score(
    model: SentenceTransformer,
    evaluator: InformationRetrievalEvaluator,
    output_dir: Path,
    epoch: float = 0,
    steps: int = 0,
) -> dict[str, float]:
    """Evaluate `model`; appends a row (epoch, steps, metrics) to the CSV in `output_dir`.

    Distributed, rank 0 evaluates once (every rank encodes a share) and all ranks get its scores.
    """
    scores: dict[str, float] = {}
    with distributed.shared_encoding(model) as main:
        if main:
            results = evaluator(model, output_path=str(output_dir), epoch=epoch, steps=steps)
            prefix = evaluator.primary_metric.removesuffix("ndcg@10")  # e.g. "gold_cosine_"
            scores = {metric: float(results[prefix + metric]) for metric in METRICS}
    return distributed.broadcast(scores)


@distributed.main_process
def write_metrics(before: dict[str, float], after: dict[str, float], path: Path) -> dict:
    """Save before/after/delta to `path` (JSON) and return them."""
    delta = {metric: after[metric] - before[metric] for metric in METRICS}
    metrics = {"before": before, "after": after, "delta": delta}
    write_json(path, metrics)  # atomic: no half-written metrics after a crash
    return metrics
