"""The baked lab's baseline, unchanged, under PyTorch's launchers: 2 CPU processes (gloo).

torchrun and accelerate launch start the experiment file as it is; the tiny random BERT keeps
each run to seconds. A test-only sitecustomize.py (written here, never part of the lab) makes
rank 1 fail in the middle of training, while rank 0 waits for it in a gradient all-reduce.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_pipeline import EXPERIMENT, OFFLINE, TINY_FLAGS

TORCHRUN = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
# Without GPUs, `accelerate launch --cpu` starts one process; --multi_gpu starts N (gloo on CPU).
ACCELERATE = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", "0"]  # fmt: skip
TRAIN_ROWS = 100  # the sample train split: one row per positive
FAIL_IN_RANK_1 = """
import os, sys

if os.environ.get("RANK") == "1":
    import torch

    backward, calls = torch.Tensor.backward, []

    def failing_backward(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise sys.modules["inventory.errors"].LabError("injected failure in rank 1")
        return backward(self, *args, **kwargs)

    torch.Tensor.backward = failing_backward
"""


def launch(
    launcher: list[str], lab: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    process = subprocess.run(
        [sys.executable, *launcher, EXPERIMENT, *args],
        cwd=lab,
        env=os.environ | OFFLINE | (env or {}),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return process, time.monotonic() - start


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_one_run(process: subprocess.CompletedProcess[str], out: Path) -> dict:
    """One set of artifacts, each line printed once; returns the run's metrics."""
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Traceback" not in process.stderr
    lines = process.stdout.splitlines()
    assert len(lines) == len(set(lines)), process.stdout
    assert sum(line.startswith("train: kept") for line in lines) == 1
    assert sum(line.startswith("gold ndcg@10:") for line in lines) == 1

    runs = [path for path in out.iterdir() if path.is_dir() and not path.is_symlink()]
    assert len(runs) == 1, runs
    assert {p.name for p in runs[0].iterdir()} == {"eval", "final", "plots", "manifest.json",
                                                   "train_log.json"}  # fmt: skip
    assert (out / "latest").resolve() == runs[0].resolve()
    gold_csv = (out / "eval/Information-Retrieval_evaluation_gold_results.csv").read_text()
    assert len(gold_csv.splitlines()) == 3, "header, before and after: gold was scored once each"
    dev_rows = (out / "eval/Information-Retrieval_evaluation_dev_results.csv").read_text()
    steps = [row.split(",")[1] for row in dev_rows.splitlines()[1:]]
    assert len(steps) == len(set(steps)) >= 3, "each dev evaluation is written once"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["processes"] == 2 and manifest["status"] == "completed"
    return json.loads((out / "eval/metrics.json").read_text(encoding="utf-8"))


def test_torchrun_runs_the_baseline_data_parallel(lab: Path, tiny_model: Path, tmp_path: Path):
    out = tmp_path / "run"
    process, _ = launch(TORCHRUN, lab, "--base-model", str(tiny_model), *TINY_FLAGS,
                        "--output-dir", str(out))  # fmt: skip
    metrics = assert_one_run(process, out)

    # Each process trained on half of each epoch's batches (the last, partial one is dropped).
    log = json.loads((out / "latest" / "train_log.json").read_text(encoding="utf-8"))
    assert log[-1]["step"] == 4 * (TRAIN_ROWS // (16 * 2))

    # The saved model is the trained one: scored again from disk, it gives the "after" metrics.
    rescore = subprocess.run(
        [sys.executable, "-c", RESCORE, str(out / "final")],
        cwd=lab, env=os.environ | OFFLINE, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert rescore.returncode == 0, rescore.stderr[-3000:]
    assert float(rescore.stdout) == pytest.approx(metrics["after"]["ndcg@10"], abs=1e-4)
    assert metrics["after"]["ndcg@10"] > metrics["before"]["ndcg@10"] + 0.05


RESCORE = """
import sys, tempfile
from pathlib import Path
sys.path.insert(0, ".")
from inventory import evaluate, preprocess
from inventory.datasets import load_splits
from inventory.embeddings import EmbeddingCache
from inventory.models import load_model

splits, _ = preprocess.clean_splits(load_splits(Path("data")))
gold = evaluate.GoldEvaluation(splits.gold, splits.corpus, Path(tempfile.mkdtemp()))
model = load_model(sys.argv[1], 256)
print(gold.score_model(model, "after", EmbeddingCache(model))["ndcg@10"])
"""


def test_a_failure_in_rank_1_ends_the_run_with_one_line(
    lab: Path, tiny_model: Path, tmp_path: Path
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FAIL_IN_RANK_1, encoding="utf-8")
    process, seconds = launch(TORCHRUN, lab, "--base-model", str(tiny_model), *TINY_FLAGS,
                              "--output-dir", str(tmp_path / "run"),
                              env={"PYTHONPATH": str(hook)})  # fmt: skip
    assert process.returncode != 0
    assert error_lines(process.stderr) == ["error: rank 1: injected failure in rank 1"], (
        process.stderr[-3000:]
    )
    assert "[rank" not in process.stderr, "no traceback from rank 0, which the launcher stopped"
    assert "gold ndcg@10" not in process.stdout
    assert seconds < 180, "rank 0 did not hang in the all-reduce"


def test_accelerate_launch_with_negatives_from_every_process(
    lab: Path, tiny_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    process, _ = launch(ACCELERATE, lab, "--base-model", str(tiny_model), *TINY_FLAGS,
                        "--output-dir", str(out), "--gather-across-devices")  # fmt: skip
    assert_one_run(process, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["train"]["gather_across_devices"] is True
    # The untrained tiny model ranks near-randomly, so the first loss is about log(candidates):
    # log(2 x 16 x 2) with both processes' batches (anchor, positive, negative), not log(16 x 2).
    log = json.loads((out / "latest" / "train_log.json").read_text(encoding="utf-8"))
    first_loss = next(entry["loss"] for entry in log if "loss" in entry)
    assert first_loss == pytest.approx(math.log(64), abs=0.25)
