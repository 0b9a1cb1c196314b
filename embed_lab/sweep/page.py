"""The study's report page: results/sweeps/<study>/index.html, offline like the run pages (it
loads the plotly.min.js written next to it): the best settings, the test against the defaults,
every trial, and Optuna's optimisation history, parallel coordinates and parameter importances."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script charset="utf-8" src="plotly.min.js"></script>
<style>body {{ font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 1200px }}
td, th {{ text-align: left; padding: 2px 12px 2px 0; vertical-align: top }}
th {{ color: #555; font-weight: normal }}</style></head>
<body><h1>{title}</h1><table>{facts}</table>{figures}<h2>Trials</h2><table>{trials}</table>
</body></html>
"""


def write_page(study: Any, document: dict[str, Any], folder: Path) -> Path:
    from optuna import visualization
    from plotly.offline import get_plotlyjs

    figures, notes = [], []
    for title, plot in (
        ("optimisation history", visualization.plot_optimization_history),
        ("parallel coordinates", visualization.plot_parallel_coordinate),
        ("parameter importances", visualization.plot_param_importances),
    ):
        try:
            figure = plot(study, target_name="dev ndcg@10")
        except Exception as error:  # e.g. importances need two completed trials that differ
            notes.append(f"<p>No {title}: {html.escape(str(error).splitlines()[0])}</p>")
            continue
        figures.append(figure.to_html(full_html=False, include_plotlyjs=False))
    best = document.get("best") or {}
    facts = [
        ("experiment", document["experiment"]),
        ("storage", document["storage"]),
        ("objective", document["objective"]),
        ("trials", str(len(document["trials"]))),
        ("best trial", f"{best.get('number')}: dev ndcg@10 {best.get('dev_ndcg@10')}"),
        ("best settings", str(best.get("params"))),
        ("best run", str(best.get("run"))),
        ("reproduce", str(best.get("command"))),
        ("gold of the best (reported, never chosen on)", str(best.get("gold"))),
        ("against the defaults", (document.get("significance") or {}).get("summary", "")),
        ("confidence intervals", document["ci"]),
    ]
    header = ("trial", "status", "settings", "dev ndcg@10", "95 % CI", "time", "run", "error")
    rows = ["".join(f"<th>{name}</th>" for name in header)]
    for trial in document["trials"]:
        ci = trial["dev_ndcg@10_ci95"]
        cells = (
            trial["number"],
            trial["status"],
            _settings(trial),
            "" if trial["dev_ndcg@10"] is None else f"{trial['dev_ndcg@10']:.4f}",
            f"{ci[0]:.4f} – {ci[1]:.4f}" if ci else "",
            "" if trial["duration_s"] is None else f"{trial['duration_s']:.0f} s",
            trial["run"] or "",
            trial["error"] or "",
        )
        rows.append("".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells))
    page = PAGE.format(
        title=html.escape(f"sweep {document['study']}"),
        facts="".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts
        ),
        figures="".join(figures + notes),
        trials="".join(f"<tr>{row}</tr>" for row in rows),
    )
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "plotly.min.js"
    if not script.is_file():
        script.write_text(get_plotlyjs(), encoding="utf-8")
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _settings(trial: dict[str, Any]) -> str:
    if trial["defaults"]:
        return "defaults"
    return " ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in trial["params"].items()
    )
