"""Exact chunked top-100 against the faiss IVF index (inventory/ann.py) as the corpus grows.

Synthetic unit vectors with cluster structure (documents drawn around 2,000 centres, each query
near one document) stand in for a model's embeddings. For each corpus size: wall and CPU seconds
of exact search (inventory.retrieval.dense_ranking on the CPU) and of the index (build, search,
exact rescoring of its candidates and the recall sample), and the index's recall@100 against exact
search. inventory.ann's ANN_MIN_DOCUMENTS and ANN_MIN_QUERIES come from where the index becomes
the cheaper of the two (vary --queries). Run:
  python benchmarks/bench_topk.py [--sizes 100000,300000,1000000] [--queries 1000] [--dim 384]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_lab import bake_lab


def synthetic(count: int, queries: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    documents = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, 100_000):
        rows = min(100_000, count - start)
        noise = rng.normal(scale=0.6, size=(rows, dim)).astype(np.float32)
        documents[start : start + rows] = centres[rng.integers(0, len(centres), rows)] + noise
    picked = documents[rng.integers(0, count, queries)]
    query_vectors = picked + rng.normal(scale=0.4, size=picked.shape).astype(np.float32)
    return query_vectors, documents


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_lab(Path(scratch))  # before sys.path.insert: baking replaces sys.path
        sys.path.insert(0, str(lab))
        import torch
        from inventory.ann import approximate_ranking
        from inventory.retrieval import dense_ranking
        from sentence_transformers.util import cos_sim

        print(f"torch threads {torch.get_num_threads()}, {args.queries} queries, dim {args.dim}")
        print(f"{'documents':>10} {'exact s (cpu)':>16} {'index s (cpu)':>16} {'recall@100':>10}")
        for size in map(int, args.sizes.split(",")):
            queries, documents = synthetic(size, args.queries, args.dim)
            exact, wall, cpu = timed(lambda: dense_ranking(queries, documents, cos_sim))  # noqa: B023
            (ranking, report), ann_wall, ann_cpu = timed(
                lambda: approximate_ranking(queries, documents, cos_sim, True)  # noqa: B023
            )
            print(f"{size:>10} {wall:>7.1f} ({cpu:>6.1f}) {ann_wall:>7.1f} ({ann_cpu:>6.1f}) "
                  f"{report.recall:>10.4f}  {report.index}", flush=True)  # fmt: skip
            del exact, ranking


if __name__ == "__main__":
    main()
