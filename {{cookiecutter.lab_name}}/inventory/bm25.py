"""BM25 (bm25s, Lucene's variant, English stop words and Snowball stemming) for any task."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inventory.progress import interactive
from inventory.retrieval import DEPTH, Ranking

SETTINGS = {"library": "bm25s", "method": "lucene", "k1": 1.5, "b": 0.75, "stemmer": "english",
            "stopwords": "en"}  # fmt: skip


def bm25_ranking(documents: Sequence[str], queries: Sequence[str], depth: int = DEPTH) -> Ranking:
    """Each query's top `depth` documents by BM25; documents sharing no term are not ranked."""
    import bm25s
    import Stemmer

    tokenizer = bm25s.tokenization.Tokenizer(
        stopwords=SETTINGS["stopwords"], stemmer=Stemmer.Stemmer(SETTINGS["stemmer"])
    )
    show = interactive()
    corpus_tokens = tokenizer.tokenize(list(documents), return_as="ids", show_progress=show)
    index = bm25s.BM25(method=SETTINGS["method"], k1=SETTINGS["k1"], b=SETTINGS["b"])
    index.index(corpus_tokens, show_progress=show)
    query_tokens = tokenizer.tokenize(
        list(queries), update_vocab=False, return_as="ids", show_progress=False
    )
    # NumPy, not bm25s's "auto": with JAX installed that picks JAX, whose first use on a GPU takes
    # 75% of its memory (on an H200, concurrent sweep trials then ran out of memory).
    indices, scores = index.retrieve(
        query_tokens, k=min(depth, len(documents)), show_progress=show, backend_selection="numpy"
    )
    indices = np.where(scores > 0, indices, -1)  # zero score: no shared term, not a match
    return Ranking(indices.astype(np.int64), scores.astype(np.float32))
