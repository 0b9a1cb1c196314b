"""Cross-encoder: train a reranker on data/train.jsonl, score it by reranking on gold.

The reranker (the base model's weights with a new head, or --reranker PATH) learns from labelled
pairs: each train positive, and negatives mined with the base model (inventory/mining.py,
written to data/mined/<experiment>.jsonl). On gold it reorders the first stage's top-k (the base
bi-encoder or its hybrid with BM25, the stronger on dev), before and after training; a positive
the first stage missed counts as missed (inventory/rerank.py). Runs in one process (not under
torchrun). Run from the lab folder: `python experiments/<this file>.py` (add --help to see the
options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import pipeline, rerank
from inventory.config import TrainConfig, parse_args
from inventory.mining import mine_negatives
from inventory.runner import run_experiment


def main() -> None:
    defaults = TrainConfig(epochs=1, batch_size=16, learning_rate=2e-5)
    config = parse_args(__file__, defaults, options=rerank.RerankOptions(num_negatives=3))
    rerank.check(config)

    # 1. Data, base model and run record; the base bi-encoder and BM25 scored on gold.
    experiment = pipeline.start(config)

    # 2. The first stage to rerank, and the reranker scored on it before training.
    first = rerank.first_stage(experiment, config.options)
    reranker = rerank.load_reranker(config)
    rerank.score(reranker, experiment, first, "before")

    # 3. Train on (query, passage, label) pairs: positives and mined negatives.
    pairs = rerank.labelled_pairs(mine_negatives(experiment, config.options))
    log = rerank.train_reranker(reranker, pairs, experiment, first)

    # 4. Gold reranked after training, metrics.json and the report page.
    rerank.finish(experiment, reranker, first, log)


if __name__ == "__main__":
    run_experiment(main)
