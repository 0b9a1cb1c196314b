"""`emb compare --html`: one offline page (plotly.js inlined): metric bars and training curves."""

from __future__ import annotations

import html
from pathlib import Path

from embed_lab.runs.compare import metric_names
from embed_lab.runs.store import RunRecord, RunsError

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Runs compared</title></head>
<body style="font-family: sans-serif"><h1>Runs compared</h1><p>{labels}</p>{body}</body></html>
"""
CURVES = (("loss", "Training loss", "loss"), ("ndcg@10", "Dev ndcg@10 during training", "score"))


def write_page(runs: list[RunRecord], path: Path) -> Path:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise RunsError("--html needs plotly: pip install plotly (every lab has it)") from None

    bars = go.Figure(
        [
            go.Bar(
                name=run.label,
                x=metric_names([run]),
                y=[run.metric("after", name) for name in metric_names([run])],
            )
            for run in runs
        ]
    )
    bars.update_layout(title="Gold metrics after fine-tuning, per run", barmode="group",
                       yaxis_title="score", yaxis_range=[0, 1])  # fmt: skip
    figures = [bars]
    for key, title, axis in CURVES:
        figure = go.Figure()
        for run in runs:
            points = _curve(run, key)
            if points:
                steps, values = zip(*points, strict=True)
                line = go.Scatter(x=steps, y=values, mode="lines+markers", name=run.label)
                figure.add_trace(line)
        figure.update_layout(title=title, xaxis_title="step", yaxis_title=axis)
        figures.append(figure)
    body = "".join(
        figure.to_html(full_html=False, include_plotlyjs=index == 0)  # plotly.js once, inlined
        for index, figure in enumerate(figures)
    )
    labels = ", ".join(
        run.label if run.state.status == "completed" else f"{run.label} ({run.state.describe()})"
        for run in runs
    )
    page = PAGE.format(labels=html.escape(labels), body=body)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _curve(run: RunRecord, key: str) -> list[tuple[float, float]]:
    """(step, value) of the training loss, or of a dev metric logged as eval_<name>_<key>."""
    return [
        (entry["step"], value)
        for entry in run.train_log()
        for name, value in entry.items()
        if "step" in entry
        and (name == key if key == "loss" else name.startswith("eval_") and name.endswith(key))
    ]
