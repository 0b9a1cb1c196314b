"""Gold evaluation: the model before and after fine-tuning, BM25 and a hybrid, side by side.

Every system ranks the same corpus (every gold pos/neg passage plus data/corpus.jsonl) for the
same queries, and is scored with the same metrics (inventory/retrieval.py). The base model's
vectors come from the lab's embedding cache, so a rerun encodes only texts it has not seen; the
fine-tuned model's corpus vectors are computed once and serve its score and the hybrid.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

from inventory import distributed, significance
from inventory.bm25 import SETTINGS as BM25_SETTINGS
from inventory.bm25 import bm25_ranking
from inventory.datasets import Document, Record
from inventory.embeddings import EmbeddingCache
from inventory.files import write_json, write_text
from inventory.fusion import RRF_K, choose_fusion, fuse
from inventory.retrieval import (
    DEPTH,
    METRICS,
    Ranking,
    Task,
    build_task,
    dense_ranking,
    mean_metrics,
    per_query_metrics,
)

SYSTEMS = ("before", "after", "bm25", "hybrid")
PER_QUERY = ("ndcg@10", "recall@100")  # the columns of eval/per_query.csv
EVALUATOR_CSV = "Information-Retrieval_evaluation_gold_results.csv"
# Sees the gold vectors of every model scored: (evaluation, system, model, queries, documents).
VectorHook = Callable[["GoldEvaluation", str, SentenceTransformer, np.ndarray, np.ndarray], None]


def ir_evaluator(task: Task) -> InformationRetrievalEvaluator:
    """sentence-transformers' evaluator for `task` (the trainer's dev evaluation)."""
    return InformationRetrievalEvaluator(
        queries=dict(zip(task.query_ids, task.queries, strict=True)),
        corpus=dict(zip(task.doc_ids, task.documents, strict=True)),
        relevant_docs={
            query_id: {task.doc_ids[index] for index in relevant}
            for query_id, relevant in zip(task.query_ids, task.relevant, strict=True)
        },
        name=task.name,
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1, 10],
        precision_recall_at_k=[1, 10, 100],
        map_at_k=[100],
    )


def dev_evaluator(
    dev: Sequence[Record],
    corpus: Sequence[Document],
    max_queries: int,
    corpus_sample: int,
    seed: int,
) -> InformationRetrievalEvaluator:
    """Dev during training: at most `max_queries` dev queries (a seeded sample) ranked against
    the dev passages plus a seeded sample of `corpus_sample` corpus documents, so that dev ndcg
    is measured among distractors, like gold, at a cost that stays small."""
    rng = random.Random(seed)
    keep = sorted(rng.sample(range(len(dev)), min(max_queries, len(dev))))
    sample = rng.sample(list(corpus), min(corpus_sample, len(corpus)))
    return ir_evaluator(build_task([dev[index] for index in keep], "dev", sample))


class GoldEvaluation:
    """Scores systems on gold (BM25 at once), then writes metrics.json and eval/per_query.csv.

    Under torchrun or accelerate launch, rank 0 alone scores and writes; the other processes wait
    at each call for its result (inventory/distributed.py).

    `hooks` see the query and document vectors of every model scored (a recipe scores them
    otherwise, e.g. truncated); what a hook puts in `extra` is written into metrics.json.
    """

    def __init__(
        self,
        gold: Sequence[Record],
        corpus: Sequence[Document],
        eval_dir: Path,
        hooks: Sequence[VectorHook] = (),
    ) -> None:
        self.task = build_task(gold, "gold", corpus)
        self.corpus = corpus
        self.eval_dir = eval_dir
        self.hooks = list(hooks)
        self.extra: dict[str, Any] = {}  # a recipe's own results, by key, for metrics.json
        self.rankings: dict[str, Ranking] = {}
        self.per_query: dict[str, dict[str, np.ndarray]] = {}
        self.hybrid_config: dict = {}
        self.dev_per_query: tuple[list[str], np.ndarray] | None = None  # after, on full dev
        if distributed.is_main_process():
            self.rankings["bm25"] = bm25_ranking(self.task.documents, self.task.queries)
            self.per_query["bm25"] = per_query_metrics(self.rankings["bm25"], self.task.relevant)

    @distributed.main_process
    def score_model(
        self, model: SentenceTransformer, system: str, cache: EmbeddingCache, epoch: float = 0,
        steps: int = 0,
    ) -> dict[str, float]:  # fmt: skip
        """Rank gold with `model` (vectors through `cache`) and return its mean metrics."""
        queries = cache.encode(self.task.queries, "query", f"gold queries ({system})")
        documents = cache.encode(self.task.documents, "document", f"gold corpus ({system})")
        self.rankings[system] = dense_ranking(queries, documents, model.similarity)
        self.per_query[system] = per_query_metrics(self.rankings[system], self.task.relevant)
        self._append_evaluator_csv(model.similarity_fn_name or "cosine", epoch, steps, system)
        for hook in self.hooks:
            hook(self, system, model, queries, documents)
        return mean_metrics(self.per_query[system])

    @distributed.main_process
    def score_hybrid(
        self, model: SentenceTransformer, dev: Sequence[Record], cache: EmbeddingCache
    ) -> dict[str, float]:
        """Fuse the "after" ranking with BM25; the fusion is chosen on dev, never on gold
        (equal-weight RRF unless another fusion beats it beyond noise: inventory/fusion.py).

        Dev is ranked against its own passages plus the same corpus as gold, so the vectors of
        corpus documents come from `cache` (the fine-tuned model's) without a new encoding.
        """
        task = build_task(dev, "dev", self.corpus)
        queries = cache.encode(task.queries, "query", "dev queries (after)")
        documents = cache.encode(task.documents, "document", "dev corpus (after)")
        dense = dense_ranking(queries, documents, model.similarity)
        sparse = bm25_ranking(task.documents, task.queries)
        fusion, choice = choose_fusion(dense, sparse, task.relevant)
        if line := significance.warning(choice):
            print(line, file=sys.stderr)
        self.rankings["hybrid"] = fuse(self.rankings["after"], self.rankings["bm25"], fusion)
        self.per_query["hybrid"] = per_query_metrics(self.rankings["hybrid"], self.task.relevant)
        dev_alone = {
            name: float(per_query_metrics(ranking, task.relevant)["ndcg@10"].mean())
            for name, ranking in (("after", dense), ("bm25", sparse))
        }  # on dev, to choose between settings without looking at gold
        self.dev_per_query = (task.query_ids, per_query_metrics(dense, task.relevant)["ndcg@10"])
        self.hybrid_config = {
            "method": fusion.method, "weight": fusion.weight, "rrf_k": RRF_K,
            "fused": ["after", "bm25"], "chosen_on": "dev", "dev_ndcg@10": choice.dev[fusion.name],
            "dev_ndcg@10_alone": dev_alone, "dev_queries": len(task.queries),
            "choice": choice.record(),
        }  # fmt: skip
        return mean_metrics(self.per_query["hybrid"])

    @distributed.main_process
    def write(self) -> dict:
        """Write eval/metrics.json and eval/per_query.csv; returns the metrics."""
        systems = [system for system in SYSTEMS if system in self.per_query]
        scores = {system: mean_metrics(self.per_query[system]) for system in systems}
        metrics: dict = {
            system: scores[system] for system in ("before", "after") if system in scores
        }
        if "before" in scores and "after" in scores:
            metrics["delta"] = {m: scores["after"][m] - scores["before"][m] for m in METRICS}
        metrics |= {system: scores[system] for system in ("bm25", "hybrid") if system in scores}
        metrics["bm25_config"] = BM25_SETTINGS
        if self.hybrid_config:
            metrics["hybrid_config"] = self.hybrid_config
            # The fine-tuned model on the full dev split: what `emb sweep` chooses settings by.
            dev = self.hybrid_config["dev_ndcg@10_alone"]["after"]
            metrics["dev"] = {"ndcg@10": dev, "queries": self.hybrid_config["dev_queries"]}
        metrics["gold"] = {
            "queries": len(self.task.queries),
            "documents": len(self.task.documents),
            "dense_ranking": f"exact top-{DEPTH} by the model's similarity",
        }
        metrics |= self.extra
        write_json(self.eval_dir / "metrics.json", metrics)  # atomic, like every result file
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["query_id", "system", *PER_QUERY])
        for system in systems:
            values = self.per_query[system]
            for row, query_id in enumerate(self.task.query_ids):
                writer.writerow([query_id, system, *(f"{values[m][row]:.6f}" for m in PER_QUERY)])
        write_text(self.eval_dir / "per_query.csv", table.getvalue())
        if self.dev_per_query is not None:  # for paired tests between runs on dev
            table = io.StringIO()
            writer = csv.writer(table, lineterminator="\n")
            writer.writerow(["query_id", "system", "ndcg@10"])
            for query_id, value in zip(*self.dev_per_query, strict=True):
                writer.writerow([query_id, "after", f"{value:.6f}"])
            write_text(self.eval_dir / "dev_per_query.csv", table.getvalue())
        return metrics

    def _append_evaluator_csv(self, similarity: str, epoch: float, steps: int, system: str) -> None:
        """One row per dense score, in the format of InformationRetrievalEvaluator's CSV."""
        values = self.per_query[system]
        columns = [("Accuracy", "accuracy", (1, 10)), ("Precision", "precision", (1, 10, 100))]
        header, row = ["epoch", "steps"], [epoch, steps]
        for title, key, cutoffs in columns:
            for k in cutoffs:
                header.append(f"{similarity}-{title}@{k}")
                row.append(float(np.mean(values[f"{key}@{k}"])))
                if key == "precision":
                    header.append(f"{similarity}-Recall@{k}")
                    row.append(float(np.mean(values[f"recall@{k}"])))
        for title, key in (("MRR", "mrr@10"), ("NDCG", "ndcg@10"), ("MAP", "map@100")):
            header.append(f"{similarity}-{title}@{key.split('@')[1]}")
            row.append(float(np.mean(values[key])))
        path = self.eval_dir / EVALUATOR_CSV
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        with path.open("a", encoding="utf-8") as handle:
            if new:
                handle.write(",".join(header) + "\n")
            handle.write(",".join(map(str, row)) + "\n")
