import json
from pathlib import Path

import pytest

from inventory.datasets import Document, Record
from inventory.evaluate import METRICS, ir_evaluator, write_metrics


def test_gold_corpus_holds_every_passage_once_plus_extra_documents() -> None:
    records = [
        Record("descale", ("Run the cycle.",), ("Grind finer.", "Shared tip.")),
        Record("grind", ("Grind finer.",), ("Shared tip.",)),
    ]
    extra = [Document("d9", "A distractor."), Document("x", "Shared tip.")]
    evaluator = ir_evaluator(records, "gold", extra)
    corpus = dict(zip(evaluator.corpus_ids, evaluator.corpus, strict=True))
    texts = ["A distractor.", "Grind finer.", "Run the cycle.", "Shared tip."]
    assert sorted(corpus.values()) == texts
    assert evaluator.queries == ["descale", "grind"]
    relevant = [{corpus[d] for d in evaluator.relevant_docs[q]} for q in evaluator.queries_ids]
    assert relevant == [{"Run the cycle."}, {"Grind finer."}]


def test_write_metrics_saves_before_after_and_delta(tmp_path: Path) -> None:
    before = dict.fromkeys(METRICS, 0.25)
    after = dict.fromkeys(METRICS, 0.75)
    path = tmp_path / "eval" / "metrics.json"
    metrics = write_metrics(before, after, path)
    assert json.loads(path.read_text(encoding="utf-8")) == metrics
    assert set(metrics) == {"before", "after", "delta"}
    assert metrics["delta"]["ndcg@10"] == pytest.approx(0.5)
    assert set(metrics["after"]) == set(METRICS)
