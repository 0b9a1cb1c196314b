import numpy as np

from inventory.bm25 import bm25_ranking
from inventory.fusion import choose_weight, fuse
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
    assert fuse(dense, sparse, 1.0).indices[0, :4].tolist() == [0, 1, 2, 3]
    assert fuse(dense, sparse, 0.0).indices[0, :2].tolist() == [3, 1]
    assert fuse(dense, sparse, 0.5).indices[0, :2].tolist() == [1, 3]  # found by both


def test_the_weight_is_the_one_that_ranks_dev_best() -> None:
    dense, sparse = ranking([[1, 0, 2, 3]]), ranking([[2, 0, 3, 1]])
    weight, ndcg = choose_weight(dense, sparse, [frozenset({2})])
    assert weight <= 0.5 and ndcg == 1.0  # BM25 ranks dev right: no larger share for dense
    weight, ndcg = choose_weight(dense, sparse, [frozenset({1})])
    assert weight > 0.5 and ndcg == 1.0
