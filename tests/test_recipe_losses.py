"""The recipes that change the loss, run as a user runs them: in-batch-negatives with --cached,
contrastive and matryoshka, each added to a baked lab and run with the tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, add_recipe
from tests.test_pipeline import METRICS, OFFLINE, TINY_FLAGS

ARTIFACTS = ("final/config.json", "eval/metrics.json", "eval/per_query.csv",
             "eval/Information-Retrieval_evaluation_gold_results.csv", "plots/index.html",
             "train_log.json", "manifest.json")  # fmt: skip
TINY_DIMS = {"32": 100, "16": 50, "8": 25, "4": 12}  # the tiny BERT is 32 wide: dim -> size %


def run(lab: Path, experiment: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(experiment.relative_to(lab)), *args],
        cwd=lab, env=os.environ | OFFLINE, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip


def finished_run(lab: Path, experiment: Path, *args: str) -> tuple[str, Path, dict]:
    """Run an experiment that must succeed: its stdout, run folder and metrics."""
    process = run(lab, experiment, *args)
    assert process.returncode == 0, process.stderr[-3000:]
    run_dir = (lab / "results" / experiment.stem / "latest").resolve()
    for artifact in ARTIFACTS:
        assert (run_dir / artifact).is_file(), artifact
    metrics = json.loads((run_dir / "eval" / "metrics.json").read_text(encoding="utf-8"))
    for system in ("before", "after", "delta", "bm25", "hybrid"):
        assert set(metrics[system]) == METRICS, system
    assert metrics["after"]["ndcg@10"] > metrics["before"]["ndcg@10"]  # training helped
    return process.stdout, run_dir, metrics


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def test_recipe_files_are_plain_python() -> None:
    for recipe in ("contrastive", "matryoshka"):
        for path in (REPO_ROOT / "recipes" / recipe).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not any(mark in text for mark in ("{{", "{%", "{#")), path


def test_in_batch_negatives_cached(lab: Path, tiny_model: Path) -> None:
    experiment = add_recipe(lab, "in-batch-negatives", "exp_02_cached")
    flags = ("--base-model", str(tiny_model), *TINY_FLAGS, "--epochs", "2",  # 2 passes a step
             "--cached", "--mini-batch-size", "8")  # fmt: skip
    _, run_dir, _ = finished_run(lab, experiment, *flags)
    record = manifest(run_dir)
    assert record["recipe"]["loss"] == "CachedMultipleNegativesRankingLoss"
    assert record["recipe"]["batch_sampler"] == "no_duplicates"
    assert record["config"]["options"] == {"cached": True, "mini_batch_size": 8}


def test_contrastive_trains_on_labelled_pairs(lab: Path, tiny_model: Path) -> None:
    experiment = add_recipe(lab, "contrastive", "exp_03_contrastive")
    assert (lab / "inventory" / "pairs.py").is_file()
    _, run_dir, _ = finished_run(lab, experiment, "--base-model", str(tiny_model), *TINY_FLAGS)
    recipe = manifest(run_dir)["recipe"]
    assert recipe == {"name": "contrastive", "loss": "OnlineContrastiveLoss",
                      "columns": ["text1", "text2", "label"],
                      "batch_sampler": "batch_sampler"}  # fmt: skip


PAIRS = """
import json, sys
sys.path.insert(0, ".")
from inventory.datasets import Record
from inventory.pairs import to_pair_dataset
records = [Record("q1", ("p1",), ("n1", "n2")), Record("q2", ("p2",), ())]
print(json.dumps(to_pair_dataset(records).to_dict()))
"""


def test_contrastive_pairs_come_from_records_with_negatives(lab: Path) -> None:
    add_recipe(lab, "contrastive", "exp_03_contrastive")
    process = subprocess.run([sys.executable, "-c", PAIRS], cwd=lab, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert process.returncode == 0, process.stderr
    lines = process.stdout.strip().splitlines()
    assert lines[0] == "contrastive: left out 1 of 2 train records without a negative"
    assert json.loads(lines[-1]) == {
        "text1": ["q1", "q1", "q1"],
        "text2": ["p1", "n1", "n2"],
        "label": [1, 0, 0],
    }


def test_contrastive_without_negatives_is_one_line(lab: Path, tmp_path: Path) -> None:
    experiment = add_recipe(lab, "contrastive", "exp_03_contrastive")
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "dev", "gold"):
        rows = (lab / "data" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        if split == "train":
            rows = [json.dumps({**json.loads(row), "neg": None}) for row in rows]
        (data / f"{split}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    process = run(lab, experiment, "--data-dir", str(data), "--output-dir", str(out))
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [
        f'error: {data / "train.jsonl"}: no record has negatives ("neg"), which this recipe '
        "needs: add them to the records, or mine them first with the hard-negatives recipe"
    ]
    assert not out.exists()  # nothing written, not even a run folder


def test_matryoshka_scores_gold_at_every_dimension(lab: Path, tiny_model: Path) -> None:
    experiment = add_recipe(lab, "matryoshka", "exp_04_matryoshka")
    stdout, run_dir, metrics = finished_run(
        lab, experiment, "--base-model", str(tiny_model), *TINY_FLAGS
    )
    scores = metrics["matryoshka"]
    assert list(scores) == list(TINY_DIMS)  # the model's 32 and three powers of two below it
    for dim, systems in scores.items():
        assert set(systems) == {"before", "after"} and set(systems["after"]) == METRICS, dim
    for system in ("before", "after"):  # the full dimension is the usual score
        assert scores["32"][system] == pytest.approx(metrics[system], abs=1e-6)
    for dim in ("32", "16", "8"):
        assert scores[dim]["after"]["ndcg@10"] > scores[dim]["before"]["ndcg@10"], dim
    assert manifest(run_dir)["recipe"]["loss"] == "MatryoshkaLoss"
    table = stdout[stdout.index("gold ndcg@10 by dimension:") :].splitlines()
    assert table[1].split() == ["dim", "index", "size", "before", "after"]
    assert [row.split()[:2] for row in table[2:6]] == [[d, f"{p}%"] for d, p in TINY_DIMS.items()]


def test_matryoshka_dims_beyond_the_model_are_one_line(lab: Path, tiny_model: Path) -> None:
    experiment = add_recipe(lab, "matryoshka", "exp_04_matryoshka")
    process = run(lab, experiment, "--base-model", str(tiny_model), "--dims", "16", "64",
                  "--output-dir", str(lab / "results" / "dims"))  # fmt: skip
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [
        "error: --dims 64: must be between 1 and the model's dimension, 32"
    ]


def test_matryoshka_default_dimensions_adapt_to_the_model(lab: Path) -> None:
    add_recipe(lab, "matryoshka", "exp_04_matryoshka")
    code = ("from inventory.matryoshka import matryoshka_dims as d; "
            "print(d(384), d(768), d(32), d(384, (100,)), d(2))")  # fmt: skip
    process = subprocess.run([sys.executable, "-c", code], cwd=lab, capture_output=True,
                             text=True, check=True)  # fmt: skip
    assert process.stdout.split("\n")[0] == (
        "(384, 256, 128, 64) (768, 512, 256, 128) (32, 16, 8, 4) (384, 100) (2, 1)"
    )
