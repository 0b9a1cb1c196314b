"""Baseline: fine-tune the base model on data/train.jsonl and compare retrieval on data/gold.jsonl.

Run from the lab folder: `python experiments/exp_01_baseline.py` (add --help to see the options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import evaluate, plotting, preprocess
from inventory.config import TrainConfig, parse_args
from inventory.datasets import load_splits
from inventory.errors import run_experiment
from inventory.models import load_model
from inventory.runs import check_run, start_run
from inventory.train import train


def main() -> None:
    config = parse_args(__file__, TrainConfig(epochs=1, batch_size=16, learning_rate=5e-5))
    check_run(config)  # the results folder can take a new run: checked before any work

    # 1. Inputs: the data splits (schema errors stop here), cleaned, and the base model.
    splits, reports = preprocess.clean_splits(load_splits(config.data_dir))
    for report in reports:
        print(report)
    model = load_model(config.base_model, config.train.max_seq_length)
    run = start_run(config)  # results/<experiment>/<run id>/ and its manifest, once inputs are good

    # 2. The base model, scored on gold before any training.
    gold = evaluate.ir_evaluator(splits.gold, name="gold", extra_documents=splits.corpus)
    before = evaluate.score(model, gold, run.eval_dir)

    # 3. Fine-tune with in-batch negatives, then score gold again.
    log = train(model, splits.train, splits.dev, config.train, run)
    steps = log[-1]["step"]
    after = evaluate.score(model, gold, run.eval_dir, epoch=config.train.epochs, steps=steps)

    # 4. Save the comparison and the plots.
    metrics = evaluate.write_metrics(before, after, run.eval_dir / "metrics.json")
    plotting.plot_run(log, metrics, run.plots_dir)

    print(f"model:   {run.final_dir}")
    print(f"metrics: {run.eval_dir / 'metrics.json'}")
    print(f"plots:   {run.plots_dir}")
    print(f"gold ndcg@10: before {before['ndcg@10']:.4f} -> after {after['ndcg@10']:.4f}")


if __name__ == "__main__":
    run_experiment(main)
