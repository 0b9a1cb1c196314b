"""Matryoshka: fine-tune so that truncated vectors still retrieve well; gold at every size.

MatryoshkaLoss trains in-batch negatives (MultipleNegativesRankingLoss; --cached for large
batches) at the model's own dimension and at each --dims at once. Gold is scored before and after
at every dimension, so the table printed at the end shows what a smaller index costs. Run from
the lab folder: `python experiments/<this file>.py` (add --help to see the options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import pipeline
from inventory.config import TrainConfig, parse_args
from inventory.datasets import to_training_dataset
from inventory.matryoshka import MatryoshkaOptions, TruncatedScores, matryoshka_loss, print_table
from inventory.runner import run_experiment
from inventory.train import train


def main() -> None:
    defaults = TrainConfig(epochs=1, batch_size=16, learning_rate=5e-5)
    config = parse_args(__file__, defaults, options=MatryoshkaOptions())

    # 1. Data, base model and run record; the base model (at every dimension) and BM25 on gold.
    experiment = pipeline.start(config, hooks=[TruncatedScores(config.options.dims)])
    model, splits = experiment.model, experiment.splits

    # 2. Fine-tune: (anchor, positive[, negative]) rows, in-batch negatives at every dimension.
    dataset = to_training_dataset(splits.train)
    loss = matryoshka_loss(model, config.train, config.options)
    log = train(model, dataset, loss, splits.dev, config.train, experiment.run, splits.corpus,
                recipe="matryoshka")  # fmt: skip

    # 3. Gold after fine-tuning (at every dimension), the hybrid, metrics.json, the report page.
    metrics = pipeline.finish(experiment, log)
    print_table(metrics)


if __name__ == "__main__":
    run_experiment(main)
