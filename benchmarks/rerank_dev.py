"""Score cross-encoder runs on the whole dev split: the figure the recipe's defaults were chosen on.

    python benchmarks/rerank_dev.py --lab /tmp/nfcorpus-lab RUN_DIR [RUN_DIR ...]

During training the recipe reranks a 30-query dev sample (cheap, and noisy); this reranks every
dev query the way gold is scored: the run's first stage (the system and hybrid weight its
metrics.json recorded, rebuilt from the base model's cached vectors and BM25), its top k reordered
by the run's final reranker, the rest in first-stage order, every relevant document counted. One
row per run: dev ndcg@10 of the first stage and of the trained reranker, and the seconds the
reranking took.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=Path, default=Path("/tmp/nfcorpus-lab"))
    parser.add_argument("runs", type=Path, nargs="+", help="results/<experiment>/<run id> folders")
    args = parser.parse_args()
    sys.path.insert(0, str(args.lab.resolve()))
    from inventory import preprocess
    from inventory.datasets import load_splits
    from inventory.fusion import Fusion, fuse
    from inventory.models import load_model
    from inventory.progress import quiet_libraries
    from inventory.rerank import RerankOptions, base_rankings, rerank
    from inventory.retrieval import build_task, per_query_metrics
    from sentence_transformers.cross_encoder import CrossEncoder

    quiet_libraries()
    print("| run | flags | dev first stage | dev reranked | rerank s |")
    print("|---|---|---|---|---|")
    for run_dir in args.runs:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        config, first = manifest["config"], manifest["first_stage"]
        splits, _ = preprocess.clean_splits(load_splits(Path(config["data_dir"])))
        model = load_model(config["base_model"], config["train"]["max_seq_length"])
        task = build_task(splits.dev, "dev", splits.corpus)
        ranking, sparse = base_rankings(model, task)
        if first["system"] == "hybrid":
            ranking = fuse(ranking, sparse, hybrid_fusion(first, Fusion))
        known = {field.name for field in fields(RerankOptions)}
        options = RerankOptions(**{k: v for k, v in config["options"].items() if k in known})
        reranker = CrossEncoder(str(run_dir / "final"), max_length=options.reranker_max_length)
        started = time.perf_counter()
        reranked = rerank(reranker, task, ranking, options.rerank_k)
        seconds = time.perf_counter() - started
        row = [per_query_metrics(r, task.relevant)["ndcg@10"].mean() for r in (ranking, reranked)]
        cells = " | ".join(f"{value:.4f}" for value in row)
        flags = " ".join(own_flags(manifest.get("command", {}).get("argv", [])[2:]))
        print(f"| {run_dir.name} | {flags} | {cells} | {seconds:.0f} |", flush=True)


def hybrid_fusion(first_stage: dict, fusion_type: type) -> object:
    """The first stage's fusion; runs before the rule on dev recorded only an RRF weight."""
    if "hybrid_fusion" in first_stage:
        return fusion_type(**first_stage["hybrid_fusion"])
    return fusion_type("rrf", first_stage["hybrid_weight"])


SWEEP_FLAGS = ("--data-dir", "--output-dir")  # set by the sweep, the same for every run


def own_flags(argv: list[str]) -> list[str]:
    """The run's flags without the sweep's own (each with its value)."""
    kept: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in SWEEP_FLAGS:
            next(args, None)  # its value
        else:
            kept.append(arg)
    return kept


if __name__ == "__main__":
    main()
