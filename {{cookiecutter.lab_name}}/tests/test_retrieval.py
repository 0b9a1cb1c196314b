import hashlib

import numpy as np
import pytest
from conftest import SAMPLE_TEXTS
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

from inventory.datasets import Document, Record
from inventory.evaluate import ir_evaluator
from inventory.retrieval import (
    METRICS,
    Ranking,
    build_task,
    dense_ranking,
    mean_metrics,
    per_query_metrics,
    query_ids,
)

RECORDS = [
    Record(SAMPLE_TEXTS[0], (SAMPLE_TEXTS[1],), (SAMPLE_TEXTS[5],)),
    Record(SAMPLE_TEXTS[2], (SAMPLE_TEXTS[3], SAMPLE_TEXTS[8]), (SAMPLE_TEXTS[4],)),
    Record(SAMPLE_TEXTS[6], (SAMPLE_TEXTS[7],), (SAMPLE_TEXTS[9], SAMPLE_TEXTS[10])),
    Record(SAMPLE_TEXTS[11], (SAMPLE_TEXTS[4],)),
]


def test_corpus_holds_every_passage_once_plus_extra_documents() -> None:
    records = [
        Record("descale", ("Run the cycle.",), ("Grind finer.", "Shared tip.")),
        Record("grind", ("Grind finer.",), ("Shared tip.",)),
        Record("descale", ("Shared tip.",)),
    ]
    extra = [Document("d9", "A distractor."), Document("x", "Shared tip.")]
    task = build_task(records, "gold", extra)
    texts = ["A distractor.", "Grind finer.", "Run the cycle.", "Shared tip."]
    assert sorted(task.documents) == texts
    assert task.doc_ids[task.documents.index("A distractor.")] == "corpus-d9"
    assert [{task.documents[i] for i in rel} for rel in task.relevant] == [
        {"Run the cycle."}, {"Grind finer."}, {"Shared tip."},
    ]  # fmt: skip
    first, second, repeated = task.query_ids
    assert first.startswith("gold-") and repeated == f"{first}-2" and second != first
    assert build_task(records[::-1], "gold").query_ids[1] == second  # the line order is irrelevant


def test_query_ids_are_a_hash_of_the_text_and_count_repeats() -> None:
    """The ids in eval/per_query.csv; `emb compare` finds a gold query's text by them."""
    digest = hashlib.sha1(b"descale").hexdigest()[:10]
    ids = query_ids(["descale", "grind", "descale", "descale"], "dev")
    assert ids[0] == f"dev-{digest}" and ids[2:] == [f"dev-{digest}-2", f"dev-{digest}-3"]
    assert ids[1] not in ids[:1] + ids[2:]


def test_metrics_by_hand() -> None:
    ranking = Ranking(np.array([[5, 3, 9, -1]]), np.array([[0.9, 0.8, 0.7, 0.0]], np.float32))
    metrics = per_query_metrics(ranking, [frozenset({3, 4})])
    assert metrics["mrr@10"][0] == pytest.approx(0.5)
    assert metrics["ndcg@10"][0] == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    assert metrics["map@100"][0] == pytest.approx(0.5 / 2)
    assert (metrics["recall@1"][0], metrics["recall@10"][0]) == (0.0, 0.5)


def library_evaluator(task) -> InformationRetrievalEvaluator:
    """sentence-transformers' own evaluator (binary relevance), the lab's settings."""
    return InformationRetrievalEvaluator(
        queries=dict(zip(task.query_ids, task.queries, strict=True)),
        corpus=dict(zip(task.doc_ids, task.documents, strict=True)),
        relevant_docs={q: {task.doc_ids[i] for i in relevant}
                       for q, relevant in zip(task.query_ids, task.relevant, strict=True)},
        name=task.name, mrr_at_k=[10], ndcg_at_k=[10], accuracy_at_k=[1, 10],
        precision_recall_at_k=[1, 10, 100], map_at_k=[100],
    )  # fmt: skip


def test_metrics_equal_information_retrieval_evaluator(static_model) -> None:
    """The lab's exact top-k and metrics give what sentence-transformers' evaluator gives, and so
    does the lab's dev evaluator (data without grades)."""
    extra = [Document(str(i), text) for i, text in enumerate(SAMPLE_TEXTS)]
    task = build_task(RECORDS, "gold", extra)
    expected = library_evaluator(task)(static_model)
    assert ir_evaluator(task)(static_model) == pytest.approx(expected)
    queries = static_model.encode_query(task.queries)
    documents = static_model.encode_document(task.documents)
    ranking = dense_ranking(queries, documents, static_model.similarity)
    per_query = per_query_metrics(ranking, task.relevant)
    ours = mean_metrics(per_query) | {
        f"{kind}@{k}": float(per_query[f"{kind}@{k}"].mean())
        for kind in ("accuracy", "precision") for k in (1, 10)
    }  # fmt: skip
    for metric in (*METRICS, "accuracy@1", "accuracy@10", "precision@1", "precision@10"):
        assert ours[metric] == pytest.approx(expected[f"gold_cosine_{metric}"]), metric


def test_chunked_top_k_equals_one_block(monkeypatch) -> None:
    """Blocks of 7 documents x 5 queries give the ranking of one block (the GPU runs the same
    code with blocks sized to its memory)."""
    import torch
    from sentence_transformers.util import cos_sim

    from inventory import retrieval

    rng = np.random.default_rng(3)
    queries, documents = rng.normal(size=(23, 8)), rng.normal(size=(130, 8))
    queries, documents = queries.astype(np.float32), documents.astype(np.float32)
    whole = dense_ranking(queries, documents, cos_sim, depth=20)
    full = cos_sim(queries, documents).numpy()
    np.testing.assert_array_equal(whole.indices, np.argsort(-full, axis=1)[:, :20])
    monkeypatch.setattr(retrieval, "CPU_SCORES", 35)
    monkeypatch.setattr(retrieval, "QUERY_BLOCK", 5)
    assert retrieval.score_budget(torch.device("cpu")) // 5 == 7  # documents per block
    chunked = dense_ranking(queries, documents, cos_sim, depth=20)
    np.testing.assert_array_equal(chunked.indices, whole.indices)
    np.testing.assert_allclose(chunked.scores, whole.scores, rtol=1e-6)
    assert dense_ranking(queries, documents[:3], cos_sim).indices.shape == (23, 3)
