import csv
import json

import pytest
from conftest import SAMPLE_TEXTS

from inventory.datasets import Document, Record
from inventory.embeddings import EmbeddingCache
from inventory.evaluate import GoldEvaluation, dev_evaluator, ir_evaluator
from inventory.retrieval import (
    METRICS,
    Ranking,
    build_task,
    dense_ranking,
    mean_metrics,
    per_query_metrics,
)

GOLD = [
    Record("descale the machine", ("run the descale cycle",), ("check the fuse",)),
    Record("milk will not foam", ("use cold milk",), ("prime the pump",)),
    Record("the pump is loud", ("prime the pump",), ("replace the gasket",)),
]
DEV = [
    Record("coffee tastes sour", ("grind finer for a slower shot",)),
    Record("water tank leaks", ("replace the gasket",)),
]
CORPUS = [Document(f"d{i}", text) for i, text in enumerate(SAMPLE_TEXTS)]


def test_gold_scores_every_system_and_writes_metrics_and_per_query(static_model, tmp_path) -> None:
    gold = GoldEvaluation(GOLD, CORPUS, tmp_path / "eval")
    before = gold.score_model(static_model, "before", EmbeddingCache(static_model, tmp_path / "c"))
    tuned = EmbeddingCache(static_model)
    after = gold.score_model(static_model, "after", tuned, epoch=1, steps=4)
    assert after == before  # the same model ranks the same way
    hybrid = gold.score_hybrid(static_model, DEV, tuned)
    metrics = gold.write()

    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert saved == metrics
    for system in ("before", "after", "delta", "bm25", "hybrid"):
        assert set(metrics[system]) == set(METRICS), system
    assert metrics["hybrid"] == hybrid
    for system in ("before", "bm25", "hybrid"):
        assert all(0.0 <= value <= 1.0 for value in metrics[system].values())
    assert metrics["bm25"]["ndcg@10"] > 0.5  # each gold query shares words with its passage
    config = metrics["hybrid_config"]
    assert config["chosen_on"] == "dev" and 0.0 <= config["weight"] <= 1.0
    assert set(config["dev_ndcg@10_alone"]) == {"after", "bm25"}
    choice = config["choice"]  # what was compared on dev, and why the fusion was kept or changed
    assert choice["default"] == "rrf@0.5"
    assert choice["chosen"] == f"{config['method']}@{config['weight']:g}"
    assert set(choice["dev"]) == {"rrf@0.5", *choice["p_value"]} and len(choice["p_value"]) == 8
    assert config["dev_ndcg@10"] == pytest.approx(choice["dev"][choice["chosen"]], abs=1e-6)
    assert metrics["bm25_config"]["library"] == "bm25s"
    assert metrics["dev"] == {
        "ndcg@10": config["dev_ndcg@10_alone"]["after"],
        "queries": len(DEV),
        "ranked_against": "dev passages + corpus",
    }
    assert metrics["gold"] == {"queries": len(GOLD), "documents": len(gold.task.documents),
                               "ranking": "exact top-100 by the model's similarity"}  # fmt: skip
    assert list(metrics) == ["before", "after", "delta", "bm25", "hybrid", "bm25_config",
                             "hybrid_config", "relevance", "relevance_threshold", "gold",
                             "dev"]  # fmt: skip
    assert (metrics["relevance"], metrics["relevance_threshold"]) == ("binary", 1)  # no grades

    with (tmp_path / "eval" / "per_query.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["query_id", "system", "ndcg@10", "recall@100"]
    assert [row["system"] for row in rows] == [s for s in ("before", "after", "bm25", "hybrid")
                                               for _ in GOLD]  # fmt: skip
    assert len({row["query_id"] for row in rows}) == len(GOLD)
    bm25 = [float(row["ndcg@10"]) for row in rows if row["system"] == "bm25"]
    assert sum(bm25) / len(bm25) == pytest.approx(metrics["bm25"]["ndcg@10"], 1e-5)

    evaluator_csv = tmp_path / "eval" / "Information-Retrieval_evaluation_gold_results.csv"
    header, *lines = evaluator_csv.read_text(encoding="utf-8").splitlines()
    assert "cosine-NDCG@10" in header and len(lines) == 2  # before and after


def test_hooks_see_every_scored_models_vectors_and_add_to_metrics(static_model, tmp_path) -> None:
    seen = []

    sizes: dict[str, int] = {}

    def hook(evaluation, system, model, queries, documents) -> None:
        seen.append((system, model, queries.shape, documents.shape))
        sizes[system] = int(queries.shape[1])
        evaluation.add_section("sizes", sizes)

    gold = GoldEvaluation(GOLD, CORPUS, tmp_path / "eval", hooks=[hook])
    gold.score_model(static_model, "before", EmbeddingCache(static_model))
    gold.score_model(static_model, "after", EmbeddingCache(static_model))
    metrics = gold.write()
    documents = len(gold.task.documents)
    assert seen == [(system, static_model, (len(GOLD), 16), (documents, 16))
                    for system in ("before", "after")]  # fmt: skip
    assert metrics["sizes"] == {"before": 16, "after": 16}
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["sizes"] == metrics["sizes"]


def test_a_recipe_system_and_config_are_written_once(static_model, tmp_path) -> None:
    gold = GoldEvaluation(GOLD, CORPUS, tmp_path / "eval")
    gold.score_model(static_model, "before", EmbeddingCache(static_model))
    reversed_bm25 = Ranking(gold.rankings["bm25"].indices[:, ::-1], gold.rankings["bm25"].scores)
    first = gold.add_system("first_stage", gold.rankings["bm25"])
    gold.add_system("after", reversed_bm25)
    gold.add_system("first_stage", gold.rankings["bm25"])  # again: replaces, never repeats
    gold.add_config("rerank", {"k": 2})
    gold.ranking = "bm25 first stage, top 2 reranked"
    gold.set_dev(0.5, 7, step=3)
    metrics = gold.write()

    assert metrics["first_stage"] == first == metrics["bm25"]
    assert metrics["rerank_config"] == {"k": 2}
    assert metrics["gold"]["ranking"] == "bm25 first stage, top 2 reranked"
    assert metrics["dev"] == {"ndcg@10": 0.5, "queries": 7, "step": 3}
    assert list(metrics)[:5] == ["before", "after", "delta", "bm25", "first_stage"]
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert saved == metrics
    rows = (tmp_path / "eval" / "per_query.csv").read_text(encoding="utf-8").splitlines()[1:]
    systems = [row.split(",")[1] for row in rows]
    assert systems == [s for s in ("before", "after", "bm25", "first_stage") for _ in GOLD]
    with pytest.raises(ValueError, match="not a recipe section"):
        gold.add_section("after", {})


def test_dev_evaluator_caps_queries_and_adds_a_seeded_corpus_sample() -> None:
    dev = [Record(f"question {i}", (f"answer {i}",)) for i in range(20)]
    evaluator = dev_evaluator(dev, CORPUS, max_queries=5, corpus_sample=4, seed=1)
    assert len(evaluator.queries) == 5
    assert len(evaluator.corpus) == 5 + 4
    again = dev_evaluator(dev, CORPUS, max_queries=5, corpus_sample=4, seed=1)
    assert again.corpus == evaluator.corpus and again.queries == evaluator.queries
    everything = dev_evaluator(dev, [], max_queries=50, corpus_sample=500, seed=1)
    assert len(everything.queries) == 20 and len(everything.corpus) == 20


GRADED_GOLD = [  # grades that the binary figures cannot see
    Record("descale the machine", ("run the descale cycle", "check the fuse"), pos_grades=(3, 1)),
    Record("milk will not foam", ("use cold milk", "prime the pump"), pos_grades=(1, 2)),
    Record("the pump is loud", ("prime the pump",), ("replace the gasket",)),
]


def test_graded_gold_is_scored_and_recorded_as_graded(static_model, tmp_path) -> None:
    gold = GoldEvaluation(GRADED_GOLD, CORPUS, tmp_path / "eval")
    gold.score_model(static_model, "before", EmbeddingCache(static_model))
    metrics = gold.write()
    assert (metrics["relevance"], metrics["relevance_threshold"]) == ("graded", 1)
    graded = gold.task.relevant
    assert graded[0] == {gold.task.documents.index("run the descale cycle"): 3,
                         gold.task.documents.index("check the fuse"): 1}  # fmt: skip
    binary = [set(judged) for judged in graded]
    for system in ("before", "bm25"):
        ranking = gold.rankings[system]
        assert metrics[system] == mean_metrics(per_query_metrics(ranking, graded))
        ungraded = per_query_metrics(ranking, binary)["ndcg@10"].mean()
        assert metrics[system]["ndcg@10"] != pytest.approx(ungraded)  # the grades count
    with (tmp_path / "eval" / "per_query.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["system"] == "bm25"]
    expected = per_query_metrics(gold.rankings["bm25"], graded)["ndcg@10"]
    assert [float(row["ndcg@10"]) for row in rows] == pytest.approx(expected, abs=1e-6)


def test_dev_evaluation_during_training_scores_like_gold(static_model) -> None:
    """The trainer's evaluator gives the lab's graded figures for the same dev task."""
    task = build_task(GRADED_GOLD, "dev", CORPUS)
    scores = ir_evaluator(task)(static_model)
    queries = static_model.encode_query(task.queries)
    documents = static_model.encode_document(task.documents)
    ranking = dense_ranking(queries, documents, static_model.similarity)
    lab = per_query_metrics(ranking, task.relevant)
    for metric in (*METRICS, "accuracy@1", "precision@10"):
        assert scores[f"dev_cosine_{metric}"] == pytest.approx(float(lab[metric].mean())), metric
    binary = per_query_metrics(ranking, [set(judged) for judged in task.relevant])
    assert scores["dev_cosine_ndcg@10"] != pytest.approx(float(binary["ndcg@10"].mean()))
