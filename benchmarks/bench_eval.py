"""Gold evaluation at corpus scale: the lab's first run and rerun against hand-written code, BM25.

In one process, on the same texts (a lab's gold queries, and every gold passage plus
data/corpus.jsonl), one after the other:
  reference  model.encode of queries and corpus, exact top-100 by the model's similarity;
  lab first  GoldEvaluation.score_model with an empty embedding cache (encodes, writes the cache);
  lab rerun  the same with the cache of the first run (nothing to encode);
  bm25       GoldEvaluation's BM25 (bm25s): tokenising, indexing and scoring the same task.
Targets: first <= 1.15 x reference; rerun <= 5% of first; BM25 a few seconds at 5,000 documents.
Reference and first run alternate --repeat times (medians), so drifting machine load hits both;
process CPU seconds are printed beside wall seconds, as they suffer less from a shared machine.
Run: python benchmarks/bench_eval.py [--data-dir LAB_DATA] [--base-model PATH] [--max-docs N]
                                     [--max-queries N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_lab import bake_lab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a lab's data folder (default: sample data)")
    parser.add_argument("--base-model", help="default: the packaged all-MiniLM-L6-v2")
    parser.add_argument("--max-docs", type=int, help="keep only this many corpus.jsonl documents")
    parser.add_argument("--max-queries", type=int, help="keep only this many gold queries")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_lab(Path(scratch))
        sys.path.insert(0, str(lab))
        import torch
        from inventory import evaluate, preprocess
        from inventory.datasets import load_splits
        from inventory.embeddings import EmbeddingCache
        from inventory.models import DEFAULT_MODEL, load_model
        from inventory.progress import quiet_libraries
        from inventory.retrieval import dense_ranking

        quiet_libraries()
        splits, _ = preprocess.clean_splits(load_splits(args.data_dir or lab / "data"))
        corpus = splits.corpus[: args.max_docs] if args.max_docs else splits.corpus
        model = load_model(args.base_model or DEFAULT_MODEL, 256)
        eval_dir = Path(scratch) / "eval"

        start = time.perf_counter()
        gold = evaluate.GoldEvaluation(splits.gold[: args.max_queries], corpus, eval_dir)
        bm25_seconds = time.perf_counter() - start
        task = gold.task
        model.encode(task.documents[:64])  # warm-up, so that neither side pays first-call costs

        references, firsts, cpu = [], [], {"reference": [], "first": []}
        for round_ in range(args.repeat):
            start, cpu_start = time.perf_counter(), time.process_time()
            queries = model.encode_query(task.queries, convert_to_tensor=True)
            documents = model.encode_document(task.documents, convert_to_tensor=True)
            scores = model.similarity(queries, documents)
            reference_top = scores.topk(min(100, len(task.documents)), dim=1)
            references.append(time.perf_counter() - start)
            cpu["reference"].append(time.process_time() - cpu_start)

            cache_dir = Path(scratch) / f"cache-{round_}"  # empty: a first run
            start, cpu_start = time.perf_counter(), time.process_time()
            metrics = gold.score_model(model, "before", EmbeddingCache(model, cache_dir))
            firsts.append(time.perf_counter() - start)
            cpu["first"].append(time.process_time() - cpu_start)
        start = time.perf_counter()
        gold.score_model(model, "before", EmbeddingCache(model, cache_dir))
        rerun = time.perf_counter() - start
        reference, first = statistics.median(references), statistics.median(firsts)
        same = torch.equal(
            reference_top.indices[:, :10],
            torch.from_numpy(
                dense_ranking(queries.numpy(), documents.numpy(), model.similarity).indices[:, :10]
            ),
        )
        bm25 = evaluate.mean_metrics(gold.per_query["bm25"])

    print(f"gold: {len(task.queries)} queries, {len(task.documents)} documents")
    each = "; ".join(f"{r:.1f} / {f:.1f}" for r, f in zip(references, firsts, strict=True))
    print(f"rounds (reference / lab first, s): {each}")
    print(f"reference encode + top-100: {reference:7.2f} s (median)")
    print(
        f"lab first evaluation:       {first:7.2f} s (median)  ratio {first / reference:.3f}"
        f" (target <= 1.15)  ndcg@10 {metrics['ndcg@10']:.4f}  top-10 equal: {same}"
    )
    cpu_reference, cpu_first = (statistics.median(cpu[side]) for side in ("reference", "first"))
    print(
        f"process CPU: reference {cpu_reference:.1f} s, lab first {cpu_first:.1f} s, "
        f"ratio {cpu_first / cpu_reference:.3f}"
    )
    share = 100 * rerun / first
    print(f"lab rerun (cache):          {rerun:7.2f} s  {share:.1f}% of first (target <= 5%)")
    print(f"bm25 tokenise+index+score:  {bm25_seconds:7.2f} s  ndcg@10 {bm25['ndcg@10']:.4f}")


if __name__ == "__main__":
    main()
