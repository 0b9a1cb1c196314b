"""Which precision `--precision auto` may pick on this device: speed, and faithfulness on NFCorpus.

1. Encoding throughput of the base model (all-MiniLM-L6-v2 by default) in each precision this
   device runs (CPU: fp32, bf16; CUDA: fp32, tf32, bf16, fp16), at several batch sizes, on the
   longest --texts gold documents (what dominates a real corpus's cost): wall and process CPU
   seconds, documents/s, and the minimum cosine of each vector to its fp32 twin.
2. Zero-shot ndcg@10 on gold and on dev (the lab's scoring: every passage plus corpus.jsonl),
   fp32 against each other precision. `auto` may encode in a precision only where it is faster
   AND every ndcg@10 is within 0.002 of fp32's (the rule in inventory/device.py).
3. On CUDA: --train-steps MNRL steps (batch 64) in fp32, TF32 and bf16 autocast.
Prints what `auto` picks here (inventory/device.py) and the CPU's bf16 flags.
Run: python benchmarks/bench_precision.py --data-dir LAB_DATA [--base-model PATH]
         [--batch-sizes 16,32,64,128] [--texts 512] [--skip-ndcg] [--train-steps 100]
A shared machine disturbs wall time; CPU seconds suffer less (both are printed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench_lab import bake_lab

FAITHFUL = 0.002  # ndcg@10 within this of fp32's, on gold and on dev


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a lab's data folder (default: sample data)")
    parser.add_argument("--base-model", help="default: the packaged all-MiniLM-L6-v2")
    parser.add_argument("--batch-sizes", default="16,32,64,128")
    parser.add_argument("--texts", type=int, default=512, help="documents timed per setting")
    parser.add_argument("--skip-ndcg", action="store_true", help="only the throughput")
    parser.add_argument("--train-steps", type=int, default=100, help="CUDA only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_lab(Path(scratch))
        sys.path.insert(0, str(lab))
        import torch
        from inventory import device, preprocess
        from inventory.config import TrainConfig
        from inventory.datasets import load_splits
        from inventory.models import DEFAULT_MODEL, load_model
        from inventory.progress import quiet_libraries
        from inventory.retrieval import build_task

        quiet_libraries()
        kind = device.device_kind()
        precisions = ["fp32", "bf16"] if kind == "cpu" else ["fp32", "tf32", "bf16", "fp16"]
        precisions = [p for p in precisions if not device.unsupported(p, kind)]
        chosen = device.settings(TrainConfig())
        print(f"device: {kind}; cpu bf16 flags: {device.cpu_has_bf16()}; torch threads "
              f"{torch.get_num_threads()}; auto picks train {chosen.train_precision}, encoding "
              f"{chosen.encoding.precision} at batch {chosen.encoding.batch_size}")  # fmt: skip
        splits, _ = preprocess.clean_splits(load_splits(args.data_dir or lab / "data"))
        model = load_model(args.base_model or DEFAULT_MODEL, 256)
        sizes = [int(size) for size in args.batch_sizes.split(",")]
        gold = build_task(splits.gold, "gold", splits.corpus)  # every passage, and corpus.jsonl
        throughput(model, gold.documents, precisions, sizes, args.texts)
        if not args.skip_ndcg:
            faithfulness(model, splits, precisions, chosen.encoding.batch_size)
        if kind == "cuda" and args.train_steps:
            training_steps(model, splits.train, args.train_steps)


def throughput(model, documents, precisions: list[str], sizes: list[int], count: int) -> None:
    import numpy as np
    from inventory.device import Encoding
    from inventory.embeddings import encode

    texts = sorted(documents, key=len, reverse=True)[:count]
    encode(model, texts[:32], "document", "warm-up", Encoding())
    print(f"\nencoding {len(texts)} documents (the longest gold documents), per setting:")
    reference = {}
    for precision in precisions:
        for size in sizes:
            encoding = Encoding(precision, size)
            wall, cpu, vectors = timed(encode, model, texts, "document", "timed", encoding)
            reference.setdefault(size, vectors)
            base = reference[size]
            cosine = (vectors * base).sum(1) / (
                np.linalg.norm(vectors, axis=1) * np.linalg.norm(base, axis=1)
            )
            print(f"  {precision:>4} batch {size:>4}: {wall:7.1f} s wall, {cpu:7.1f} s CPU, "
                  f"{len(texts) / wall:8.1f} documents/s; min cosine to fp32 "
                  f"{cosine.min():.5f}")  # fmt: skip


def timed(work, *args):
    import torch

    start, cpu = time.perf_counter(), time.process_time()
    result = work(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu, result


def faithfulness(model, splits, precisions: list[str], batch_size: int) -> None:
    from inventory.device import Encoding
    from inventory.embeddings import EmbeddingCache
    from inventory.retrieval import build_task, dense_ranking, mean_metrics, per_query_metrics

    tasks = [build_task(splits.gold, "gold", splits.corpus),
             build_task(splits.dev, "dev", splits.corpus)]  # fmt: skip
    print(f"\nzero-shot ndcg@10 (gold {len(tasks[0].queries)} queries, {len(tasks[0].documents)} "
          f"documents; dev {len(tasks[1].queries)} queries), batch {batch_size}:")  # fmt: skip
    scores: dict[str, dict[str, float]] = {}
    for precision in precisions:
        cache = EmbeddingCache(model, None, Encoding(precision, batch_size))  # dev reuses gold's
        start, started_cpu = time.perf_counter(), time.process_time()
        for task in tasks:
            queries = cache.encode(task.queries, "query", f"{task.name} queries ({precision})")
            documents = cache.encode(task.documents, "document", f"{task.name} ({precision})")
            ranking = dense_ranking(queries, documents, model.similarity)
            metrics = mean_metrics(per_query_metrics(ranking, task.relevant))
            scores.setdefault(precision, {})[task.name] = metrics["ndcg@10"]
        wall, cpu = time.perf_counter() - start, time.process_time() - started_cpu
        gaps = {name: scores[precision][name] - scores["fp32"][name] for name in scores[precision]}
        verdict = all(abs(gap) <= FAITHFUL for gap in gaps.values())
        print(f"  {precision:>4}: gold {scores[precision]['gold']:.4f}, dev "
              f"{scores[precision]['dev']:.4f}; vs fp32 gold {gaps['gold']:+.4f}, dev "
              f"{gaps['dev']:+.4f} -> {'faithful' if verdict else 'NOT faithful'} (within "
              f"{FAITHFUL}); encoding both: {wall:.1f} s wall, {cpu:.1f} s CPU")  # fmt: skip


def training_steps(model, records, steps: int) -> None:
    """MNRL steps at batch 64 on (query, positive) pairs in fp32, TF32 and bf16 autocast."""
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    pairs = [(record.query, record.pos[0]) for record in records]
    loss = MultipleNegativesRankingLoss(model)
    print(f"\ntraining: {steps} MNRL steps at batch 64 (the same pairs, fresh optimiser):")
    state = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    tokenize = getattr(model, "preprocess", None) or model.tokenize  # ST 6.2 renamed it
    for precision in ("fp32", "tf32", "bf16"):
        model.load_state_dict(state)
        optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
        torch.set_float32_matmul_precision("high" if precision == "tf32" else "highest")
        autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16")

        def run(optimizer: torch.optim.Optimizer, autocast: torch.autocast) -> None:
            for step in range(steps):
                batch = [pairs[(step * 64 + i) % len(pairs)] for i in range(64)]
                features = [tokenize([pair[column] for pair in batch]) for column in (0, 1)]
                features = [{k: v.to(model.device) for k, v in f.items()} for f in features]
                with autocast:
                    value = loss(features, None)
                value.backward()
                optimizer.step()
                optimizer.zero_grad()

        wall, _, _ = timed(run, optimizer, autocast)
        print(f"  {precision:>4}: {wall:.1f} s ({steps / wall:.1f} steps/s)")
    torch.set_float32_matmul_precision("highest")
    model.load_state_dict(state)


if __name__ == "__main__":
    main()
