"""The lab's front page, results/index.html: every run, what to serve, and the sweeps.

Rewritten after every run (rank 0, atomically) and by `emb runs --html`, both through this very
file, so the two never drift. One offline page, plotly.js inlined once: a sortable table of the
runs, gold ndcg@10 per run beside the zero-shot model and BM25 with the dev figure next to it
(a gold winner that was not the dev winner shows), the sweeps, and one line on what to serve:
the best run on dev, its hybrid when that is better on dev, and its paired test against BM25 on
gold (inventory/significance.py). Nothing here chooses by gold.

Imports its siblings relatively, so that `emb` can load it from the lab template as it ships.
"""

from __future__ import annotations

import csv
import html
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from . import layout, liveness

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>$title</title>
<style>body { font-family: system-ui, sans-serif; margin: 1.5rem }
table { font-size: 0.9rem }
td, th { text-align: left; padding: 2px 10px 2px 0; vertical-align: top }
th { color: #555; font-weight: normal } #runs th { cursor: pointer; user-select: none }
td.num { text-align: right; font-variant-numeric: tabular-nums }
td.num, td.id { white-space: nowrap }
tr.failed, tr.died { background: #fde8e8 } tr.interrupted { background: #fff4d6 }
tr.pruned { background: #e8f0fd } .serve { font-size: 1.1rem; padding: .5rem 0 }</style>
</head><body><h1>$title</h1><p class="serve">$serve</p>
<h2>Runs</h2><p>Click a column to sort. Dev ndcg@10 is what runs are chosen by; gold is
reported.</p><table id="runs">$table</table>$chart<h2>Sweeps</h2>$sweeps
<script>$sort_script</script></body></html>
""")
SORT_SCRIPT = """
document.querySelectorAll("#runs th").forEach((th, col) => th.addEventListener("click", () => {
  const body = th.closest("table").tBodies[0];
  const rows = Array.from(body.rows);
  const up = th.dataset.order !== "asc";
  th.dataset.order = up ? "asc" : "desc";
  const key = (row) => {
    const cell = row.cells[col];
    return cell.dataset.value !== undefined ? parseFloat(cell.dataset.value) : cell.textContent;
  };
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const order = typeof x === "number" ? (isNaN(x) ? 1 : isNaN(y) ? -1 : x - y)
                                        : String(x).localeCompare(String(y));
    return up ? order : -order;
  });
  rows.forEach((row) => body.appendChild(row));
}));
"""
SETTING_SECTIONS = ("train", "options")  # config sections whose varying keys get a column


@dataclass(frozen=True)
class RunRow:
    """One run of the lab, as the page shows it."""

    dir: Path
    manifest: dict[str, Any]
    status: str  # "died" for a run recorded as running whose process is gone

    @property
    def label(self) -> str:
        return f"{self.experiment}/{self.dir.name}"

    @property
    def experiment(self) -> str:
        return str((self.manifest.get("experiment") or {}).get("name") or self.dir.parent.name)

    @property
    def metrics(self) -> dict[str, Any]:
        metrics = self.manifest.get("metrics")
        return metrics if isinstance(metrics, dict) else {}

    def gold(self, system: str) -> float | None:
        return _number((self.metrics.get(system) or {}).get("ndcg@10"))

    @property
    def dev(self) -> float | None:
        return _number((self.metrics.get("dev") or {}).get("ndcg@10"))

    @property
    def hybrid_dev(self) -> float | None:
        return _number((self.metrics.get("hybrid_config") or {}).get("dev_ndcg@10"))

    def settings(self) -> dict[str, Any]:
        config = self.manifest.get("config") or {}
        flat = {"base_model": config.get("base_model")}
        for section in SETTING_SECTIONS:
            for key, value in (config.get(section) or {}).items():
                flat[key] = value
        return flat


def load_rows(results: Path) -> tuple[list[RunRow], list[str]]:
    """Every run under `results` (oldest first) and the manifests that could not be read."""
    rows, problems = [], []
    for run_dir in layout.run_dirs(results):
        path = run_dir / layout.MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: {error}")
            continue
        if isinstance(manifest, dict):
            rows.append(RunRow(run_dir, manifest, liveness.run_state(manifest).status))
    rows.sort(key=lambda row: (str(row.manifest.get("started") or ""), row.label))
    return rows, problems


def varying_settings(rows: list[RunRow]) -> list[str]:
    """The settings whose values are not the same in every run (empty values count as unset)."""
    keys = dict.fromkeys(key for row in rows for key in row.settings())
    return [key for key in keys if len({_shown(row.settings().get(key)) for row in rows}) > 1]


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"  # a sampled learning rate, not 3.487852712623484e-05
    return "" if value in (None, "", [], {}) else str(value)


def best_on_dev(rows: list[RunRow]) -> RunRow | None:
    """The completed run with the highest dev ndcg@10."""
    scored = [row for row in rows if row.status == "completed" and row.dev is not None]
    return max(scored, key=lambda row: row.dev or 0.0, default=None)


def serve_line(rows: list[RunRow]) -> str:
    """What to serve: the best run on dev, its hybrid when better on dev, and the paired test
    of that system against BM25 on gold."""
    best = best_on_dev(rows)
    if best is None:
        return "What to serve: no completed run has a dev figure yet."
    system = "after"
    line = f"What to serve: {best.label}, the best run on dev (ndcg@10 {best.dev:.4f})"
    if best.hybrid_dev is not None and best.hybrid_dev > (best.dev or 0.0):
        system = "hybrid"
        line += f", as its hybrid with BM25 (dev ndcg@10 {best.hybrid_dev:.4f})"
    return f"{line}. {gold_test(best, system)}"


def gold_test(row: RunRow, system: str) -> str:
    """The paired test of `system` against BM25 over the run's per-query gold ndcg@10."""
    scores = _per_query(row.dir / layout.PER_QUERY)
    ours, bm25 = scores.get(system, {}), scores.get("bm25", {})
    common = sorted(set(ours) & set(bm25))
    if len(common) < 2:
        return f"No paired test against BM25: the run has no per-query gold scores of {system}."
    import numpy as np

    from . import significance

    a = np.array([ours[query] for query in common])
    b = np.array([bm25[query] for query in common])
    p_value = significance.paired_p_value(a, b)
    difference = float((a - b).mean())
    if p_value >= significance.ALPHA:
        verdict = f"not significant at {significance.ALPHA}: no real difference shown"
    else:
        winner = "BM25" if difference < 0 else system
        verdict = f"significant at {significance.ALPHA}: {winner} is better"
    return (
        f"On gold (reported, not chosen on): {system} {a.mean():.4f} against BM25 "
        f"{b.mean():.4f}, mean difference {difference:+.4f} over {len(common)} queries, "
        f"paired test p = {p_value:.4f} ({verdict})."
    )


def write_lab_page(results: Path, path: Path | None = None) -> Path:
    """Write the page (default results/index.html) atomically; returns its path."""
    path = path or results / "index.html"
    text = render(results, path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o644)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)  # a reader sees the old page or the new one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def render(results: Path, page_dir: Path) -> str:
    """The page's HTML; links are relative to `page_dir`, where the page will be."""
    rows, problems = load_rows(results)
    lab = results.resolve().parent.name
    skipped = "".join(f"<br>skipped {html.escape(problem)}" for problem in problems)
    return PAGE.substitute(
        title=html.escape(f"{lab}: {len(rows)} run{'s' * (len(rows) != 1)}"),
        serve=html.escape(serve_line(rows)) + skipped,
        table=runs_table(rows, page_dir),
        chart=chart(rows),
        sweeps=sweeps_list(results, page_dir),
        sort_script=SORT_SCRIPT,
    )


def runs_table(rows: list[RunRow], page_dir: Path) -> str:
    settings = varying_settings(rows)
    header = ["experiment", "run", "status", "recipe", *settings, "dev ndcg@10",
              "gold zero-shot", "gold after", "BM25", "hybrid", "time", "page"]  # fmt: skip
    lines = ["<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    lines.append("</thead><tbody>")
    for row in rows:
        state = liveness.run_state(row.manifest)
        error = row.manifest.get("error")
        status = state.describe() + (f": {error}" if error else "")
        values = row.settings()
        recipe = (row.manifest.get("recipe") or {}).get("name") or ""
        cells = [_cell(row.experiment), _cell(row.dir.name, "id"), _cell(status), _cell(recipe)]
        cells += [_cell(_shown(values.get(key))) for key in settings]
        cells += [_score(value) for value in (row.dev, row.gold("before"), row.gold("after"),
                                               row.gold("bm25"), row.gold("hybrid"))]  # fmt: skip
        duration = _number(row.manifest.get("duration_s"))
        cells.append(_score(duration, f"{duration:.0f} s" if duration is not None else ""))
        report = row.dir / "plots" / "index.html"
        link = os.path.relpath(report, page_dir) if report.is_file() else None
        cells.append(f'<td><a href="{html.escape(link)}">report</a></td>' if link else "<td></td>")
        lines.append(f'<tr class="{html.escape(row.status)}">{"".join(cells)}</tr>')
    lines.append("</tbody>")
    return "".join(lines)


def chart(rows: list[RunRow]) -> str:
    """Gold ndcg@10 per run with zero-shot and BM25 as reference lines; dev beside it."""
    if not rows:
        return "<p>No runs yet: run an experiment, e.g. python experiments/exp_01_baseline.py</p>"
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    labels = [row.label for row in rows]
    titles = ("Gold ndcg@10 after fine-tuning (reported)", "Dev ndcg@10 (what runs are chosen by)")
    figure = make_subplots(rows=1, cols=2, subplot_titles=titles)
    after = [row.gold("after") for row in rows]
    figure.add_trace(go.Bar(x=labels, y=after, name="gold after", text=_texts(after)), 1, 1)
    for system, name, dash in (("before", "zero-shot", "dash"), ("bm25", "BM25", "dot")):
        values = [row.gold(system) for row in rows]
        figure.add_trace(go.Scatter(x=labels, y=values, name=name, mode="lines+markers",
                                    line={"dash": dash}), 1, 1)  # fmt: skip
    dev = [row.dev for row in rows]
    figure.add_trace(go.Bar(x=labels, y=dev, name="dev", text=_texts(dev)), 1, 2)
    figure.update_layout(height=520, margin={"b": 160})
    figure.update_xaxes(tickangle=-35)
    return figure.to_html(full_html=False, include_plotlyjs=True)  # inlined: one offline file


def sweeps_list(results: Path, page_dir: Path) -> str:
    """One line per `emb sweep` study in results/sweeps/: its page and its best run."""
    sweeps = results / "sweeps"
    studies = sorted(p for p in sweeps.iterdir() if p.is_dir()) if sweeps.is_dir() else []
    items = []
    for study in studies:
        page = study / "index.html"
        name = html.escape(study.name)
        item = (f'<a href="{html.escape(os.path.relpath(page, page_dir))}">{name}</a>'
                if page.is_file() else name)  # fmt: skip
        best = study / "best"
        if best.exists():
            run = best.resolve()
            report = run / "plots" / "index.html"
            target = os.path.relpath(report if report.is_file() else run, page_dir)
            item += f' — best run <a href="{html.escape(target)}">{html.escape(run.name)}</a>'
        items.append(f"<li>{item}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else "<p>No sweeps (emb sweep EXPERIMENT).</p>"


def _per_query(path: Path) -> dict[str, dict[str, float]]:
    """{system: {query_id: ndcg@10}} from a run's per_query.csv; {} when it has none."""
    scores: dict[str, dict[str, float]] = {}
    if not path.is_file():
        return scores
    with path.open(encoding="utf-8", newline="") as file:
        for line in csv.DictReader(file):
            value = _number(_float(line.get("ndcg@10")))
            if value is not None:
                scores.setdefault(str(line.get("system")), {})[str(line.get("query_id"))] = value
    return scores


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _texts(values: list[float | None]) -> list[str]:
    return ["" if value is None else f"{value:.3f}" for value in values]


def _cell(text: str, kind: str = "") -> str:
    attribute = f' class="{kind}"' if kind else ""
    return f"<td{attribute}>{html.escape(text)}</td>"


def _score(value: float | None, shown: str | None = None) -> str:
    if value is None:
        return '<td class="num" data-value="NaN">–</td>'
    text = shown if shown is not None else f"{value:.4f}"
    return f'<td class="num" data-value="{value}">{html.escape(text)}</td>'
