"""Reranking: a cross-encoder reorders the first stage's top-k, scored on gold before and after.

The first stage is the base bi-encoder's ranking or its hybrid with BM25 (the fusion chosen on
dev, inventory/fusion.py). By default it is the hybrid, unless the dense ranking beats it on dev
beyond noise (inventory/significance.py); metrics.json says which, and why.
The reranker is trained with BinaryCrossEntropyLoss on (query, passage, label) pairs: the
train positives (1) and negatives mined with the base model (0, inventory/mining.py).

Scoring is honest: only the first stage's top `rerank_k` documents are reranked, the documents
below keep their first-stage order, and every metric counts every relevant gold document, so a
positive the first stage missed counts as missed. sentence-transformers' own
CrossEncoderRerankingEvaluator inserts every positive into the candidates by default
(always_rerank_positives=True), which inflates the figures; it is not used here.

The recipe runs in one process: under torchrun or accelerate launch it stops with one line.
"""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from inventory import distributed, pipeline, significance
from inventory.bm25 import bm25_ranking
from inventory.config import RunConfig, option
from inventory.datasets import Record
from inventory.device import FP32, Encoding
from inventory.embeddings import CACHE_DIR, EmbeddingCache
from inventory.errors import LabError
from inventory.files import write_folder, write_json
from inventory.fusion import choose_fusion, fuse
from inventory.mining import MiningOptions, check_options
from inventory.models import resolve_model
from inventory.pipeline import Experiment
from inventory.progress import interactive, muted
from inventory.retrieval import Ranking, Task, build_task, dense_ranking
from inventory.retrieval import per_query_metrics as scores_of
from inventory.rows import pair_columns
from inventory.train import model_bytes
from inventory.trainer_args import training_arguments

if TYPE_CHECKING:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator
    from sentence_transformers.cross_encoder import CrossEncoder

FIRST_STAGES = ("auto", "dense", "hybrid")
DEV_METRICS = ("ndcg@10", "mrr@10", "recall@10")
CSV_NAME = "CrossEncoderReranking_evaluation_gold_results.csv"


@dataclass(frozen=True)
class RerankOptions(MiningOptions):
    """Mining settings (negatives for training), plus the reranker's own."""

    reranker: str = option(
        "", "a CrossEncoder checkpoint; empty: the base model's weights with a new head"
    )
    rerank_k: int = option(20, "first-stage documents reranked per query")
    # 128 on NFCorpus: 476 s a run, dev ndcg@10 0.2188; 256 took 998 s (over the 15 minutes a
    # run may take on a 2-core CPU) for 0.2229.
    reranker_max_length: int = option(128, "tokens of query and passage together")
    first_stage: str = option(
        "auto",
        "what the reranker reorders: dense, hybrid, or auto (the hybrid unless dense "
        "beats it on dev beyond noise)",
    )


@dataclass
class FirstStage:
    """The ranking the reranker reorders: on gold, on a dev sample for training curves, and on
    the whole dev split for the run's dev figure (what `emb sweep` chooses by)."""

    system: str  # "dense" or "hybrid"
    gold: Ranking
    dev: Task
    dev_ranking: Ranking
    config: dict[str, Any]
    dev_all: Task
    dev_all_ranking: Ranking


def check(config: RunConfig) -> None:
    """Stop before any work when the run cannot go on: a launcher, or settings that cannot work."""
    if distributed.world_size() > 1:
        raise LabError("the cross-encoder recipe runs in one process: start it with python, "
                       "not torchrun or accelerate launch")  # fmt: skip
    options = config.options
    check_options(options)
    if options.rerank_k < 1:
        raise LabError(f"--rerank-k must be at least 1, not {options.rerank_k}")
    if options.reranker_max_length < 4:  # [CLS] query [SEP] passage [SEP]
        raise LabError(f"--reranker-max-length {options.reranker_max_length} cannot hold a query "
                       "and a passage (4 tokens at least)")  # fmt: skip
    if options.first_stage not in FIRST_STAGES:
        raise LabError(f"--first-stage must be one of {', '.join(FIRST_STAGES)}, "
                       f"not {options.first_stage!r}")  # fmt: skip


def first_stage(experiment: Experiment, options: RerankOptions) -> FirstStage:
    """The base bi-encoder's ranking or its hybrid with BM25, chosen on dev (module docstring).

    Dev ranks its passages plus the corpus, like gold; the hybrid's fusion is chosen on dev too.
    """
    model, splits, gold = experiment.model, experiment.splits, experiment.gold
    task = build_task(splits.dev, "dev", splits.corpus)
    with experiment.run.phase("first stage"):
        dense, sparse = base_rankings(model, task, experiment.encoding)
        fusion, fusion_choice = choose_fusion(dense, sparse, task.relevant)
    hybrid = fuse(dense, sparse, fusion)
    choice = significance.choose(
        {name: scores_of(ranking, task.relevant)["ndcg@10"]
         for name, ranking in (("hybrid", hybrid), ("dense", dense))},
        default="hybrid",
    )  # fmt: skip
    if line := significance.warning(choice):
        print(line, file=sys.stderr)
    system = choice.chosen if options.first_stage == "auto" else options.first_stage
    gold_ranking, dev_ranking = gold.rankings["before"], dense
    if system == "hybrid":
        gold_ranking = fuse(gold_ranking, gold.rankings["bm25"], fusion)
        dev_ranking = hybrid
    config = {
        "system": system,
        "chosen_by": "dev (hybrid unless dense beats it beyond noise)"
        if options.first_stage == "auto"
        else "--first-stage",
        "dense": "the base model, exact top-100 by its similarity",
        "hybrid": "dense and BM25 fused, the fusion chosen on dev",
        "hybrid_fusion": {"method": fusion.method, "weight": fusion.weight},
        "dev_ndcg@10": {"dense": choice.dev["dense"], "hybrid": choice.dev["hybrid"]},
        "dev_queries": len(task.queries),
        "choice": choice.record(),
        "fusion_choice": fusion_choice.record(),
    }
    experiment.run.note(first_stage=config)
    train = experiment.config.train  # a seeded sample of dev queries is scored during training
    count = min(train.dev_queries, len(task.queries))
    keep = sorted(random.Random(train.seed).sample(range(len(task.queries)), count))
    sample = replace(
        task,
        query_ids=[task.query_ids[i] for i in keep],
        queries=[task.queries[i] for i in keep],
        relevant=[task.relevant[i] for i in keep],
    )
    sample_ranking = Ranking(dev_ranking.indices[keep], dev_ranking.scores[keep])
    return FirstStage(system, gold_ranking, sample, sample_ranking, config, task, dev_ranking)


def base_rankings(
    model: SentenceTransformer, task: Task, encoding: Encoding = FP32
) -> tuple[Ranking, Ranking]:
    """`task` ranked by the base model (its vectors from the lab's cache) and by BM25."""
    cache = EmbeddingCache(model, CACHE_DIR, encoding)  # the base model's, mostly cached by now
    queries = cache.encode(task.queries, "query", f"{task.name} queries (first stage)")
    documents = cache.encode(task.documents, "document", f"{task.name} corpus (first stage)")
    dense = dense_ranking(queries, documents, model.similarity, device=model.device)
    return dense, bm25_ranking(task.documents, task.queries)


def load_reranker(config: RunConfig) -> CrossEncoder:
    """--reranker's checkpoint, or the base model's weights with a new one-logit head (seeded)."""
    import transformers
    from sentence_transformers.cross_encoder import CrossEncoder

    named = config.options.reranker
    source = named or resolve_model(config.base_model)
    transformers.set_seed(config.train.seed)  # the new head's initial weights
    try:
        reranker = CrossEncoder(
            source, num_labels=None if named else 1, max_length=config.options.reranker_max_length
        )
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise LabError(f"could not load reranker {source!r}: {reason}") from None
    if reranker.num_labels != 1:
        raise LabError(f"reranker {source!r} has {reranker.num_labels} labels; it needs 1")
    return reranker


def rerank(
    reranker: CrossEncoder, task: Task, ranking: Ranking, k: int, progress: bool = False
) -> Ranking:
    """Each query's top `k` of `ranking` reordered by the reranker; the rest keep their order
    (and their first-stage scores). `progress`: a bar on a terminal."""
    tops = [[int(d) for d in row[:k] if d >= 0] for row in ranking.indices]
    pairs = [(task.queries[q], task.documents[d]) for q, top in enumerate(tops) for d in top]
    show = progress and interactive()
    predicted = reranker.predict(pairs, show_progress_bar=show, convert_to_numpy=True)
    indices, scores = ranking.indices.copy(), ranking.scores.copy()
    start = 0
    for query, top in enumerate(tops):
        mine = np.asarray(predicted[start : start + len(top)], dtype=np.float32)
        order = np.argsort(-mine, kind="stable")  # ties keep the first stage's order
        indices[query, : len(top)] = np.asarray(top, dtype=np.int64)[order]
        scores[query, : len(top)] = mine[order]
        start += len(top)
    return Ranking(indices, scores)


def score(
    reranker: CrossEncoder, experiment: Experiment, first: FirstStage, system: str, steps: int = 0
) -> dict[str, float]:
    """Rerank gold's first-stage top-k as `system` ("before"/"after") and return its metrics."""
    gold, k = experiment.gold, experiment.config.options.rerank_k
    with experiment.run.phase(f"rerank gold {system}"):
        ranking = rerank(reranker, gold.task, first.gold, k, progress=True)
    metrics = gold.add_system(system, ranking)
    path = gold.eval_dir / CSV_NAME  # in the format of CrossEncoderRerankingEvaluator's CSV
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new:
            writer.writerow(["epoch", "steps", "system", "MAP", "MRR@10", "NDCG@10"])
        epoch = experiment.config.train.epochs if system == "after" else 0
        values = [metrics["map@100"], metrics["mrr@10"], metrics["ndcg@10"]]
        writer.writerow([epoch, steps, system, *values])
    return metrics


def dev_reranking(first: FirstStage, k: int) -> BaseEvaluator:
    """Dev during training: a sample of dev queries, their first-stage top-k reranked, scored
    like gold (a positive the first stage missed counts as missed)."""
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

    class DevReranking(BaseEvaluator):
        def __init__(self, first: FirstStage, k: int) -> None:
            super().__init__()
            self.first, self.k = first, k
            self.primary_metric = "ndcg@10"

        def __call__(
            self, model: CrossEncoder, output_path: str | None = None, epoch: float = -1,
            steps: int = -1,
        ) -> dict[str, float]:  # fmt: skip
            ranking = rerank(model, self.first.dev, self.first.dev_ranking, self.k)
            values = scores_of(ranking, self.first.dev.relevant)
            means = {m: float(values[m].mean()) for m in DEV_METRICS}
            return self.prefix_name_to_metrics(means, "dev")

    return DevReranking(first, k)


def labelled_pairs(records: list[Record]) -> Dataset:
    """(query, passage, label) rows: 1 for each positive, 0 for each mined negative."""
    from datasets import Dataset

    return Dataset.from_dict(pair_columns(records))


def train_reranker(
    reranker: CrossEncoder, pairs: Dataset, experiment: Experiment, first: FirstStage
) -> list[dict]:
    """Fine-tune `reranker` in place with BinaryCrossEntropyLoss (positives weighted by the
    negatives' share); save it to final/ and return the training log."""
    import torch
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from transformers import PrinterCallback

    from inventory.callbacks import ProgressLine

    config, run = experiment.config.train, experiment.run
    labels = np.asarray(pairs["label"])
    pos_weight = float((labels == 0).sum() / max(1, (labels == 1).sum()))
    args = training_arguments(CrossEncoderTrainingArguments, config, run.dir)  # as bi-encoders
    loss = BinaryCrossEntropyLoss(reranker, pos_weight=torch.tensor(pos_weight))
    evaluator = dev_reranking(first, experiment.config.options.rerank_k)
    with muted():
        trainer = CrossEncoderTrainer(
            model=reranker, args=args, train_dataset=pairs, loss=loss, evaluator=evaluator
        )
    source = experiment.config.options.reranker or "base model + new head"
    run.note(recipe={"name": "cross-encoder", "loss": type(loss).__name__, "reranker": source,
                     "columns": pairs.column_names, "pos_weight": pos_weight})  # fmt: skip
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(ProgressLine())
    with run.phase("training"):  # with the dev rerankings
        trainer.train()
    log = trainer.state.log_history
    run.enter("saving the model")
    write_folder(run.final_dir, reranker.save_pretrained, "saving the model to",
                 model_bytes(reranker))  # whole or not at all  # fmt: skip
    write_json(run.train_log, log)
    return log


def finish(
    experiment: Experiment, reranker: CrossEncoder, first: FirstStage, log: list[dict]
) -> dict:
    """Rerank gold with the trained reranker; write metrics.json (before/after/delta, bm25,
    first_stage, rerank_config), per_query.csv and the report page; print a summary."""
    gold, k = experiment.gold, experiment.config.options.rerank_k
    score(reranker, experiment, first, "after", steps=log[-1]["step"] if log else 0)
    gold.add_system("first_stage", first.gold)
    gold.add_config("rerank", {
        "k": k,
        "first_stage": first.config,
        "reranker": experiment.config.options.reranker or "base model + new head (num_labels=1)",
        "scoring": f"the first stage's top {k} reordered by the reranker, the rest in first-stage "
        "order; every relevant gold document counts, so one the first stage missed is missed",
        "always_rerank_positives": False,
    })  # fmt: skip
    gold.ranking = f"{first.system} first stage, top {k} reranked"
    with experiment.run.phase("evaluate dev"):  # the whole split, as every recipe scores dev
        ranking = rerank(reranker, first.dev_all, first.dev_all_ranking, k, progress=True)
        dev_ndcg = scores_of(ranking, first.dev_all.relevant)["ndcg@10"]
    gold.set_dev(float(dev_ndcg.mean()), len(first.dev_all.queries),
                 ranked_against="dev passages + corpus", ranked=f"the first stage's top {k}, "
                 "reranked")  # fmt: skip
    gold.dev_per_query = (first.dev_all.query_ids, dev_ndcg)
    return pipeline.publish(experiment, log, label=f"{first.system} top {k} reranked")
