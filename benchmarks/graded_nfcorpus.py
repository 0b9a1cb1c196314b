"""Graded gold figures through the lab, beside the published leaderboard: NFCorpus test, zero-shot.

Bakes a lab in a temporary folder, imports NFCorpus with `emb import beir` (the test qrels, graded
1 and 2, become gold with `pos_grades`; the whole corpus becomes data/corpus.jsonl), then scores
the packaged all-MiniLM-L6-v2 and BM25 with the lab's own evaluation (GoldEvaluation), and prints:

  lab graded   ndcg@10 as metrics.json records it ("relevance": "graded"), beside MTEB's published
               0.3159 for this model on NFCorpus test (graded qrels, trec_eval through pytrec_eval);
  lab binary   the same ranking with every positive counted as 1 (the lab's figure before grades);
  trec_eval    pytrec_eval on the lab's very rankings, query by query: the largest difference per
               metric from the lab's figures (map@100 apart for queries with over 100 relevant
               documents, where the lab divides by 100 as sentence-transformers does);
  MTEB-style   the model on the raw BEIR texts ("title text", stripped; every corpus id its own
               document), cosine scores handed to pytrec_eval: what a BEIR/MTEB script computes;
               then the same on the lab's normalised texts (NFKC, whitespace collapsed) with every
               corpus id still its own document. The steps from raw texts to normalised texts to
               the lab (identical texts merged into one document) explain what is left between
               the lab and the published figure.

Run: python benchmarks/graded_nfcorpus.py [--nfcorpus ../shared/data/nfcorpus]
         [--max-seq-length 256] [--cache-dir DIR (keeps the vectors for a rerun)]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NFCORPUS = REPO.parent / "shared" / "data" / "nfcorpus"
EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]
PUBLISHED = 0.3159  # MTEB leaderboard, all-MiniLM-L6-v2, NFCorpus test, ndcg@10
TREC_EVAL = {
    "ndcg@10": "ndcg_cut_10", "map@100": "map_cut_100", "recall@10": "recall_10",
    "recall@100": "recall_100", "precision@10": "P_10", "accuracy@10": "success_10",
    "mrr@10": "recip_rank",
}  # fmt: skip


def bake_and_import(parent: Path, nfcorpus: Path) -> Path:
    from cookiecutter.main import cookiecutter

    extra = {"lab_name": "graded-lab", "init_git": False}
    lab = Path(cookiecutter(str(REPO), no_input=True, extra_context=extra, output_dir=parent))
    done = subprocess.run([*EMB, "import", "beir", str(nfcorpus), "--force"], cwd=lab,
                          capture_output=True, text=True, check=False)  # fmt: skip
    # exit 1: emb check's findings on NFCorpus's own duplicates and leaks; the data is written
    if done.returncode not in (0, 1) or not (lab / "data" / "gold.jsonl").is_file():
        sys.exit(f"emb import beir failed:\n{done.stdout}{done.stderr}")
    return lab


def trec_eval(indices: np.ndarray, relevant: list[dict[int, int]]) -> dict[str, np.ndarray]:
    """pytrec_eval per query on a lab ranking (scores falling with the rank keep its order)."""
    import pytrec_eval

    qrels = {str(q): {str(d): g for d, g in judged.items()} for q, judged in enumerate(relevant)}
    run = {str(q): {str(d): float(len(row) - r) for r, d in enumerate(row) if d >= 0}
           for q, row in enumerate(indices.tolist())}  # fmt: skip
    measures = {"ndcg_cut.10", "map_cut.100", "recall.10,100", "P.10", "success.10"}
    results = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    top_10 = {
        q: dict(sorted(docs.items(), key=lambda item: -item[1])[:10]) for q, docs in run.items()
    }
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top_10)
    return {
        metric: np.array([(mrr if metric == "mrr@10" else results)[str(q)][measure]
                          for q in range(len(relevant))])
        for metric, measure in TREC_EVAL.items()
    }  # fmt: skip


def mteb_style(nfcorpus: Path, cache, model, clean=lambda text: text) -> float:
    """ndcg@10 as a BEIR/MTEB script computes it: "title text" stripped, every corpus id its own
    document, graded qrels, cosine scores to pytrec_eval; `clean` applied to every text."""
    import pytrec_eval
    import torch

    corpus = [json.loads(line) for line in (nfcorpus / "corpus.jsonl").open(encoding="utf-8")]
    queries = {}
    for line in (nfcorpus / "queries.jsonl").open(encoding="utf-8"):
        query = json.loads(line)
        queries[query["_id"]] = query["text"]
    qrels: dict[str, dict[str, int]] = {}
    for line in (nfcorpus / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        qrels.setdefault(query_id, {})[doc_id] = int(score)
    query_ids = list(qrels)
    texts = [clean((doc.get("title", "") + " " + doc["text"]).strip()) for doc in corpus]
    documents = cache.encode(texts, "document", "raw corpus")  # only texts the lab changed
    vectors = cache.encode([clean(queries[q]) for q in query_ids], "query", "raw queries")
    scores = model.similarity(torch.from_numpy(vectors), torch.from_numpy(documents))
    top = scores.topk(100, dim=1)
    run = {
        query_id: {corpus[d]["_id"]: float(s) for d, s in zip(row_i, row_s, strict=True)}
        for query_id, row_i, row_s in zip(query_ids, top.indices.tolist(), top.values.tolist(),
                                          strict=True)
    }  # fmt: skip
    results = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(run)
    return float(np.mean([results[q]["ndcg_cut_10"] for q in query_ids]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nfcorpus", type=Path, default=DEFAULT_NFCORPUS)
    parser.add_argument("--max-seq-length", type=int, default=256, help="the lab's default: 256")
    parser.add_argument("--cache-dir", type=Path, help="embedding cache kept across runs")
    args = parser.parse_args()
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_and_import(Path(scratch), args.nfcorpus)
        sys.path.insert(0, str(lab))
        from inventory import preprocess
        from inventory.contract import normalise
        from inventory.datasets import load_splits
        from inventory.embeddings import EmbeddingCache
        from inventory.evaluate import GoldEvaluation
        from inventory.models import DEFAULT_MODEL, load_model
        from inventory.progress import quiet_libraries
        from inventory.retrieval import per_query_metrics

        quiet_libraries()
        splits, _ = preprocess.clean_splits(load_splits(lab / "data"))
        model = load_model(DEFAULT_MODEL, args.max_seq_length)
        cache = EmbeddingCache(model, args.cache_dir or Path(scratch) / "cache")
        start = time.perf_counter()
        gold = GoldEvaluation(splits.gold, splits.corpus, Path(scratch) / "eval")
        gold.score_model(model, "before", cache)
        metrics = gold.write()
        seconds = time.perf_counter() - start
        task = gold.task
        binary = [set(judged) for judged in task.relevant]
        figures = {
            system: (metrics[system]["ndcg@10"],
                     float(per_query_metrics(gold.rankings[system], binary)["ndcg@10"].mean()))
            for system in ("before", "bm25")
        }  # fmt: skip
        many = np.array([sum(g >= 1 for g in judged.values()) > 100 for judged in task.relevant])
        gaps = {}
        for system in ("before", "bm25"):
            ours = gold.per_query[system]
            reference = trec_eval(gold.rankings[system].indices, task.relevant)
            for metric in TREC_EVAL:
                keep = ~many if metric == "map@100" else np.ones(len(many), bool)
                gap = float(np.abs(ours[metric][keep] - reference[metric][keep]).max())
                gaps[metric] = max(gaps.get(metric, 0.0), gap)
        raw = mteb_style(args.nfcorpus, cache, model)
        normalised = mteb_style(args.nfcorpus, cache, model, clean=normalise)

    print(f"NFCorpus test through the lab: {len(task.queries)} queries, {len(task.documents):,} "
          f"documents (identical texts merged), relevance {metrics['relevance']!r}, threshold "
          f"{metrics['relevance_threshold']}; all-MiniLM-L6-v2 zero-shot, max_seq_length "
          f"{args.max_seq_length}; gold evaluation (BM25, encoding, scoring) {seconds:.0f} s"
          )  # fmt: skip
    print(f"{'ndcg@10':<34}{'graded':>8}{'binary':>8}")
    print(f"{'lab, all-MiniLM-L6-v2 (before)':<34}{figures['before'][0]:>8.4f}"
          f"{figures['before'][1]:>8.4f}")  # fmt: skip
    print(f"{'lab, BM25':<34}{figures['bm25'][0]:>8.4f}{figures['bm25'][1]:>8.4f}")
    print(f"{'MTEB-style script, raw texts':<34}{raw:>8.4f}")
    print(f"{'MTEB-style script, lab texts':<34}{normalised:>8.4f}")
    print(f"{'published (MTEB leaderboard)':<34}{PUBLISHED:>8.4f}")
    print(
        f"lab graded - published: {figures['before'][0] - PUBLISHED:+.4f}; "
        f"lab graded - MTEB-style: {figures['before'][0] - raw:+.4f}"
    )
    print("largest |lab - trec_eval| per query, dense and BM25 rankings: "
          + ", ".join(f"{metric} {gap:.1e}" for metric, gap in gaps.items())
          + f" (map@100 over the {int((~many).sum())} queries with at most 100 relevant documents;"
          f" {int(many.sum())} have more)")  # fmt: skip


if __name__ == "__main__":
    main()
