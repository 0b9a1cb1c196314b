"""Hard negatives: mine negatives for data/train.jsonl with the base model, then fine-tune.

The base model ranks the lab's passages (train and dev, data/corpus.jsonl; never gold) for each
train query; guards drop likely false negatives, and the mined set is written to
data/mined/<experiment>.jsonl with a note of how it was made (inventory/mining.py). Each query's
positive is then contrasted with its mined negatives and the batch's other passages
(MultipleNegativesRankingLoss). Run from the lab folder: `python experiments/<this file>.py`
(add --help to see the options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import pipeline
from inventory.config import TrainConfig, parse_args
from inventory.losses import in_batch_negatives
from inventory.mining import MiningOptions, check_options, mine_negatives, with_negatives
from inventory.runner import run_experiment
from inventory.train import train


def main() -> None:
    config = parse_args(
        __file__, TrainConfig(epochs=1, batch_size=16, learning_rate=5e-5), options=MiningOptions()
    )
    check_options(config.options)

    # 1. Data, base model and run record; the base model and BM25 scored on gold.
    experiment = pipeline.start(config)

    # 2. Mine negatives with the base model: data/mined/<experiment>.jsonl, its note and audit.
    mined = mine_negatives(experiment, config.options)

    # 3. Fine-tune on (anchor, positive, negative...) rows, the batch's passages as more negatives.
    dataset = with_negatives(mined, config.options.num_negatives)
    loss = in_batch_negatives(experiment.model, config.train)
    log = train(experiment.model, dataset, loss, experiment.splits.dev, config.train,
                experiment.run, experiment.splits.corpus, recipe="hard negatives")  # fmt: skip

    # 4. Gold after fine-tuning, the hybrid with BM25, metrics.json and the report page.
    pipeline.finish(experiment, log)


if __name__ == "__main__":
    run_experiment(main)
