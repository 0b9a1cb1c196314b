"""The hybrid's fusion on NFCorpus: the old rule (arg-max of eleven RRF weights on dev) against
the new one (equal-weight RRF unless a candidate beats it on dev beyond noise).

    python benchmarks/fusion_nfcorpus.py [--lab DIR] [--model PATH] [--fix]

Without --lab it bakes a lab into /tmp/fusion-nfcorpus-lab and imports ../shared/data/nfcorpus
with `emb import beir --max-positives 1` (`--fix` adds `emb check --fix`'s repair where this
embed-lab has it). Dense is --model (default: the packaged all-MiniLM-L6-v2, zero-shot) ranking
the full corpus, its vectors cached in the lab; BM25 is the lab's. Every fusion is scored on dev
(to choose) and on gold (reported only, never chosen on). Prints each candidate's dev ndcg@10, its
Holm-corrected p-value against equal-weight RRF, and gold ndcg@10; then what each rule picks,
the size of dev and the smallest difference it can detect.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
NFCORPUS = REPO_ROOT.parent / "shared" / "data" / "nfcorpus"
OLD_WEIGHTS = tuple(round(0.1 * step, 1) for step in range(11))


def make_lab(lab: Path, fix: bool) -> None:
    emb = str(Path(sys.executable).parent / "emb")
    subprocess.run([emb, "init", str(lab), "--no-input", "--no-git"], check=True)
    command = [emb, "import", "beir", str(NFCORPUS), "--max-positives", "1", "--force"]
    subprocess.run([*command, *(["--fix"] if fix else [])], cwd=lab, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=Path, default=Path("/tmp/fusion-nfcorpus-lab"))
    parser.add_argument("--model", help="default: the packaged all-MiniLM-L6-v2")
    parser.add_argument("--fix", action="store_true", help="repair the import with emb check --fix")
    args = parser.parse_args()
    if not (args.lab / "data" / "gold.jsonl").is_file():
        make_lab(args.lab, args.fix)
    sys.path.insert(0, str(args.lab.resolve()))
    from inventory import preprocess
    from inventory.bm25 import bm25_ranking
    from inventory.datasets import load_splits
    from inventory.embeddings import CACHE_DIR, EmbeddingCache
    from inventory.fusion import DEFAULT, Fusion, choose_fusion, fuse
    from inventory.models import load_model
    from inventory.progress import quiet_libraries
    from inventory.retrieval import build_task, dense_ranking, per_query_metrics
    from inventory.settings import BASE_MODEL

    quiet_libraries()
    os.chdir(args.lab)  # the embedding cache lives in the lab
    splits, _ = preprocess.clean_splits(load_splits(Path("data")))
    model = load_model(args.model or BASE_MODEL, 256)
    cache = EmbeddingCache(model, CACHE_DIR)

    def rankings(records: list, name: str) -> tuple:
        task = build_task(records, name, splits.corpus)
        queries = cache.encode(task.queries, "query", f"{name} queries")
        documents = cache.encode(task.documents, "document", f"{name} corpus")
        dense = dense_ranking(queries, documents, model.similarity)
        return task, dense, bm25_ranking(task.documents, task.queries)

    dev, dev_dense, dev_sparse = rankings(splits.dev, "dev")
    gold, gold_dense, gold_sparse = rankings(splits.gold, "gold")

    def mean_ndcg(task, ranking) -> float:
        return float(per_query_metrics(ranking, task.relevant)["ndcg@10"].mean())

    def ndcg(task, dense, sparse, fusion: Fusion) -> float:
        return mean_ndcg(task, fuse(dense, sparse, fusion))

    fusion, choice = choose_fusion(dev_dense, dev_sparse, dev.relevant)
    print(f"dev {len(dev.queries)} queries, gold {len(gold.queries)}, "
          f"corpus {len(gold.documents)} documents; model {args.model or BASE_MODEL}")  # fmt: skip
    for name, task, ranking in (("dev", dev, dev_dense), ("gold", gold, gold_dense)):
        alone = {"dense": ranking, "bm25": dev_sparse if name == "dev" else gold_sparse}
        row = {key: mean_ndcg(task, ranking) for key, ranking in alone.items()}
        print(f"{name} alone: dense {row['dense']:.4f}, bm25 {row['bm25']:.4f}")
    print("\n| fusion | dev ndcg@10 | p vs rrf@0.5 | p (Holm) | gold ndcg@10 |")
    print("|---|---|---|---|---|")
    for name, dev_ndcg in sorted(choice.dev.items(), key=lambda item: -item[1]):
        method, weight = name.split("@")
        gold_ndcg = ndcg(gold, gold_dense, gold_sparse, Fusion(method, float(weight)))
        p = choice.p_value.get(name)
        cells = ("–", "–") if p is None else (f"{p:.4f}", f"{choice.p_holm[name]:.4f}")
        print(f"| {name} | {dev_ndcg:.4f} | {cells[0]} | {cells[1]} | {gold_ndcg:.4f} |")

    old_dev = {w: ndcg(dev, dev_dense, dev_sparse, Fusion("rrf", w)) for w in OLD_WEIGHTS}
    old = max(OLD_WEIGHTS, key=lambda w: (round(old_dev[w], 6), -abs(w - 0.5)))
    old_gold = ndcg(gold, gold_dense, gold_sparse, Fusion("rrf", old))
    new_gold = ndcg(gold, gold_dense, gold_sparse, fusion)
    print("\nold rule dev curve (RRF weight: dev ndcg@10): "
          + ", ".join(f"{w:g}: {old_dev[w]:.4f}" for w in OLD_WEIGHTS))  # fmt: skip
    print(f"old rule (arg-max on dev): rrf@{old:g}, dev {old_dev[old]:.4f}, gold {old_gold:.4f}")
    kept = "default kept" if fusion == DEFAULT else "default replaced"
    print(f"new rule: {fusion.name}, dev {choice.dev[fusion.name]:.4f}, gold {new_gold:.4f} "
          f"({kept}: {choice.reason})")  # fmt: skip
    detectable = "none" if choice.detectable == float("inf") else f"{choice.detectable:.4f}"
    print(f"dev queries {choice.queries}; smallest detectable difference {detectable} ndcg@10")


if __name__ == "__main__":
    main()
