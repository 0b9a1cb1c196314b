"""`emb compare --html`: one offline page (plotly.js inlined) drawing what `emb compare --json`
prints: the paired tests with their intervals, the queries won and lost, the settings that
differ, every run beside its zero-shot model, BM25 and hybrid (values on the bars), and the
training curves, each run with its own dash and marker so that runs which overlap stay apart.
The JSON document itself is embedded (script#evidence), so the page and --json cannot differ."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from embed_lab.runs.compare import evidence
from embed_lab.runs.store import RunRecord, RunsError

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Runs compared</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 1400px }}
td, th {{ text-align: left; padding: 2px 12px 2px 0; vertical-align: top }}
th {{ color: #555; font-weight: normal }} td.num {{ text-align: right }}
.warning {{ color: #a15c00 }}</style></head>
<body><h1>Runs compared</h1><p>{labels}</p>{warning}
<h2>Is the difference real?</h2><p>{test}, against the baseline {baseline}; interval: {ci}.</p>
{tests}<h2>Settings that differ</h2>{settings}<h2>Gold metrics</h2>{metrics}{figures}
<script type="application/json" id="evidence">{document}</script></body></html>
"""
SYSTEM_NAMES = {"before": "zero-shot", "after": "fine-tuned", "bm25": "BM25", "hybrid": "hybrid"}
CURVES = (("loss", "Training loss", "loss"), ("ndcg@10", "Dev ndcg@10 during training", "score"))
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")
PATTERNS = ("", "/", "x", ".", "\\", "+")


def write_page(runs: list[RunRecord], path: Path, document: dict[str, Any] | None = None) -> Path:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise RunsError("--html needs plotly: pip install plotly (every lab has it)") from None

    document = document or evidence(runs)
    figures = [references_figure(document, go), metrics_figure(document, go)]
    figures += [curves_figure(runs, key, title, axis, go) for key, title, axis in CURVES]
    body = "".join(
        figure.to_html(full_html=False, include_plotlyjs=index == 0)  # plotly.js once, inlined
        for index, figure in enumerate(figures)
    )
    warning = document["relevance_warning"]
    page = PAGE.format(
        labels=html.escape(", ".join(f"{run['label']} ({run['status']})" if run["status"] !=
                                     "completed" else run["label"] for run in document["runs"])),
        warning=f'<p class="warning">{html.escape(warning)}</p>' if warning else "",
        test=html.escape(document["test"]),
        baseline=html.escape(document["baseline"]),
        ci=html.escape(document["ci"]),
        tests="".join(_test(test) for test in document["tests"]),
        settings=_settings(document),
        metrics=_metrics(document),
        figures=body,
        document=json.dumps(document).replace("</", "<\\/"),
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def references_figure(document: dict[str, Any], go: Any) -> Any:
    """Gold ndcg@10 of each run's fine-tuned model beside its zero-shot model, BM25 and hybrid."""
    labels = [run["label"] for run in document["runs"]]
    figure = go.Figure()
    for system, name in SYSTEM_NAMES.items():
        values = [run["metrics"].get(system, {}).get("ndcg@10") for run in document["runs"]]
        if any(value is not None for value in values):
            figure.add_trace(go.Bar(name=name, x=labels, y=values, text=_texts(values)))
    figure.update_layout(title="Gold ndcg@10: each run beside zero-shot, BM25 and the hybrid",
                         barmode="group", yaxis_title="ndcg@10")  # fmt: skip
    return figure


def metrics_figure(document: dict[str, Any], go: Any) -> Any:
    """Every gold metric after fine-tuning, one bar per run (each run its own pattern)."""
    figure = go.Figure()
    for index, run in enumerate(document["runs"]):
        after = run["metrics"].get("after", {})
        values = list(after.values())
        figure.add_trace(go.Bar(name=run["label"], x=list(after), y=values, text=_texts(values),
                                marker_pattern_shape=PATTERNS[index % len(PATTERNS)]))  # fmt: skip
    figure.update_layout(title="Gold metrics after fine-tuning, per run", barmode="group",
                         yaxis_title="score")  # fmt: skip
    return figure


def curves_figure(runs: list[RunRecord], key: str, title: str, axis: str, go: Any) -> Any:
    figure = go.Figure()
    for index, run in enumerate(runs):
        points = _curve(run, key)
        if points:
            steps, values = zip(*points, strict=True)
            figure.add_trace(go.Scatter(
                x=steps, y=values, mode="lines+markers", name=run.label,
                # later runs drawn thinner and smaller on top: identical curves show both
                line={"dash": DASHES[index % len(DASHES)], "width": max(1.5, 5 - 1.5 * index)},
                marker={"symbol": SYMBOLS[index % len(SYMBOLS)], "size": max(6, 14 - 3 * index)},
            ))  # fmt: skip
    figure.update_layout(title=title, xaxis_title="step", yaxis_title=axis)
    return figure


def _test(test: dict[str, Any]) -> str:
    if "note" in test:
        return f"<p>{html.escape(test['note'])}</p>"
    ci = test["ci95"]
    verdict = "significant" if test["significant"] else "not significant"
    facts = [
        ("mean Δ ndcg@10", f"{test['mean_difference']:+.4f}"),
        ("95 % CI", f"{ci[0]:+.4f} to {ci[1]:+.4f}" if ci else "–"),
        ("p", f"{test['p_value']:.4f} ({verdict} at 0.05)"),
        ("queries", f"{test['queries']}: {test['wins']} won, {test['losses']} lost, "
                    f"{test['ties']} tied"),
    ]  # fmt: skip
    rows = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    out = f"<h3>{html.escape(test['other'])}</h3><table>{rows}</table>"
    for side in ("won", "lost"):
        if test[side]:
            head = (f"<tr><th>query {side} most</th><th>text</th>"
                    f"<th>{html.escape(test['baseline'])}</th>"
                    f"<th>{html.escape(test['other'])}</th></tr>")  # fmt: skip
            lines = "".join(
                f"<tr><td>{html.escape(q['query_id'])}</td><td>{html.escape(q['query'] or '')}"
                f'</td><td class="num">{q["baseline"]:.4f}</td>'
                f'<td class="num">{q["other"]:.4f}</td></tr>'
                for q in test[side]
            )
            out += f"<table>{head}{lines}</table>"
    return out


def _settings(document: dict[str, Any]) -> str:
    differ = document["settings_differ"]
    if not differ:
        return "<p>none</p>"
    head = "<tr><th>setting</th>" + "".join(
        f"<th>{html.escape(run['label'])}</th>" for run in document["runs"]
    )
    rows = "".join(
        f"<tr><td>{html.escape(key)}</td>"
        + "".join(f"<td>{html.escape('–' if v is None else str(v))}</td>" for v in values)
        + "</tr>"
        for key, values in differ.items()
    )
    return f"<table>{head}</tr>{rows}</table>"


def _metrics(document: dict[str, Any]) -> str:
    runs = document["runs"]
    head = "<tr><th>system</th><th>metric</th>" + "".join(
        f"<th>{html.escape(run['label'])}</th>" for run in runs
    )
    relevance = "".join(f"<td>{html.escape(run['relevance'] or '–')}</td>" for run in runs)
    rows = [f"<tr><td>relevance</td><td></td>{relevance}</tr>"]
    dev = "".join(_number(run["dev_ndcg@10"]) for run in runs)
    rows.append(f"<tr><td>dev (chosen by)</td><td>ndcg@10</td>{dev}</tr>")
    systems = dict.fromkeys(system for run in runs for system in run["metrics"])
    for system in systems:
        names = dict.fromkeys(name for run in runs for name in run["metrics"].get(system, {}))
        for name in names:
            cells = "".join(_number(run["metrics"].get(system, {}).get(name)) for run in runs)
            shown = SYSTEM_NAMES.get(system, system)
            rows.append(
                f"<tr><td>{html.escape(shown)}</td><td>{html.escape(name)}</td>{cells}</tr>"
            )
    return f"<table>{head}</tr>{''.join(rows)}</table>"


def _number(value: Any) -> str:
    shown = "–" if not isinstance(value, int | float) else f"{value:.4f}"
    return f'<td class="num">{shown}</td>'


def _texts(values: list[Any]) -> list[str]:
    return ["" if value is None else f"{value:.3f}" for value in values]


def _curve(run: RunRecord, key: str) -> list[tuple[float, float]]:
    """(step, value) of the training loss, or of a dev metric logged as eval_<name>_<key>."""
    return [
        (entry["step"], value)
        for entry in run.train_log()
        for name, value in entry.items()
        if "step" in entry
        and (name == key if key == "loss" else name.startswith("eval_") and name.endswith(key))
    ]
