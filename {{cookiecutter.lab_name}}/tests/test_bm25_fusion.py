import numpy as np
import pytest

from inventory.bm25 import bm25_ranking
from inventory.fusion import DEFAULT, Fusion, choose_fusion, fuse
from inventory.retrieval import Ranking

DOCUMENTS = ["Descaling the machine every month", "Cold milk foams better", "The pump is loud"]


def test_bm25_stems_and_leaves_documents_without_a_shared_term_unranked() -> None:
    ranking = bm25_ranking(DOCUMENTS, ["descale machines", "foaming milk", "zebra"])
    assert ranking.indices.shape == (3, 3)
    assert ranking.indices[0, 0] == 0 and ranking.indices[1, 0] == 1
    assert (ranking.indices[0, 1:] == -1).all() and (ranking.indices[2] == -1).all()
    assert ranking.scores[0, 0] > 0


def ranking(rows: list[list[int]]) -> Ranking:
    indices = np.array(rows)
    return Ranking(
        indices, -np.arange(indices.shape[1], dtype=np.float32)[None].repeat(len(rows), 0)
    )


def test_fusion_weight_one_is_the_dense_ranking_and_zero_the_sparse_one() -> None:
    dense, sparse = ranking([[0, 1, 2, 3]]), ranking([[3, 1, -1, -1]])
    for method in ("rrf", "minmax", "zscore"):
        assert fuse(dense, sparse, Fusion(method, 1.0)).indices[0, :4].tolist() == [0, 1, 2, 3]
        assert fuse(dense, sparse, Fusion(method, 0.0)).indices[0, 0] == 3
    assert fuse(dense, sparse, Fusion("rrf", 0.0)).indices[0, :2].tolist() == [3, 1]
    assert fuse(dense, sparse).indices[0, :2].tolist() == [1, 3]  # found by both
    assert Fusion("rrf", 0.5) == DEFAULT


def test_convex_fusion_weighs_scaled_scores_and_a_missing_document_gets_the_lowest() -> None:
    dense = Ranking(np.array([[0, 1, 2]]), np.array([[0.9, 0.8, 0.1]], dtype=np.float32))
    sparse = Ranking(np.array([[2, 0, -1]]), np.array([[12.0, 2.0, 0.0]], dtype=np.float32))
    fused = fuse(dense, sparse, Fusion("minmax", 0.5))
    # min-max: dense 0 -> 1, 1 -> 0.875, 2 -> 0; sparse 2 -> 1, 0 -> 0, 1 (missing) -> 0.
    assert fused.indices[0, :3].tolist() == [0, 2, 1]
    assert fused.scores[0, :3] == pytest.approx([0.5, 0.5, 0.4375])


def dev_where_score_fusion_wins(rows: int) -> tuple[Ranking, Ranking]:
    """BM25 is sure of the relevant document (0), which dense ranks last: rank fusion cannot
    see BM25's confidence, score fusion can."""
    dense = ranking([[1, 2, 3, 0]] * rows)
    sparse_scores = np.array([[10.0, 1.0, 0.9, 0.8]] * rows, dtype=np.float32)
    return dense, Ranking(np.array([[0, 1, 2, 3]] * rows), sparse_scores)


def test_a_fusion_clearly_better_on_dev_replaces_equal_rrf() -> None:
    fusion, choice = choose_fusion(*dev_where_score_fusion_wins(40), [frozenset({0})] * 40)
    assert fusion.method != "rrf" and choice.chosen == fusion.name
    assert choice.dev[fusion.name] == 1.0 > choice.dev["rrf@0.5"]
    assert choice.p_holm[fusion.name] < choice.alpha


def test_equal_rrf_stays_when_dev_is_too_small_to_tell_the_fusions_apart() -> None:
    fusion, choice = choose_fusion(*dev_where_score_fusion_wins(3), [frozenset({0})] * 3)
    assert fusion == DEFAULT and choice.chosen == "rrf@0.5" and choice.queries == 3
    assert max(choice.dev.values()) == 1.0 > choice.dev["rrf@0.5"]  # better, on 3 queries
