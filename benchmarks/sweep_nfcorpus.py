"""Choose a recipe's defaults on real data: NFCorpus, scored on its dev split, never on test.

    python benchmarks/sweep_nfcorpus.py [--lab /tmp/nfcorpus-lab] [--experiment exp_01_baseline]
        [--recipe hard-negatives] [--max-positives 1] [--train-queries 1000] [--data-dir DIR]
        --grid "--learning-rate 2e-5" ...

Bakes a lab (once; kept, so the base model's corpus vectors are cached across runs), imports
NFCorpus with `emb import beir --max-positives N` (train/dev/test qrels -> train/dev/gold, the full
corpus -> data/corpus.jsonl), optionally keeps a seeded sample of the train queries (the budget:
one run within 15 minutes for about a thousand training queries), then runs the experiment once
per grid entry, in turn, with the all-MiniLM-L6-v2 default. Each row: dev ndcg@10 of the
fine-tuned model alone, of BM25 and of the hybrid (dev queries against the full corpus: the figure
to choose on), then gold ndcg@10 before, after, BM25 and hybrid (to report, not to choose), and the
run's wall time and where it went (manifest.json's phases_s). `--recipe` runs that recipe's
experiment, added with `emb new` when the lab lacks it; `--data-dir` trains on another folder
(e.g. a mined set as train, for contrastive). For the cross-encoder, "after" is the reranker on
the first stage's top k; the first stage's own figures are in the run's metrics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NFCORPUS = REPO.parent / "shared" / "data" / "nfcorpus"
EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def prepare(lab: Path, nfcorpus: Path, max_positives: int) -> Path:
    """The lab, baked once, and a data folder per positive cap; returns the data folder."""
    if not lab.exists():
        subprocess.run([*EMB, "init", str(lab), "--no-input", "--no-git"], check=True)
    data = lab / f"data-nfcorpus-max{max_positives}"
    if not (data / "train.jsonl").exists():
        subprocess.run(
            [*EMB, "import", "beir", str(nfcorpus), "--data-dir", str(data),
             "--max-positives", str(max_positives)],
            check=False,  # emb check fails on NFCorpus's own duplicates and leaks; it still imports
        )  # fmt: skip
    return data


def sample_train(data: Path, queries: int, seed: int = 42) -> Path:
    """A data folder like `data` whose train split keeps `queries` seeded lines, in file order."""
    sampled = data.with_name(f"{data.name}-q{queries}")
    if not (sampled / "train.jsonl").exists():
        sampled.mkdir(exist_ok=True)
        for name in ("dev.jsonl", "gold.jsonl", "corpus.jsonl"):
            (sampled / name).unlink(missing_ok=True)
            (sampled / name).symlink_to(data / name)
        lines = (data / "train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        keep = sorted(random.Random(seed).sample(range(len(lines)), min(queries, len(lines))))
        (sampled / "train.jsonl").write_text("".join(lines[i] for i in keep), encoding="utf-8")
    return sampled


def experiment_for(lab: Path, experiment: str, recipe: str | None) -> str:
    """The experiment to run: `experiment`, or the lab's experiment of `recipe`, added with
    `emb new` the first time."""
    if recipe is None:
        return experiment
    name = recipe.replace("-", "_")
    found = sorted(lab.glob(f"experiments/exp_[0-9]*_{name}.py"))
    if not found:
        subprocess.run([*EMB, "new", name, "--recipe", recipe, str(lab)], check=True)
        found = sorted(lab.glob(f"experiments/exp_[0-9]*_{name}.py"))
    return found[0].stem


def run(lab: Path, experiment: str, data: Path, flags: list[str]) -> dict:
    """One experiment run; its metrics, wall time and the manifest's time per phase."""
    out = lab / "results" / f"sweep-{experiment}"
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, f"experiments/{experiment}.py", "--data-dir", str(data),
         "--output-dir", str(out), *flags],
        cwd=lab, env=os.environ | OFFLINE, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if process.returncode != 0:
        return {"error": process.stderr.strip().splitlines()[-1:], "wall": wall}
    metrics = json.loads((out / "latest" / "eval" / "metrics.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "latest" / "manifest.json").read_text(encoding="utf-8"))
    phases = manifest.get("phases_s", {})
    spent = ", ".join(f"{name} {seconds:.0f}" for name, seconds in phases.items())
    return {
        "metrics": metrics,
        "wall": wall,
        "run": (out / "latest").resolve().name,
        "phases": spent,
    }


def row(flags: str, result: dict) -> str:
    if "error" in result:
        return f"| {flags} | failed: {result['error']} | | | | | | | {result['wall']:.0f} | |"
    metrics = result["metrics"]
    hybrid = metrics.get("hybrid_config", {})
    bm25_dev = hybrid.get("dev_ndcg@10_alone", {}).get("bm25")
    dev = [metrics.get("dev", {}).get("ndcg@10"), bm25_dev, hybrid.get("dev_ndcg@10")]
    systems = ("before", "after", "bm25", "hybrid")
    gold = [metrics.get(system, {}).get("ndcg@10") for system in systems]
    cells = " | ".join("" if value is None else f"{value:.4f}" for value in dev + gold)
    return f"| {flags} | {cells} | {result['wall']:.0f} | {result['phases']} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nfcorpus", type=Path, default=DEFAULT_NFCORPUS)
    parser.add_argument("--lab", type=Path, default=Path("/tmp/nfcorpus-lab"))
    parser.add_argument("--experiment", default="exp_01_baseline")
    parser.add_argument("--recipe", help="run this recipe's experiment (added when missing)")
    parser.add_argument("--max-positives", type=int, default=1)
    parser.add_argument("--train-queries", type=int, help="a seeded sample of the train queries")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="run on this data folder instead (e.g. "
        "a mined set as train, for the contrastive recipe)",
    )
    parser.add_argument("--grid", nargs="+", default=[""], help="one quoted flag set per run")
    args = parser.parse_args()
    data = prepare(args.lab, args.nfcorpus, args.max_positives)
    experiment = experiment_for(args.lab, args.experiment, args.recipe)
    if args.train_queries:
        data = sample_train(data, args.train_queries)
    if args.data_dir:
        data = args.data_dir.resolve()
    print(
        "| flags | dev after | dev bm25 | dev hybrid | gold before | gold after | gold bm25 "
        "| gold hybrid | wall s | phases (s) |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for flags in args.grid:
        result = run(args.lab, experiment, data, shlex.split(flags))
        label = f"max-positives {args.max_positives} {flags}".strip()
        if args.train_queries:
            label = f"{args.train_queries} queries, {label}"
        print(row(label, result), flush=True)


if __name__ == "__main__":
    main()
