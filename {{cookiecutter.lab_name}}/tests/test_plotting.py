import json
from pathlib import Path

from inventory.evaluate import METRICS
from inventory.plotting import plot_run

LOG = [
    {"loss": 2.1, "step": 1, "epoch": 0.5},
    {"eval_dev_cosine_ndcg@10": 0.4, "eval_dev_cosine_mrr@10": 0.3, "step": 1},
    {"loss": 1.2, "step": 2, "epoch": 1.0},
    {"eval_dev_cosine_ndcg@10": 0.6, "eval_dev_cosine_mrr@10": 0.5, "step": 2},
    {"train_runtime": 1.0, "train_loss": 1.6, "step": 2},
]


def figure_data(html: str) -> list:
    """The traces handed to Plotly.newPlot in a page written by plotly."""
    start = html.index("Plotly.newPlot(")
    arguments = html[start:].split(",", 1)[1]
    data, _ = json.JSONDecoder().raw_decode(arguments.strip())
    return data


def test_plots_are_offline_pages_sharing_one_plotly_js(tmp_path: Path) -> None:
    metrics = {
        "before": dict.fromkeys(METRICS, 0.2),
        "after": dict.fromkeys(METRICS, 0.7),
        "delta": dict.fromkeys(METRICS, 0.5),
    }
    paths = plot_run(LOG, metrics, tmp_path / "plots")
    assert [path.name for path in paths] == ["loss.html", "dev_metrics.html", "before_after.html"]
    assert sorted(path.name for path in (tmp_path / "plots").iterdir()) == [
        "before_after.html",
        "dev_metrics.html",
        "loss.html",
        "plotly.min.js",
    ]
    for path in paths:
        html = path.read_text(encoding="utf-8")
        assert '<script charset="utf-8" src="plotly.min.js"></script>' in html
        assert path.stat().st_size < 100_000  # the 4 MB library is not embedded
    loss = figure_data(paths[0].read_text(encoding="utf-8"))
    assert loss[0]["x"] == [1, 2] and loss[0]["y"] == [2.1, 1.2]
    dev = figure_data(paths[1].read_text(encoding="utf-8"))
    curves = {trace["name"]: trace["y"] for trace in dev}
    assert curves == {"ndcg@10": [0.4, 0.6], "mrr@10": [0.3, 0.5]}
    bars = figure_data(paths[2].read_text(encoding="utf-8"))
    assert [trace["name"] for trace in bars] == ["before", "after"]


def test_bm25_and_hybrid_bars_when_scored(tmp_path: Path) -> None:
    metrics = {system: dict.fromkeys(METRICS, 0.5) for system in ("before", "after", "bm25")}
    metrics |= {"hybrid": dict.fromkeys(METRICS, 0.6), "hybrid_config": {"weight": 0.5}}
    [_, _, page] = plot_run(LOG, metrics, tmp_path / "plots")
    bars = figure_data(page.read_text(encoding="utf-8"))
    assert [trace["name"] for trace in bars] == ["before", "after", "bm25", "hybrid"]
    assert bars[3]["y"] == [0.6] * len(METRICS)
