"""MLflow for teams that track there (--report-to mlflow; `pip install ".[mlflow]"`).

The trainer logs its loss and dev evaluations to an MLflow run of the experiment's name; when the
lab's run ends, `log_run` adds what the lab measured to that same MLflow run, once (rank 0): gold
metrics of every scored system (before, after, bm25, hybrid, ...) as `gold.<system>.<metric>`,
the dev figures as `dev.<metric>`, the settings as `lab.<key>` params (beside the trainer's own),
the status as tags, and the manifest, metrics, per-query scores and report page as artifacts.
MLflow's own settings apply (MLFLOW_TRACKING_URI; its default is the local ./mlflow.db).
MLflow stays optional: nothing else imports this module's dependencies.

Imports its siblings relatively, so that `emb` and embed-lab's tests load it as it ships.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .layout import MANIFEST, METRICS, PER_QUERY, scored_systems

TRACKER = "mlflow"
ARTIFACTS = (MANIFEST, str(METRICS), str(PER_QUERY), "eval/dev_per_query.csv", "plots")
END_STATUS = {"completed": "FINISHED", "interrupted": "KILLED"}  # anything else: FAILED


def wanted(report_to: str | None) -> bool:
    """Whether the run reports to MLflow (--report-to mlflow)."""
    return report_to == TRACKER


def prepare(report_to: str | None, experiment: str) -> None:
    """Before training: the trainer's MLflow run goes under the experiment's name (unless
    MLFLOW_EXPERIMENT_NAME says otherwise)."""
    if wanted(report_to):
        os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", experiment)


def log_run(run_dir: Path, record: dict[str, Any]) -> str:
    """Log the lab's results of the run in `run_dir` (its manifest `record`) to MLflow, into the
    trainer's MLflow run when this process trained one; returns the MLflow run id."""
    import mlflow

    label = f"{(record.get('experiment') or {}).get('name')}/{run_dir.name}"
    run = mlflow.active_run()  # the trainer's, when training was stopped before its end
    if run is None and (ended := _trainers_run(mlflow)) is not None:
        run = mlflow.start_run(run_id=ended.info.run_id)
    if run is None:
        mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or label.split("/")[0])
        run = mlflow.start_run(run_name=label)
    status = str(record.get("status"))
    try:
        tags = {"mlflow.runName": label, "embed_lab.run": str(run_dir), "embed_lab.status": status}
        mlflow.set_tags(tags | {"embed_lab.error": record.get("error") or ""})
        mlflow.log_params({f"lab.{key}": value for key, value in settings(record).items()})
        mlflow.log_metrics(metrics(record.get("metrics") or {}))
        for name in ARTIFACTS:
            path = run_dir / name
            if path.is_dir():
                mlflow.log_artifacts(str(path), artifact_path=name)
            elif path.is_file():
                mlflow.log_artifact(str(path), artifact_path=str(Path(name).parent).strip("."))
    finally:
        mlflow.end_run(status=END_STATUS.get(status, "FAILED"))
    return run.info.run_id


def _trainers_run(mlflow: Any) -> Any:
    """The MLflow run the trainer ended in this process, if it was not given the lab's yet."""
    last = mlflow.last_active_run()
    return last if last is not None and "embed_lab.run" not in last.data.tags else None


def metrics(section: dict[str, Any]) -> dict[str, float]:
    """metrics.json as MLflow metric names ("@" is not allowed there: ndcg@10 -> ndcg_at_10)."""
    found = {
        f"gold.{system}.{name}": value
        for system in scored_systems(section)
        for name, value in section[system].items()
    }
    dev = section.get("dev") or {}
    found |= {f"dev.{name}": value for name, value in dev.items() if _is_number(value)}
    hybrid = (section.get("hybrid_config") or {}).get("dev_ndcg@10")
    if _is_number(hybrid):
        found["dev.hybrid.ndcg@10"] = hybrid
    return {key.replace("@", "_at_"): float(value) for key, value in found.items()}


def settings(record: dict[str, Any]) -> dict[str, str]:
    """The run's settings, flattened: base_model, train.*, options.*, recipe, processes."""
    config = record.get("config") or {}
    flat: dict[str, Any] = {
        "run_id": record.get("run_id"),
        "base_model": config.get("base_model"),
        "recipe": (record.get("recipe") or {}).get("name"),
        "processes": record.get("processes"),
    }
    for section in ("train", "options"):
        flat |= {f"{section}.{k}": v for k, v in (config.get(section) or {}).items()}
    return {key: str(value)[:6000] for key, value in flat.items() if value is not None}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
