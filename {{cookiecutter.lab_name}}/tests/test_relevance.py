"""Graded relevance: the lab's metrics checked against trec_eval's (pytrec_eval), value by value.

pytrec_eval (pip install pytrec-eval-terrier, in the lab's dev group) is the reference BEIR and
MTEB score their leaderboards with.
"""

import numpy as np
import pytest
import pytrec_eval

from inventory.datasets import Record
from inventory.retrieval import (
    DEPTH,
    RELEVANCE_THRESHOLD,
    Ranking,
    build_task,
    per_query_metrics,
    relevance,
)

TREC_EVAL = {  # the lab's metric -> trec_eval's measure (mrr@10: recip_rank of the top 10)
    "ndcg@10": "ndcg_cut_10",
    "map@100": "map_cut_100",
    **{f"recall@{k}": f"recall_{k}" for k in (1, 10, 100)},
    **{f"precision@{k}": f"P_{k}" for k in (1, 10, 100)},
    **{f"accuracy@{k}": f"success_{k}" for k in (1, 10, 100)},
    "mrr@10": "recip_rank",
}
# Hand-made: grades that change the order of merit, a short list, relevant documents missed.
HAND_RANKING = [[1, 5, 0, 7, 2], [4, 9], [3, 9, 10, 12], [6, -1, -1], [13, 14, 15, 0]]
HAND_JUDGMENTS = [{0: 3, 1: 1, 2: 2}, {4: 2}, {3: 1, 8: 3}, {6: 2, 11: 2}, {15: 1, 16: 2}]


def ranking_of(rows: list[list[int]]) -> Ranking:
    indices = np.full((len(rows), DEPTH), -1, dtype=np.int64)
    for row, documents in enumerate(rows):
        indices[row, : len(documents)] = documents
    return Ranking(indices, np.zeros(indices.shape, np.float32))


def trec_eval(ranking: Ranking, judgments: list[dict[int, int]]) -> dict[str, np.ndarray]:
    """pytrec_eval's figures per query; the scores fall with the rank: trec_eval keeps the order."""
    qrels = {str(q): {str(d): g for d, g in judged.items()} for q, judged in enumerate(judgments)}
    run = {
        str(q): {str(d): float(DEPTH - rank) for rank, d in enumerate(row) if d >= 0}
        for q, row in enumerate(ranking.indices.tolist())
    }
    measures = {"ndcg_cut.10", "map_cut.100", "recall.1,10,100", "P.1,10,100", "success.1,10,100"}
    level = {"relevance_level": RELEVANCE_THRESHOLD}
    results = pytrec_eval.RelevanceEvaluator(qrels, measures, **level).evaluate(run)
    top_10 = {q: {d: s for d, s in docs.items() if s > DEPTH - 10} for q, docs in run.items()}
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, **level).evaluate(top_10)
    return {
        metric: np.array([(mrr if metric == "mrr@10" else results)[q][measure] for q in run])
        for metric, measure in TREC_EVAL.items()
    }


def random_fixture(seed: int, queries: int = 40) -> tuple[Ranking, list[dict[int, int]]]:
    """Queries with 1 to 30 judged documents graded 1-3, and rankings that find some of them."""
    rng = np.random.default_rng(seed)
    judgments, rows = [], []
    for _ in range(queries):
        judged = rng.choice(1000, size=rng.integers(1, 31), replace=False)
        judgments.append({int(d): int(rng.integers(1, 4)) for d in judged})
        pool = np.concatenate([judged, rng.choice(np.arange(1000, 1300), 150, replace=False)])
        rows.append(rng.permutation(pool)[: rng.integers(1, DEPTH + 1)].tolist())
    return ranking_of(rows), judgments


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_graded_metrics_equal_trec_eval_value_by_value(seed: int | None) -> None:
    if seed is None:
        ranking, judgments = ranking_of(HAND_RANKING), HAND_JUDGMENTS
    else:
        ranking, judgments = random_fixture(seed)
    ours, reference = per_query_metrics(ranking, judgments), trec_eval(ranking, judgments)
    for metric in TREC_EVAL:
        np.testing.assert_allclose(ours[metric], reference[metric], rtol=0, atol=1e-12,
                                   err_msg=metric)  # fmt: skip


def test_grades_change_ndcg_and_not_the_binary_metrics() -> None:
    ranking = ranking_of(HAND_RANKING)
    graded = per_query_metrics(ranking, HAND_JUDGMENTS)
    binary = per_query_metrics(ranking, [set(judged) for judged in HAND_JUDGMENTS])
    # query 0 ranks its grade-1 document first and its grade-3 one third
    first = (1 / np.log2(2) + 3 / np.log2(4) + 2 / np.log2(6)) / (3 + 2 / np.log2(3) + 1 / 2)
    assert graded["ndcg@10"][0] == pytest.approx(first)
    ones = (1 + 1 / 2 + 1 / np.log2(6)) / (1 + 1 / np.log2(3) + 1 / 2)
    assert binary["ndcg@10"][0] == pytest.approx(ones)
    assert not np.allclose(graded["ndcg@10"], binary["ndcg@10"])
    for metric in graded:
        if metric != "ndcg@10":
            np.testing.assert_array_equal(graded[metric], binary[metric], err_msg=metric)


def test_map_divides_by_at_most_100_relevant_documents_as_sentence_transformers_does() -> None:
    """The one definition that differs from trec_eval's map_cut.100 (which divides by all 150)."""
    judgments = [dict.fromkeys(range(150), 1)]
    ranking = ranking_of([list(range(100))])
    assert per_query_metrics(ranking, judgments)["map@100"][0] == 1.0
    assert trec_eval(ranking, judgments)["map@100"][0] == pytest.approx(100 / 150)


def binary_metrics_before_grades(ranking: Ranking, relevant: list[set[int]]) -> dict:
    """The lab's metrics as they were before graded relevance (binary), kept as the reference."""
    rows = zip(ranking.indices, relevant, strict=True)
    hits = np.array([[index in wanted for index in row] for row, wanted in rows], dtype=np.float64)
    hits = hits.reshape(len(relevant), -1)
    hits = np.pad(hits, ((0, 0), (0, max(0, DEPTH - hits.shape[1]))))
    n_relevant = np.array([len(wanted) for wanted in relevant], dtype=np.float64)
    ranks = np.arange(1, DEPTH + 1)
    discounts = 1 / np.log2(ranks + 1)
    ideal = np.array([discounts[: min(int(n), 10)].sum() for n in n_relevant])
    precision_at_hits = np.cumsum(hits, axis=1) / ranks * hits
    metrics = {
        "ndcg@10": (hits[:, :10] * discounts[:10]).sum(axis=1) / ideal,
        "mrr@10": (hits[:, :10] / ranks[:10]).max(axis=1),
        "map@100": precision_at_hits.sum(axis=1) / np.minimum(DEPTH, n_relevant),
    }
    for k in (1, 10, 100):
        metrics[f"recall@{k}"] = hits[:, :k].sum(axis=1) / n_relevant
        metrics[f"precision@{k}"] = hits[:, :k].sum(axis=1) / k
        metrics[f"accuracy@{k}"] = hits[:, :k].max(axis=1)
    return metrics


def test_data_without_grades_scores_exactly_as_before() -> None:
    ranking, judgments = random_fixture(3)
    records = [Record(f"q{i}", tuple(f"d{d}" for d in docs)) for i, docs in enumerate(judgments)]
    task = build_task(records, "gold")
    assert relevance(task.relevant) == "binary"
    assert all(set(judged.values()) == {1} for judged in task.relevant)
    position = {text: index for index, text in enumerate(task.documents)}
    ranking = ranking_of([
        [position.get(f"d{d}", 10_000 + d) for d in row if d >= 0]  # not judged: outside the task
        for row in ranking.indices.tolist()
    ])  # fmt: skip
    reference = binary_metrics_before_grades(ranking, [set(judged) for judged in task.relevant])
    ours = per_query_metrics(ranking, task.relevant)
    assert set(ours) == set(reference)
    for metric, values in reference.items():
        np.testing.assert_array_equal(ours[metric], values, err_msg=metric)  # bit for bit


def test_tasks_carry_grades_and_say_which_relevance() -> None:
    records = [
        Record("q1", ("a", "b", "a"), ("n",), pos_grades=(1, 3, 2)),  # "a" twice: its best grade
        Record("q2", ("b",), ("a",)),
    ]
    task = build_task(records, "gold")
    position = {text: index for index, text in enumerate(task.documents)}
    assert task.relevant == [{position["a"]: 2, position["b"]: 3}, {position["b"]: 1}]
    assert relevance(task.relevant) == "graded"
    all_ones = build_task([Record("q", ("a",), pos_grades=(1,))], "gold")
    assert relevance(all_ones.relevant) == "binary"
    assert relevance([frozenset({1, 2})]) == "binary"
