"""In-batch negatives: fine-tune the base model on data/train.jsonl, compare retrieval on gold.

Each query's positive is contrasted with every other passage in its batch
(MultipleNegativesRankingLoss); --cached computes the same loss a mini-batch at a time, for large
batches in little memory. Run from the lab folder: `python experiments/<this file>.py` (add
--help to see the options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import pipeline
from inventory.config import TrainConfig, parse_args
from inventory.datasets import to_training_dataset
from inventory.losses import InBatchOptions, in_batch_negatives
from inventory.runner import run_experiment
from inventory.train import train


def main() -> None:
    # Chosen on NFCorpus dev with `emb sweep` (README, "Measured on NFCorpus"): a batch of 64
    # gives each query 63 in-batch negatives; 1 epoch at batch 16 scored 0.011 lower.
    defaults = TrainConfig(epochs=2, batch_size=64, learning_rate=9e-5)
    config = parse_args(__file__, defaults, options=InBatchOptions())

    # 1. Data, base model and run record; the base model and BM25 scored on gold.
    experiment = pipeline.start(config)
    model, splits = experiment.model, experiment.splits

    # 2. Fine-tune: (anchor, positive[, negative]) rows, in-batch negatives.
    dataset = to_training_dataset(splits.train)
    loss = in_batch_negatives(model, config.train, config.options)
    log = train(model, dataset, loss, splits.dev, config.train, experiment.run, splits.corpus)

    # 3. Gold after fine-tuning, the hybrid with BM25, metrics.json and the report page.
    pipeline.finish(experiment, log)


if __name__ == "__main__":
    run_experiment(main)
