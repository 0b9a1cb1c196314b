"""The approximate index past the threshold (faiss, the optional `ann` extra) and its recall."""

import importlib.util
import json
import sys

import numpy as np
import pytest
from sentence_transformers.util import cos_sim

from inventory import ann
from inventory.datasets import Document, Record
from inventory.embeddings import EmbeddingCache
from inventory.evaluate import GoldEvaluation
from inventory.retrieval import dense_ranking

needs_faiss = pytest.mark.skipif(
    importlib.util.find_spec("faiss") is None,
    reason="the optional `ann` extra (faiss-cpu) is not installed",
)


def overlap(found: np.ndarray, truth: np.ndarray) -> float:
    pairs = zip(found.tolist(), truth.tolist(), strict=True)
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in pairs]))


@needs_faiss
def test_the_index_ranks_by_exact_scores_and_measures_its_recall() -> None:
    rng = np.random.default_rng(0)
    documents = rng.normal(size=(3000, 16)).astype(np.float32)
    queries = (documents[:300] + rng.normal(scale=0.5, size=(300, 16))).astype(np.float32)
    ranking, report = ann.approximate_ranking(queries, documents, cos_sim, cosine=True)
    exact = dense_ranking(queries, documents, cos_sim)
    assert report.index == "faiss IVF54,SQ8 nprobe=6" and report.queries == ann.RECALL_QUERIES
    sample = np.sort(np.random.default_rng(0).choice(300, ann.RECALL_QUERIES, replace=False))
    assert report.recall == pytest.approx(overlap(ranking.indices[sample], exact.indices[sample]))
    assert 0.5 < report.recall < 1.0  # 6 lists of 54 searched: close, not exact
    assert (np.diff(ranking.scores, axis=1) <= 0).all()  # best first
    row = ranking.indices[0][ranking.indices[0] >= 0]
    np.testing.assert_allclose(
        ranking.scores[0][: len(row)], cos_sim(queries[:1], documents[row])[0].numpy(), rtol=1e-5
    )  # the candidates' scores are exact


@needs_faiss
def test_gold_past_the_threshold_records_the_index_and_its_recall(
    static_model, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(ann, "ANN_MIN_DOCUMENTS", 10)
    monkeypatch.setattr(ann, "ANN_MIN_QUERIES", 2)
    records = [Record("descale the machine", ("run the descale cycle",)),
               Record("milk will not foam", ("use cold milk",))]  # fmt: skip
    corpus = [Document(f"d{i}", f"the pump {i} is loud") for i in range(40)]
    gold = GoldEvaluation(records, corpus, tmp_path)
    gold.score_model(static_model, "before", EmbeddingCache(static_model))
    metrics = json.loads((gold.write() and tmp_path / "metrics.json").read_text())
    [recorded] = metrics["gold"]["ann"].values()
    assert recorded["index"].startswith("faiss IVF") and recorded["recall_queries"] == 2
    cache = EmbeddingCache(static_model)
    exact = dense_ranking(cache.encode(gold.task.queries, "query", "q"),
                          cache.encode(gold.task.documents, "document", "d"),
                          static_model.similarity)  # fmt: skip
    expected = overlap(gold.rankings["before"].indices, exact.indices)
    assert metrics["gold"]["ann"]["before"]["recall@100"] == pytest.approx(expected)
    assert metrics["gold"]["ranking"].startswith("approximate top-100 (faiss IVF")


def test_without_faiss_past_the_threshold_ranking_is_exact_and_says_so(
    static_model, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(ann, "ANN_MIN_DOCUMENTS", 10)
    monkeypatch.setattr(ann, "ANN_MIN_QUERIES", 2)
    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss raises ImportError
    rng = np.random.default_rng(1)
    queries, documents = rng.normal(size=(3, 16)), rng.normal(size=(40, 16))
    queries, documents = queries.astype(np.float32), documents.astype(np.float32)
    ranking, report = ann.rank(static_model, queries, documents)
    assert report is None
    exact = dense_ranking(queries, documents, static_model.similarity)
    np.testing.assert_array_equal(ranking.indices, exact.indices)
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("top-k: 3 queries x 40 documents, exact search on the CPU (install")
