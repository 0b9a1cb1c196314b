"""The steps every experiment shares, whatever its recipe: open a run, then close it.

`start` checks the results folder, loads and cleans the data, loads the base model, starts the
run record and scores the base model on gold beside BM25. `finish` scores the fine-tuned model,
fuses it with BM25 (weight chosen on dev), then `publish` writes metrics.json and the report page
and prints one summary line. An experiment only says how it trains in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inventory import device, evaluate, plotting, preprocess
from inventory.config import RunConfig
from inventory.datasets import DataError, Splits, load_splits
from inventory.device import FP32, Encoding
from inventory.embeddings import CACHE_DIR, EmbeddingCache
from inventory.layout import scored_systems
from inventory.models import load_model
from inventory.progress import quiet_libraries
from inventory.runs import Run, check_run, start_run

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@dataclass
class Experiment:
    """One experiment run in progress: its settings, data, model, run record and gold scores."""

    config: RunConfig
    splits: Splits
    model: SentenceTransformer
    run: Run
    gold: evaluate.GoldEvaluation
    before: dict[str, float]
    encoding: Encoding = FP32  # every evaluation encodes with it (inventory/device.py)


def start(
    config: RunConfig, *, needs: Sequence[str] = (), hooks: Sequence[evaluate.VectorHook] = ()
) -> Experiment:
    """Everything before training; bad data or a missing model stop here, before any work.

    `needs`: what the recipe needs beyond queries and positives ("neg": negatives in train).
    `hooks`: see the gold vectors of every model scored (evaluate.GoldEvaluation).
    """
    check_run(config)  # the results folder can take a new run
    hardware = device.settings(config.train)  # a precision this device cannot run stops here
    quiet_libraries(config.verbose)
    splits, reports = preprocess.clean_splits(load_splits(config.data_dir))
    for report in reports:
        print(report)
    if "neg" in needs and not any(record.neg for record in splits.train):
        raise DataError(
            config.data_dir / "train.jsonl",
            'no record has negatives ("neg"), which this recipe needs: add them to the records, '
            "or mine them first with the hard-negatives recipe",
        )
    model = load_model(config.base_model, config.train.max_seq_length)
    run = start_run(config)  # results/<experiment>/<run id>/ and its manifest
    run.note(**hardware.record())  # what --precision auto and the unset defaults chose here
    with run.phase("evaluate before"):
        gold = evaluate.GoldEvaluation(splits.gold, splits.corpus, run.eval_dir, hooks)  # BM25
        # The base model's vectors are cached in .cache/embeddings/: a rerun encodes new texts only.
        cache = EmbeddingCache(model, CACHE_DIR, hardware.encoding)
        before = gold.score_model(model, "before", cache)
        gold.write()  # a run stopped later keeps its zero-shot and BM25 scores
    return Experiment(config, splits, model, run, gold, before, hardware.encoding)


def finish(experiment: Experiment, log: list[dict]) -> dict:
    """Score the fine-tuned model and the hybrid on gold, write the results, print a summary."""
    model, gold, run = experiment.model, experiment.gold, experiment.run
    # In memory: one encoding serves "after" and the hybrid.
    tuned = EmbeddingCache(model, encoding=experiment.encoding)
    steps = log[-1]["step"] if log else 0
    with run.phase("evaluate after"):
        gold.score_model(model, "after", tuned, epoch=experiment.config.train.epochs, steps=steps)
        gold.score_hybrid(model, experiment.splits.dev, tuned)  # weight chosen on dev
    return publish(experiment, log)


def publish(experiment: Experiment, log: list[dict], label: str = "") -> dict:
    """Write metrics.json, per_query.csv and the report page; print where they are and one
    summary line of gold ndcg@10 (`label` says what was scored, e.g. a reranked first stage)."""
    run = experiment.run
    metrics = experiment.gold.write()
    plotting.plot_run(log, metrics, run.plots_dir)
    print(f"model:   {run.final_dir}")
    print(f"metrics: {run.eval_dir / 'metrics.json'}")
    print(f"plots:   {run.plots_dir}")
    print(summary_line(metrics, label))
    return metrics


def summary_line(metrics: dict, label: str = "") -> str:
    """Gold ndcg@10 before -> after fine-tuning, with every other system in brackets."""
    others = ", ".join(
        f"{system} {metrics[system]['ndcg@10']:.4f}"
        for system in scored_systems(metrics)
        if system not in ("before", "after")
    )
    scored = f"gold ndcg@10, {label}" if label else "gold ndcg@10"
    before, after = metrics["before"]["ndcg@10"], metrics["after"]["ndcg@10"]
    return f"{scored}: before {before:.4f} -> after {after:.4f}  ({others})"
