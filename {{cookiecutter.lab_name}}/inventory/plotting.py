"""Offline plotly pages for a run: training loss, dev metrics over steps, gold before/after.

The pages share one plotly.min.js written next to them, so every page works without internet.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

DEV_METRICS = ("ndcg@10", "mrr@10", "recall@10")


def plot_run(log: list[dict], metrics: dict, plots_dir: Path) -> list[Path]:
    """Write loss.html, dev_metrics.html and before_after.html; returns their paths."""
    return [
        plot_loss(log, plots_dir / "loss.html"),
        plot_dev_metrics(log, plots_dir / "dev_metrics.html"),
        plot_before_after(metrics, plots_dir / "before_after.html"),
    ]


def plot_loss(log: list[dict], path: Path) -> Path:
    steps = [entry["step"] for entry in log if "loss" in entry]
    losses = [entry["loss"] for entry in log if "loss" in entry]
    figure = go.Figure(go.Scatter(x=steps, y=losses, mode="lines+markers", name="loss"))
    figure.update_layout(title="Training loss", xaxis_title="step", yaxis_title="loss")
    return _write(figure, path)


def plot_dev_metrics(log: list[dict], path: Path) -> Path:
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
        yaxis_title="score",
        yaxis_range=[0, 1],
    )
    return _write(figure, path)


def plot_before_after(metrics: dict, path: Path) -> Path:
    names = list(metrics["before"])
    figure = go.Figure(
        [
            go.Bar(
                name=stage,
                x=names,
                y=[metrics[stage][name] for name in names],
                text=[f"{metrics[stage][name]:.3f}" for name in names],
            )
            for stage in ("before", "after", "bm25", "hybrid")
            if stage in metrics
        ]
    )
    figure.update_layout(
        title="Gold retrieval before and after fine-tuning, beside BM25 and the hybrid",
        barmode="group",
        yaxis_title="score",
        yaxis_range=[0, 1],
    )
    return _write(figure, path)


def _write(figure: go.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(path, include_plotlyjs="directory")  # one plotly.min.js per folder
    return path
