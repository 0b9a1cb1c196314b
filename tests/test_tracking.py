"""The lab's MLflow logging (inventory/tracking.py) against a real MLflow store: the local
SQLite store MLflow uses by default, in a temporary folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from embed_lab.template import load_inventory_module
from tests.test_runs_cli import make_run, with_dev


@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")  # MLflow's own
def test_the_lab_logs_its_results_into_the_trainers_mlflow_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)  # MLflow keeps artifacts in ./mlruns beside the store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")  # restored as it was after the test
    tracking = load_inventory_module("tracking")
    lab = tmp_path / "lab"
    run = make_run(lab, "20261101-090000", 0.7, per_query={"q1": 0.6, "q2": 0.8},
                   extra_systems=True)  # fmt: skip
    with_dev(run, 0.5, 0.55)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))

    tracking.prepare("mlflow", "exp_01_baseline")  # before training
    assert os.environ["MLFLOW_EXPERIMENT_NAME"] == "exp_01_baseline"
    mlflow.set_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"])  # what the trainer's callback does
    with mlflow.start_run() as trainers:
        mlflow.log_metric("loss", 1.5, step=1)
    logged = tracking.log_run(run, manifest)

    client = MlflowClient()
    record = client.get_run(logged)
    assert logged == trainers.info.run_id  # one MLflow run per lab run
    assert client.get_experiment(record.info.experiment_id).name == "exp_01_baseline"
    assert record.info.status == "FINISHED"
    assert record.info.run_name == f"exp_01_baseline/{run.name}"
    metrics = record.data.metrics
    assert metrics["loss"] == 1.5  # the trainer's, kept
    assert (metrics["gold.before.ndcg_at_10"], metrics["gold.after.ndcg_at_10"]) == (0.5, 0.7)
    assert (metrics["gold.bm25.ndcg_at_10"], metrics["gold.hybrid.ndcg_at_10"]) == (0.45, 0.6)
    assert (metrics["dev.ndcg_at_10"], metrics["dev.hybrid.ndcg_at_10"]) == (0.5, 0.55)
    assert record.data.params["lab.train.learning_rate"] == "5e-05"
    assert record.data.tags["embed_lab.status"] == "completed"
    artifacts = {item.path for item in client.list_artifacts(logged)}
    assert {"manifest.json", "eval", "plots"} <= artifacts
    assert [item.path for item in client.list_artifacts(logged, "plots")] == ["plots/index.html"]
    assert [item.path for item in client.list_artifacts(logged, "eval")] == ["eval/per_query.csv"]

    failed = make_run(lab, "20261102-090000", 0.0, status="failed")  # no trainer's run to join
    manifest = json.loads((failed / "manifest.json").read_text(encoding="utf-8"))
    other = client.get_run(tracking.log_run(failed, manifest))
    assert other.info.run_id != logged and other.info.status == "FAILED"
    assert other.data.tags["embed_lab.error"] == "data/train.jsonl:7: malformed JSON"
    assert other.info.experiment_id == record.info.experiment_id
