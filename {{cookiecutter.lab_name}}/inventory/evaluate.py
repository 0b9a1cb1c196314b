"""Gold evaluation: the model before and after fine-tuning, BM25 and a hybrid, side by side.

Every system ranks the same corpus (every gold pos/neg passage plus data/corpus.jsonl) for the
same queries, and is scored with the same metrics (inventory/retrieval.py: graded when the data
grades its positives; metrics.json says which, under "relevance"). The base model's
vectors come from the lab's embedding cache, so a rerun encodes only texts it has not seen; the
fine-tuned model's corpus vectors are computed once and serve its score and the hybrid.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inventory import ann, distributed, significance
from inventory.bm25 import SETTINGS as BM25_SETTINGS
from inventory.bm25 import bm25_ranking
from inventory.datasets import Document, Record
from inventory.embeddings import EmbeddingCache
from inventory.files import write_json, write_text
from inventory.fusion import RRF_K, choose_fusion, fuse
from inventory.retrieval import (
    DEPTH,
    METRICS,
    RELEVANCE_THRESHOLD,
    Ranking,
    Task,
    build_task,
    mean_metrics,
    per_query_metrics,
    relevance,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
    )

SYSTEMS = ("before", "after", "bm25", "hybrid")
PER_QUERY = ("ndcg@10", "recall@100")  # the columns of eval/per_query.csv
EVALUATOR_CSV = "Information-Retrieval_evaluation_gold_results.csv"
# Sees the gold vectors of every model scored: (evaluation, system, model, queries, documents).
VectorHook = Callable[["GoldEvaluation", str, "SentenceTransformer", np.ndarray, np.ndarray], None]


def ir_evaluator(task: Task, batch_size: int = 32) -> InformationRetrievalEvaluator:
    """The trainer's dev evaluation of `task`, scored like gold (see _lab_ir_evaluator);
    `batch_size`: texts per forward pass when it encodes."""
    return _lab_ir_evaluator()(task, batch_size)


@functools.cache
def _lab_ir_evaluator() -> type[InformationRetrievalEvaluator]:
    """sentence-transformers' evaluator (encoding, top-k search, CSV, training-curve logs) whose
    figures are the lab's per_query_metrics: graded when the task is, like gold. The library's
    own metrics are binary; with grades they would differ from gold's ndcg@10. A class made on
    first use: the library loads only when an evaluation is needed."""
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
    )

    class LabIREvaluator(InformationRetrievalEvaluator):
        """The library's evaluator, scored by the lab's metrics."""

        def __init__(self, task: Task, batch_size: int) -> None:
            super().__init__(
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
                batch_size=batch_size,
            )
            self.task = task

        def compute_metrics(self, queries_result_list: list) -> dict[str, dict[int, float]]:
            """The library's result shape ({"ndcg@k": {10: mean}, ...}), from the lab's metrics."""
            position = {doc_id: index for index, doc_id in enumerate(self.task.doc_ids)}
            indices = np.full((len(queries_result_list), DEPTH), -1, dtype=np.int64)
            for row, hits in enumerate(queries_result_list):
                best = sorted(hits, key=lambda hit: (-hit["score"], hit["corpus_id"]))[:DEPTH]
                indices[row, : len(best)] = [position[hit["corpus_id"]] for hit in best]
            by_id = dict(zip(self.task.query_ids, self.task.relevant, strict=True))
            relevant = [by_id[query_id] for query_id in self.queries_ids]
            ranking = Ranking(indices, np.zeros(indices.shape, np.float32))
            values = per_query_metrics(ranking, relevant)
            cutoffs = {"accuracy": self.accuracy_at_k, "precision": self.precision_recall_at_k,
                       "recall": self.precision_recall_at_k, "ndcg": self.ndcg_at_k,
                       "mrr": self.mrr_at_k, "map": self.map_at_k}  # fmt: skip
            return {
                f"{name}@k": {k: float(values[f"{name}@{k}"].mean()) for k in ks}
                for name, ks in cutoffs.items()
            }

    return LabIREvaluator


def dev_evaluator(
    dev: Sequence[Record],
    corpus: Sequence[Document],
    max_queries: int,
    corpus_sample: int,
    seed: int,
    batch_size: int = 32,
) -> InformationRetrievalEvaluator:
    """Dev during training: at most `max_queries` dev queries (a seeded sample) ranked against
    the dev passages plus a seeded sample of `corpus_sample` corpus documents, so that dev ndcg
    is measured among distractors, like gold, at a cost that stays small. `batch_size`: texts
    per forward pass when it encodes."""
    rng = random.Random(seed)
    keep = sorted(rng.sample(range(len(dev)), min(max_queries, len(dev))))
    sample = rng.sample(list(corpus), min(corpus_sample, len(corpus)))
    return ir_evaluator(build_task([dev[index] for index in keep], "dev", sample), batch_size)


class GoldEvaluation:
    """Scores systems on gold (BM25 at once), then writes metrics.json and eval/per_query.csv.

    Every system is a ranking of gold added with `add_system` (the model's, by `score_model`;
    a recipe's own, such as a reranker's); `write` writes each once. Beside the systems,
    `add_config` records how one was made ("<thing>_config"), `set_dev` the dev figure, and
    `add_section` a recipe's own results; `ranking` says how the gold ranking was made. The
    shape of metrics.json is in the lab's README.

    Under torchrun or accelerate launch every process encodes a share of the texts, rank 0 alone
    ranks, scores and writes; every process gets its result (inventory/distributed.py).

    Past inventory.ann's thresholds (documents and queries) on the CPU, the model's rankings come
    from an approximate index: metrics.json["gold"]["ann"] says which for each system (and for
    "dev after"), with its recall@100 against exact search.

    `hooks` see the query and document vectors of every model scored (a recipe scores them
    otherwise, e.g. truncated, and adds the result with `add_section`).
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
        self.ranking = f"exact top-{DEPTH} by the model's similarity"  # metrics.json["gold"]
        self.rankings: dict[str, Ranking] = {}
        self.per_query: dict[str, dict[str, np.ndarray]] = {}
        self.configs: dict[str, Any] = {}  # "<thing>_config" sections, in the order added
        self.sections: dict[str, Any] = {}  # a recipe's own results, by key
        self.dev: dict[str, Any] = {}
        self.ann: dict[str, ann.AnnReport] = {}  # by system, where an approximate index ranked
        self.add_config("bm25", BM25_SETTINGS)
        self.dev_per_query: tuple[list[str], np.ndarray] | None = None  # after, full dev
        if distributed.is_main_process():
            self.add_system("bm25", bm25_ranking(self.task.documents, self.task.queries))

    def add_system(self, system: str, ranking: Ranking) -> dict[str, float]:
        """Score `ranking` of gold as `system` and return its mean metrics; metrics.json and
        per_query.csv hold it once (adding a system again replaces it)."""
        self.rankings[system] = ranking
        self.per_query[system] = per_query_metrics(ranking, self.task.relevant)
        return mean_metrics(self.per_query[system])

    def add_config(self, thing: str, settings: dict[str, Any]) -> None:
        """How `thing` was made, written as metrics.json["<thing>_config"]."""
        self.configs[f"{thing}_config"] = settings

    def add_section(self, key: str, value: Any) -> None:
        """A recipe's own results, written as metrics.json[key] (e.g. "matryoshka")."""
        if key in (*SYSTEMS, "delta", "gold", "dev") or key.endswith("_config"):
            raise ValueError(f"metrics.json key {key!r} is not a recipe section")
        self.sections[key] = value

    def set_dev(self, ndcg: float | None, queries: int, **facts: Any) -> None:
        """The fine-tuned model's ndcg@10 on dev (what settings are chosen by), written as
        metrics.json["dev"]; `facts` say how it was measured."""
        self.dev = ({"ndcg@10": ndcg} if ndcg is not None else {}) | {"queries": queries, **facts}

    def score_model(
        self, model: SentenceTransformer, system: str, cache: EmbeddingCache, epoch: float = 0,
        steps: int = 0,
    ) -> dict[str, float]:  # fmt: skip
        """Rank gold with `model` (vectors through `cache`) and return its mean metrics."""
        with distributed.shared_encoding(model, cache.encoding.precision) as main:  # a share each
            scores = self._score_model(model, system, cache, epoch, steps) if main else None
        return distributed.broadcast(scores)

    def _score_model(
        self, model: SentenceTransformer, system: str, cache: EmbeddingCache, epoch: float,
        steps: int,
    ) -> dict[str, float]:  # fmt: skip
        queries = cache.encode(self.task.queries, "query", f"gold queries ({system})")
        documents = cache.encode(self.task.documents, "document", f"gold corpus ({system})")
        ranking, report = ann.rank(model, queries, documents)
        if report is not None:
            self.ann[system] = report
            self.ranking = (f"approximate top-{DEPTH} ({report.index}), candidates scored "
                            "exactly by the model's similarity")  # fmt: skip
        scores = self.add_system(system, ranking)
        self._append_evaluator_csv(model.similarity_fn_name or "cosine", epoch, steps, system)
        for hook in self.hooks:
            hook(self, system, model, queries, documents)
        return scores

    def score_hybrid(
        self, model: SentenceTransformer, dev: Sequence[Record], cache: EmbeddingCache
    ) -> dict[str, float]:
        """Fuse the "after" ranking with BM25; the fusion is chosen on dev, never on gold
        (equal-weight RRF unless another fusion beats it beyond noise: inventory/fusion.py).

        Dev is ranked against its own passages plus the same corpus as gold, so the vectors of
        corpus documents come from `cache` (the fine-tuned model's) without a new encoding.
        """
        with distributed.shared_encoding(model, cache.encoding.precision) as main:  # a share each
            scores = self._score_hybrid(model, dev, cache) if main else None
        return distributed.broadcast(scores)

    def _score_hybrid(
        self, model: SentenceTransformer, dev: Sequence[Record], cache: EmbeddingCache
    ) -> dict[str, float]:
        task = build_task(dev, "dev", self.corpus)
        queries = cache.encode(task.queries, "query", "dev queries (after)")
        documents = cache.encode(task.documents, "document", "dev corpus (after)")
        dense, report = ann.rank(model, queries, documents)
        if report is not None:
            self.ann["dev after"] = report
        sparse = bm25_ranking(task.documents, task.queries)
        fusion, choice = choose_fusion(dense, sparse, task.relevant)
        if line := significance.warning(choice):
            print(line, file=sys.stderr)
        dev_alone = {
            name: float(per_query_metrics(ranking, task.relevant)["ndcg@10"].mean())
            for name, ranking in (("after", dense), ("bm25", sparse))
        }  # on dev, to choose between settings without looking at gold
        self.dev_per_query = (task.query_ids, per_query_metrics(dense, task.relevant)["ndcg@10"])
        self.add_config("hybrid", {
            "method": fusion.method, "weight": fusion.weight, "rrf_k": RRF_K,
            "fused": ["after", "bm25"], "chosen_on": "dev", "dev_ndcg@10": choice.dev[fusion.name],
            "dev_ndcg@10_alone": dev_alone, "dev_queries": len(task.queries),
            "choice": choice.record(),
        })  # fmt: skip
        self.set_dev(dev_alone["after"], len(task.queries), ranked_against="dev passages + corpus")
        hybrid = fuse(self.rankings["after"], self.rankings["bm25"], fusion)
        return self.add_system("hybrid", hybrid)

    @distributed.main_process
    def write(self) -> dict:
        """Write eval/metrics.json and eval/per_query.csv, every system once; returns the
        metrics."""
        systems = [s for s in SYSTEMS if s in self.per_query]
        systems += [s for s in self.per_query if s not in SYSTEMS]  # a recipe's, in order
        scores = {system: mean_metrics(self.per_query[system]) for system in systems}
        metrics: dict[str, Any] = {}
        for system in systems:
            metrics[system] = scores[system]
            if system == "after" and "before" in scores:
                metrics["delta"] = {m: scores["after"][m] - scores["before"][m] for m in METRICS}
        metrics |= self.configs
        metrics["relevance"] = relevance(self.task.relevant)  # "graded" or "binary"
        metrics["relevance_threshold"] = RELEVANCE_THRESHOLD  # binary metrics: grade >= this
        metrics["gold"] = {
            "queries": len(self.task.queries),
            "documents": len(self.task.documents),
            "ranking": self.ranking,
        }
        if self.ann:  # an approximate index ranked: how far from exact search it was
            metrics["gold"]["ann"] = {
                system: {"index": found.index, "recall@100": found.recall,
                         "recall_queries": found.queries}
                for system, found in self.ann.items()
            }  # fmt: skip
        if self.dev:
            metrics["dev"] = self.dev
        metrics |= self.sections
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
