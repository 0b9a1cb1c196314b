"""Contrastive pairs: fine-tune on labelled (query, passage) pairs, compare retrieval on gold.

Each query in data/train.jsonl makes a pair with each of its positives (label 1) and each of its
negatives (label 0; the recipe needs "neg"). OnlineContrastiveLoss pulls the batch's hardest
positive pairs together and pushes its hardest negative pairs to a cosine distance of at least
--margin. Run from the lab folder: `python experiments/<this file>.py` (add --help to see the
options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import pipeline
from inventory.config import TrainConfig, parse_args
from inventory.pairs import PairOptions, contrastive_loss, to_pair_dataset
from inventory.runner import run_experiment
from inventory.train import PLAIN_SHUFFLE, train


def main() -> None:
    defaults = TrainConfig(epochs=1, batch_size=16, learning_rate=5e-5)
    config = parse_args(__file__, defaults, options=PairOptions())

    # 1. Data (train must hold negatives), base model and run record; base model and BM25 on gold.
    experiment = pipeline.start(config, needs=("neg",))
    model, splits = experiment.model, experiment.splits

    # 2. Fine-tune on (text1, text2, label) pairs. The loss scores each pair on its own (no
    # in-batch negatives), so a text repeated in a batch is harmless: a plain shuffle, which
    # also lets a query's positive and negative pairs meet in one batch.
    dataset = to_pair_dataset(splits.train)
    loss = contrastive_loss(model, config.options)
    log = train(model, dataset, loss, splits.dev, config.train, experiment.run, splits.corpus,
                recipe="contrastive", batch_sampler=PLAIN_SHUFFLE)  # fmt: skip

    # 3. Gold after fine-tuning, the hybrid with BM25, metrics.json and the report page.
    pipeline.finish(experiment, log)


if __name__ == "__main__":
    run_experiment(main)
