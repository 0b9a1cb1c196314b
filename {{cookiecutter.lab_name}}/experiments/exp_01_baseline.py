"""Baseline: fine-tune the base model on data/train.jsonl and compare retrieval on data/gold.jsonl.

Run from the lab folder: `python experiments/exp_01_baseline.py` (add --help to see the options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import evaluate, plotting, preprocess
from inventory.config import TrainConfig, parse_args
from inventory.datasets import load_splits
from inventory.embeddings import CACHE_DIR, EmbeddingCache
from inventory.errors import run_experiment
from inventory.models import load_model
from inventory.progress import quiet_libraries
from inventory.runs import check_run, start_run
from inventory.train import train


def main() -> None:
    config = parse_args(__file__, TrainConfig(epochs=1, batch_size=16, learning_rate=5e-5))
    check_run(config)  # the results folder can take a new run: checked before any work
    quiet_libraries(config.verbose)

    # 1. Inputs: the data splits (schema errors stop here), cleaned, and the base model.
    splits, reports = preprocess.clean_splits(load_splits(config.data_dir))
    for report in reports:
        print(report)
    model = load_model(config.base_model, config.train.max_seq_length)
    run = start_run(config)  # results/<experiment>/<run id>/ and its manifest, once inputs are good

    # 2. BM25 and the base model on gold (base-model vectors are cached in .cache/embeddings/).
    gold = evaluate.GoldEvaluation(splits.gold, splits.corpus, run.eval_dir)
    before = gold.score_model(model, "before", EmbeddingCache(model, CACHE_DIR))

    # 3. Fine-tune with in-batch negatives, score gold again, and fuse it with BM25.
    log = train(model, splits.train, splits.dev, config.train, run, corpus=splits.corpus)
    tuned = EmbeddingCache(model)  # in memory: one encoding serves "after" and the hybrid
    steps = log[-1]["step"]
    after = gold.score_model(model, "after", tuned, epoch=config.train.epochs, steps=steps)
    hybrid = gold.score_hybrid(model, splits.dev, tuned)  # fusion weight chosen on dev

    # 4. Save the comparison and the plots.
    metrics = gold.write()
    plotting.plot_run(log, metrics, run.plots_dir)

    print(f"model:   {run.final_dir}")
    print(f"metrics: {run.eval_dir / 'metrics.json'}")
    print(f"plots:   {run.plots_dir}")
    print(
        f"gold ndcg@10: before {before['ndcg@10']:.4f} -> after {after['ndcg@10']:.4f}  "
        f"(bm25 {metrics['bm25']['ndcg@10']:.4f}, hybrid {hybrid['ndcg@10']:.4f})"
    )


if __name__ == "__main__":
    run_experiment(main)
