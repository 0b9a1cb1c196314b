import json
from pathlib import Path

from inventory.evaluate import METRICS
from inventory.plotting import key_facts, plot_run, relevance_facts

LOG = [
    {"loss": 2.1, "step": 1, "epoch": 0.5},
    {"eval_dev_cosine_ndcg@10": 0.4, "eval_dev_cosine_mrr@10": 0.3, "step": 1},
    {"loss": 1.2, "step": 2, "epoch": 1.0},
    {"eval_dev_cosine_ndcg@10": 0.6, "eval_dev_cosine_mrr@10": 0.5, "step": 2},
    {"train_runtime": 1.0, "train_loss": 1.6, "step": 2},
]
METRIC_VALUES = {
    "before": dict.fromkeys(METRICS, 0.2),
    "after": dict.fromkeys(METRICS, 0.7),
    "delta": dict.fromkeys(METRICS, 0.5),
}


def figures_data(html: str) -> list[list]:
    """The traces handed to each Plotly.newPlot call in a page written by plotly."""
    found = []
    for part in html.split("Plotly.newPlot(")[1:]:
        arguments = part.split(",", 1)[1]
        data, _ = json.JSONDecoder().raw_decode(arguments.strip())
        found.append(data)
    return found


def test_one_offline_page_holds_every_chart(tmp_path: Path) -> None:
    page = plot_run(LOG, METRIC_VALUES, tmp_path / "plots")
    assert page.name == "index.html"
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["index.html", "plotly.min.js"]
    html = page.read_text(encoding="utf-8")
    assert '<script charset="utf-8" src="plotly.min.js"></script>' in html
    assert page.stat().st_size < 100_000  # the 4 MB library is not embedded
    bars, loss, dev = figures_data(html)
    assert [trace["name"] for trace in bars] == ["before", "after"]
    assert loss[0]["x"] == [1, 2] and loss[0]["y"] == [2.1, 1.2]
    assert {trace["name"]: trace["y"] for trace in dev} == {
        "ndcg@10": [0.4, 0.6], "mrr@10": [0.3, 0.5],
    }  # fmt: skip


def test_the_page_shows_the_manifest_facts(tmp_path: Path) -> None:
    manifest = {
        "experiment": {"name": "exp_03"},
        "status": "failed",
        "error": "data/gold.jsonl:4: <malformed>",
        "model": {"name": "tiny", "weights_sha256": "ab" * 32},
        "config": {"train": {"epochs": 3}, "options": {"rerank_k": 20, "first_stage": "auto"}},
        "data": {"gold": {"rows": 30, "sha256": "cd" * 32}},
        "git": {"commit": "ef" * 20, "dirty": True},
        "encoding": {"differences": ["query_prompt: 'query: ' != None"]},
        "phases_s": {"evaluate before": 12.3, "training": 40.7},
    }
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    html = plot_run([], None, tmp_path / "run" / "plots").read_text(encoding="utf-8")
    assert "failed: data/gold.jsonl:4: &lt;malformed&gt;" in html  # escaped
    facts = dict(key_facts(manifest))
    assert facts["git"] == "efefefefefef (dirty)"
    assert facts["base model"] == "tiny  weights sha256 abababababab"
    assert facts["hyperparameters"] == "epochs=3"
    assert facts["recipe options"] == "rerank_k=20, first_stage=auto"
    assert "gold 30 rows cdcdcdcdcdcd" in facts["data"]
    assert "query_prompt" in facts["evaluation settings differ from training"]
    assert facts["time per phase"] == "evaluate before 12 s, training 41 s"
    assert figures_data(html) == []
    bare = dict(key_facts({"config": {"train": {}}}))  # the baseline, or a run from before phases
    assert "recipe options" not in bare and "time per phase" not in bare


def test_bm25_and_hybrid_bars_when_scored(tmp_path: Path) -> None:
    metrics = {system: dict.fromkeys(METRICS, 0.5) for system in ("before", "after", "bm25")}
    metrics |= {"hybrid": dict.fromkeys(METRICS, 0.6), "hybrid_config": {"weight": 0.5}}
    page = plot_run(LOG, metrics, tmp_path / "plots")
    bars = figures_data(page.read_text(encoding="utf-8"))[0]
    assert [trace["name"] for trace in bars] == ["before", "after", "bm25", "hybrid"]
    assert bars[3]["y"] == [0.6] * len(METRICS)


def test_the_page_says_how_gold_was_scored(tmp_path: Path) -> None:
    graded = METRIC_VALUES | {"relevance": "graded", "relevance_threshold": 1}
    html = plot_run(LOG, graded, tmp_path / "plots").read_text(encoding="utf-8")
    assert "<th>gold relevance</th><td>graded: ndcg@10 gains are the grades; " in html
    assert "count grade &gt;= 1" in html
    binary = dict(relevance_facts(METRIC_VALUES | {"relevance": "binary"}))
    assert binary["gold relevance"].startswith("binary")
    assert relevance_facts(METRIC_VALUES) == []  # a run from before relevance was recorded


def test_the_dev_chart_fits_its_values() -> None:
    from inventory.plotting import dev_metrics_figure

    axis = dev_metrics_figure(LOG).layout.yaxis
    assert axis.range is None and axis.autorange in (None, True)  # not 0-1: small gains show
