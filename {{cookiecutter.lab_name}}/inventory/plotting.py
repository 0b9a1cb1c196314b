"""A run's report: one offline page, plots/index.html, with the run's key facts from its manifest,
gold before/after bars, the training loss and the dev metrics during training.

The page loads the plotly.min.js written next to it, so it works without internet.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from inventory import distributed
from inventory.files import read_json, write_text
from inventory.layout import MANIFEST, METRICS, TRAIN_LOG, scored_systems
from inventory.liveness import run_state

DEV_METRICS = ("ndcg@10", "mrr@10", "recall@10")
PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>$title</title>
<script charset="utf-8" src="plotly.min.js"></script>
<style>body { font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 1200px }
td, th { text-align: left; padding: 2px 12px 2px 0; vertical-align: top }
th { color: #555; font-weight: normal }</style></head>
<body><h1>$title</h1><table>$facts</table>$figures</body></html>
""")


@distributed.main_process
def plot_run(log: list[dict], metrics: dict | None, plots_dir: Path) -> Path:
    """Write plots_dir/index.html (once, by rank 0, under a launcher); see write_page."""
    return write_page(log, metrics, plots_dir)


def write_page(log: list[dict], metrics: dict | None, plots_dir: Path) -> Path:
    """Write plots_dir/index.html; the facts come from the manifest.json next to plots_dir."""
    record = read_json(plots_dir.parent / MANIFEST, missing={})
    figures = [loss_figure(log), dev_metrics_figure(log)] if log else []
    if metrics:
        figures.insert(0, before_after_figure(metrics))
    name = record.get("experiment", {}).get("name", plots_dir.parent.parent.name)
    page = PAGE.substitute(
        title=html.escape(f"{name}, run {plots_dir.parent.name}"),
        facts="".join(
            f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
            for label, value in key_facts(record) + relevance_facts(metrics)
        ),
        figures="".join(f.to_html(full_html=False, include_plotlyjs=False) for f in figures),
    )
    plotly_js = plots_dir / "plotly.min.js"
    if not plotly_js.is_file():
        write_text(plotly_js, get_plotlyjs())
    return write_text(plots_dir / "index.html", page)


def write_report(run_dir: Path) -> Path:
    """(Re)write a run's page from its files: train_log.json, eval/metrics.json, manifest.json."""
    log = read_json(run_dir / TRAIN_LOG, missing=[])
    # Not plot_run: only rank 0 finishes a run, so this must not wait for the other processes.
    return write_page(log, read_json(run_dir / METRICS), run_dir / "plots")


def key_facts(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows for the top of the report."""
    if not record:
        return []
    config, train = record.get("config", {}), record.get("config", {}).get("train", {})
    model, git, recipe = record.get("model", {}), record.get("git") or {}, record.get("recipe")
    status = run_state(record).describe()  # "died during training, ..." for a dead run
    status += f": {record['error']}" if record.get("error") else ""
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in record.get("phases_s", {}).items())
    options = ", ".join(f"{k}={v}" for k, v in (config.get("options") or {}).items())
    rows = [
        ("status", status),
        ("started", f"{record.get('started')}  ({record.get('duration_s', '?')} s)"),
        *([("time per phase", phases)] if phases else []),
        ("base model", f"{model.get('name')}  {_identity(model)}"),
        ("recipe", f"{recipe['name']} ({recipe['loss']})" if recipe else "not reached"),
        ("hyperparameters", ", ".join(f"{k}={v}" for k, v in train.items())),
        *([("recipe options", options)] if options else []),
        ("data", ", ".join(_data_fact(name, v) for name, v in record.get("data", {}).items())),
        ("git", _git_fact(git)),
        ("versions", ", ".join(f"{k} {v}" for k, v in record.get("versions", {}).items())),
        ("hardware", _hardware(record.get("hardware", {}))),
        ("data folder", str(config.get("data_dir"))),
    ]
    differences = record.get("encoding", {}).get("differences")
    if differences:
        rows.append(("evaluation settings differ from training", "; ".join(differences)))
    return rows


def relevance_facts(metrics: dict | None) -> list[tuple[str, str]]:
    """The row that says how gold was scored: graded or binary relevance, and the threshold."""
    if not metrics or "relevance" not in metrics:
        return []
    threshold = metrics.get("relevance_threshold", 1)
    if metrics["relevance"] == "graded":
        how = f"graded: ndcg@10 gains are the grades; other metrics count grade >= {threshold}"
    else:
        how = "binary: every positive counts as relevant (the data has no grades)"
    return [("gold relevance", how)]


def _data_fact(name: str, data: dict[str, Any]) -> str:
    return f"{name} {data['rows']} rows {data['sha256'][:12]}"


def _git_fact(git: dict[str, Any]) -> str:
    if not git:
        return "not a git repository"
    return f"{git.get('commit', '')[:12]}{' (dirty)' if git.get('dirty') else ''}"


def _identity(model: dict[str, Any]) -> str:
    if model.get("hub_revision"):
        return f"revision {model['hub_revision'][:12]}"
    if model.get("weights_sha256"):
        return f"weights sha256 {model['weights_sha256'][:12]}"
    return ""


def _hardware(hardware: dict[str, Any]) -> str:
    gpus = ", ".join(hardware.get("gpus", [])) or "no GPU"
    return f"{hardware.get('cpu')} ({hardware.get('cpu_count')} CPUs), {gpus}"


def loss_figure(log: list[dict]) -> go.Figure:
    steps = [entry["step"] for entry in log if "loss" in entry]
    losses = [entry["loss"] for entry in log if "loss" in entry]
    figure = go.Figure(go.Scatter(x=steps, y=losses, mode="lines+markers", name="loss"))
    figure.update_layout(title="Training loss", xaxis_title="step", yaxis_title="loss")
    return figure


def dev_metrics_figure(log: list[dict]) -> go.Figure:
    figure = go.Figure()
    for metric in DEV_METRICS:
        points = [
            (entry["step"], value)
            for entry in log
            for key, value in entry.items()
            if key.startswith("eval_") and key.endswith(f"_{metric}")
        ]
        if points:
            steps, values = zip(*points, strict=True)
            figure.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers", name=metric))
    figure.update_layout(
        title="Dev retrieval during training",
        xaxis_title="step",
        yaxis_title="score",  # the axis fits the values: small gains stay visible
    )
    return figure


def before_after_figure(metrics: dict) -> go.Figure:
    names = list(metrics["before"])
    figure = go.Figure(
        [
            go.Bar(
                name=stage,
                x=names,
                y=[metrics[stage][name] for name in names],
                text=[f"{metrics[stage][name]:.3f}" for name in names],
            )
            for stage in scored_systems(metrics)  # with a recipe's own, e.g. first_stage
        ]
    )
    figure.update_layout(
        title="Gold retrieval before and after fine-tuning, beside BM25 and the hybrid",
        barmode="group",
        yaxis_title="score",
        yaxis_range=[0, 1],
    )
    return figure
