"""`emb runs` and `emb compare` on hand-made run records (the real runs are in test_pipeline.py)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from embed_lab.cli import main

GOLD_SHA = "ab" * 32
METRIC_NAMES = ("ndcg@10", "mrr@10", "recall@100")


def make_run(
    lab: Path,
    run_id: str,
    after: float,
    *,
    experiment: str = "exp_01_baseline",
    learning_rate: float = 5e-5,
    per_query: dict[str, float] | None = None,
    gold_sha: str = GOLD_SHA,
    status: str = "completed",
    extra_systems: bool = False,
    relevance: str | None = None,
    precision: str = "auto",
    used: dict[str, str] | None = None,
) -> Path:
    """A run folder as the lab writes it: manifest.json, train_log.json, eval/per_query.csv."""
    run = lab / "results" / experiment / run_id
    (run / "eval").mkdir(parents=True)
    metrics = {
        "before": dict.fromkeys(METRIC_NAMES, 0.5),
        "after": dict.fromkeys(METRIC_NAMES, after),
    }
    if extra_systems:
        metrics |= {
            "bm25": dict.fromkeys(METRIC_NAMES, 0.45),
            "hybrid": dict.fromkeys(METRIC_NAMES, 0.6),
        }
    if relevance is not None:
        metrics |= {"relevance": relevance, "relevance_threshold": 1}
    manifest = {
        "experiment": {"name": experiment, "file": f"experiments/{experiment}.py"},
        "run_id": run_id,
        "status": status,
        "error": "data/train.jsonl:7: malformed JSON" if status == "failed" else None,
        "started": f"2026-11-{run_id[6:8]}T{run_id[9:11]}:{run_id[11:13]}:00+00:00",
        "duration_s": 12.5,
        "config": {"base_model": "tiny", "train": {"epochs": 1, "batch_size": 16,
                                                   "learning_rate": learning_rate, "seed": 42,
                                                   "precision": precision}},
        "precision": used or {"train": "fp32", "eval": "fp32"},
        "command": {"cwd": str(lab), "argv": ["python", f"experiments/{experiment}.py",
                                              "--learning-rate", str(learning_rate)]},
        "model": {"name": "tiny", "weights_sha256": "cd" * 32},
        "recipe": {"name": "in-batch negatives", "loss": "MultipleNegativesRankingLoss"},
        "data": {"gold": {"path": str(lab / "data" / "gold.jsonl"), "rows": 3, "sha256": gold_sha}},
        "git": None,
        "metrics": metrics if status == "completed" else None,
    }  # fmt: skip
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    log = [
        {"loss": 2.0 - after, "step": 1},
        {"eval_dev_cosine_ndcg@10": after, "step": 1},
        {"loss": 1.0 - after, "step": 2},
        {"eval_dev_cosine_ndcg@10": after + 0.1, "step": 2},
    ]
    (run / "train_log.json").write_text(json.dumps(log), encoding="utf-8")
    if per_query is not None:
        rows = ["query_id,system,ndcg@10,recall@100"]
        for query, score in per_query.items():
            rows += [
                f"{query},before,0.5,1.0",
                f"{query},after,{score},1.0",
                f"{query},bm25,0.4,1.0",
            ]
        (run / "eval" / "per_query.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return run


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "gold.jsonl").write_text(
        '{"query": "q", "pos": ["p"]}\n', encoding="utf-8"
    )
    return tmp_path


def emb(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_runs_lists_sorts_and_skips_a_corrupt_manifest(lab: Path) -> None:
    make_run(lab, "20261101-090000", 0.70)
    make_run(lab, "20261102-090000", 0.80, learning_rate=1e-4)
    make_run(lab, "20261103-090000", 0.0, status="failed")
    broken = make_run(lab, "20261104-090000", 0.9)
    (broken / "manifest.json").write_text('{"run_id": "x",\n "status": ', encoding="utf-8")

    code, out, err = emb("runs", str(lab), "--json", "--sort", "ndcg@10")
    assert code == 0
    rows = json.loads(out)
    assert [row["run_id"] for row in rows] == ["20261102-090000", "20261101-090000",
                                               "20261103-090000"]  # fmt: skip
    assert rows[0]["ndcg@10"] == {"before": 0.5, "after": 0.8}
    assert rows[0]["hyperparameters"]["learning_rate"] == 1e-4
    assert rows[2]["status"] == "failed" and rows[2]["error"].endswith("malformed JSON")
    assert err.strip() == (f"skipped {broken / 'manifest.json'}:2: malformed JSON "
                           "(Expecting value)")  # fmt: skip

    code, out, _ = emb("runs", str(lab))
    assert code == 0 and "Traceback" not in out
    assert "0.5000 → 0.8000" in out and "failed" in out and "lr=0.0001" in out
    assert out.index("20261101-090000") < out.index("20261102-090000")  # by date by default


def test_runs_in_a_lab_without_results(lab: Path) -> None:
    assert emb("runs", str(lab)) == (0, f"no runs in {lab / 'results'}\n", "")


def test_runs_outside_a_lab_is_an_error(tmp_path: Path) -> None:
    missing, empty = tmp_path / "nope", tmp_path / "empty"
    empty.mkdir()
    assert emb("runs", str(missing)) == (1, "", f"Error: {missing}: no such folder\n")
    error = f"Error: {empty} is not a lab: it holds none of results/, data/, inventory/\n"
    assert emb("runs", str(empty), "--json") == (1, "", error)


def test_show_gives_the_command_and_warns_about_changed_data(lab: Path) -> None:
    make_run(
        lab,
        "20261101-090000",
        0.7,
        gold_sha=hashlib.sha256(b'{"query": "q", "pos": ["p"]}\n').hexdigest(),
    )
    code, out, _ = emb("runs", str(lab), "--show", "exp_01_baseline/20261101-090000")
    assert code == 0
    assert f"cd {lab} && python experiments/exp_01_baseline.py --learning-rate 5e-05" in out
    assert "data match the working tree; the run recorded no git commit" in out  # git: None
    (lab / "data" / "gold.jsonl").write_text('{"query": "q2", "pos": ["p"]}\n', encoding="utf-8")
    code, out, _ = emb("runs", str(lab), "--show", "20261101-090000")
    assert "warning: data gold:" in out and "changed since the run" in out
    manifest_path = lab / "results" / "exp_01_baseline" / "20261101-090000" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["encoding"] = {"differences": ["query_prompt: 'query: ' != None"]}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    _, out, _ = emb("runs", str(lab), "--show", "20261101-090000")
    assert "evaluation differs from training: query_prompt: 'query: ' != None" in out
    code, _, err = emb("runs", str(lab), "--show", "nope")
    assert code == 1 and err.strip().splitlines() == [
        "Error: no run 'nope' (a run folder, a run id or <experiment>/<run id>)"
    ]


def exact_sign_flip_p(differences: list[float]) -> float:
    """Two-sided exact paired randomisation test, written out for checking."""
    observed = abs(sum(differences))
    flips = [abs(sum(s * d for s, d in zip(signs, differences, strict=True)))
             for signs in itertools.product((1, -1), repeat=len(differences))]  # fmt: skip
    return sum(f >= observed - 1e-12 for f in flips) / len(flips)


def test_compare_runs_a_paired_test_on_per_query_scores(lab: Path) -> None:
    base = {f"gold-q-{i}": 0.5 for i in range(1, 11)}
    better = {q: s + (0.3 if i < 9 else -0.1) for i, (q, s) in enumerate(base.items())}
    noise = {q: s + (0.004 if i % 2 else -0.002) for i, (q, s) in enumerate(base.items())}
    a = make_run(lab, "20261101-090000", 0.5, per_query=base)
    make_run(lab, "20261102-090000", 0.72, per_query=better, learning_rate=1e-4)
    make_run(lab, "20261103-090000", 0.501, per_query=noise)

    code, out, _ = emb("compare", str(a), "20261102-090000", "exp_01_baseline/20261103-090000",
                       "--lab", str(lab))  # fmt: skip
    assert code == 0, out
    assert "paired randomisation test over per-query ndcg@10" in out
    assert "config.train.learning_rate" in out and "5e-05" in out and "0.0001" in out
    assert "config.train.epochs" not in out  # only the keys that differ

    expected = exact_sign_flip_p([better[q] - base[q] for q in base])
    line = next(x for x in out.splitlines() if x.startswith("exp_01_baseline/20261102-090000:"))
    assert f"p = {expected:.4f} (significant at 0.05)" in line
    assert "9 won, 1 lost, 0 tied" in line and "mean Δ ndcg@10 +0.2600" in line
    assert "lost most: gold-q-10 0.500→0.400" in out
    noisy = next(x for x in out.splitlines() if x.startswith("exp_01_baseline/20261103-090000:"))
    assert "(not significant at 0.05)" in noisy


def test_compare_shows_the_precision_when_two_runs_differ(lab: Path) -> None:
    a = make_run(lab, "20261101-090000", 0.5)
    b = make_run(lab, "20261102-090000", 0.5, precision="bf16",
                 used={"train": "bf16", "eval": "bf16"})  # fmt: skip
    code, out, _ = emb("compare", str(a), str(b))
    assert code == 0, out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 3}
    assert "auto" in rows["config.train.precision"] and "bf16" in rows["config.train.precision"]
    for used in ("precision.train", "precision.eval"):
        assert re.search(r"fp32\s+│\s+bf16", rows[used]), out
    code, out, _ = emb("compare", str(a), str(make_run(lab, "20261103-090000", 0.5)))
    assert "precision" not in out  # the same everywhere: no row


def test_compare_without_per_query_scores_still_shows_the_metrics(lab: Path) -> None:
    a = make_run(lab, "20261101-090000", 0.5, extra_systems=True)
    b = make_run(lab, "20261102-090000", 0.6, per_query={"q1": 0.6, "q2": 0.7})
    code, out, _ = emb("compare", str(a), str(b))
    assert code == 0
    assert re.search(r"after\s+│\s+ndcg@10\s+│\s+0\.5000\s+│\s+0\.6000", out)
    assert re.search(r"bm25\s+│\s+ndcg@10\s+│\s+0\.4500\s+│\s+–", out)  # shown when present
    assert "the significance test needs per-query scores (eval/per_query.csv), missing in " \
           "exp_01_baseline/20261101-090000" in " ".join(out.split())  # fmt: skip


def test_compare_shows_every_scored_system_of_the_metrics_shape(lab: Path) -> None:
    runs = [make_run(lab, f"2026110{day}-090000", 0.5, extra_systems=True) for day in (1, 2)]
    manifest = json.loads((runs[1] / "manifest.json").read_text(encoding="utf-8"))
    manifest["metrics"] |= {
        "first_stage": dict.fromkeys(METRIC_NAMES, 0.55),  # a recipe's own system
        "delta": dict.fromkeys(METRIC_NAMES, 0.0),
        "rerank_config": {"k": 20},
        "gold": {"queries": 3, "documents": 9, "ranking": "dense first stage, top 20 reranked"},
        "dev": {"ndcg@10": 0.4, "queries": 30},
    }
    (runs[1] / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out, _ = emb("compare", str(runs[0]), str(runs[1]))
    assert code == 0
    assert re.search(r"first_stage\s+│\s+ndcg@10\s+│\s+–\s+│\s+0\.5500", out)
    systems = {line.split("│")[1].strip() for line in out.splitlines() if line.count("│") >= 3}
    assert {"before", "after", "bm25", "hybrid", "first_stage"} <= systems
    assert not systems & {"delta", "rerank_config", "gold", "dev"}


def test_compare_leaves_out_settings_empty_on_both_sides(lab: Path) -> None:
    from embed_lab.runs.compare import config_differences
    from embed_lab.runs.store import load_run

    runs = [make_run(lab, f"2026110{day}-090000", 0.5) for day in (1, 2)]
    for run, empty in zip(runs, (None, {}), strict=True):  # unset in one, empty in the other
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        manifest["config"] |= {"options": empty, "note": "" if empty is None else []}
        (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert config_differences([load_run(run) for run in runs]) == {}


def test_runs_reads_the_layout_without_symbolic_links(lab: Path) -> None:
    run = make_run(lab, "20261101-090000", 0.7)
    experiment = run.parent
    (experiment / "latest").write_text(run.name + "\n", encoding="utf-8")  # as the lab writes it
    shutil.copy2(run / "manifest.json", experiment / "manifest.json")  # where links cannot be made
    shutil.copytree(run / "eval", experiment / "eval")
    code, out, _ = emb("runs", str(lab), "--json")
    assert code == 0 and [row["path"] for row in json.loads(out)] == [str(run.resolve())]
    code, out, _ = emb("runs", str(lab), "--show", "exp_01_baseline")  # its latest run
    assert code == 0 and f"folder:  {run.resolve()}" in out


def test_compare_refuses_to_pair_different_gold_sets(lab: Path) -> None:
    a = make_run(lab, "20261101-090000", 0.5, per_query={"q1": 0.5, "q2": 0.5})
    b = make_run(lab, "20261102-090000", 0.6, per_query={"q1": 0.6, "q2": 0.7}, gold_sha="ef" * 32)
    _, out, _ = emb("compare", str(a), str(b))
    assert "no paired test, its gold set differs" in " ".join(out.split())
    assert "data.gold.sha256" in out


def test_compare_warns_when_runs_were_scored_with_different_relevance(lab: Path) -> None:
    scores = {"q1": 0.5, "q2": 0.6, "q3": 0.4}
    old = make_run(lab, "20261101-090000", 0.5, per_query=scores)  # before relevance was recorded
    graded = make_run(lab, "20261102-090000", 0.6, per_query=scores, relevance="graded")
    binary = make_run(lab, "20261103-090000", 0.6, per_query=scores, relevance="binary")
    code, out, _ = emb("compare", str(old), str(graded), str(binary))
    text = " ".join(out.split())
    assert code == 0
    assert text.startswith("warning: these runs scored gold with different relevance (")
    assert "exp_01_baseline/20261102-090000: graded, relevant at grade >= 1;" in text
    assert (
        "exp_01_baseline/20261102-090000: no paired test, its gold relevance (graded, "
        "relevant at grade >= 1) differs from exp_01_baseline/20261101-090000's (binary)" in text
    )
    assert "exp_01_baseline/20261103-090000: mean Δ ndcg@10" in text  # binary and binary: paired
    assert re.search(r"relevance\s+│\s+│\s+binary\s+│\s+graded,", out)

    _, out, _ = emb("compare", str(old), str(binary))  # a run from before: binary, like it was
    assert "warning" not in out and "mean Δ ndcg@10" in out


def test_compare_errors_are_one_line(lab: Path) -> None:
    a = make_run(lab, "20261101-090000", 0.5)
    (lab / "broken").mkdir()
    (lab / "broken" / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    for args, message in [
        ((str(a),), "Error: compare needs at least two runs"),
        ((str(a), "missing"), "Error: no run 'missing'"),
        ((str(a), str(lab / "broken")), "manifest.json: expected a JSON object, got list"),
    ]:
        code, _, err = emb("compare", *args, "--lab", str(lab))
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert message in err


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def write_gold(lab: Path, count: int) -> tuple[list[str], str]:
    """A gold file of `count` queries: the lab's query ids for them, and the file's sha256."""
    queries = [f"how do I descale machine {i}" for i in range(count)]
    lines = "".join(json.dumps({"query": q, "pos": [f"passage {i}"]}) + "\n"
                    for i, q in enumerate(queries))  # fmt: skip
    (lab / "data" / "gold.jsonl").write_text(lines, encoding="utf-8")
    ids = [f"gold-{hashlib.sha1(q.encode()).hexdigest()[:10]}" for q in queries]
    digest = hashlib.sha256("".join(line + "\n" for line in lines.splitlines()).encode())
    return ids, digest.hexdigest()


def with_dev(run: Path, dev: float, hybrid_dev: float) -> None:
    """Add the dev figures the lab records, and a report page, to a hand-made run."""
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest["metrics"] |= {"dev": {"ndcg@10": dev, "queries": 30},
                            "hybrid_config": {"dev_ndcg@10": hybrid_dev}}  # fmt: skip
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (run / "plots").mkdir()
    (run / "plots" / "index.html").write_text("<!DOCTYPE html><title>run</title>", "utf-8")


def render(page: Path) -> tuple[str, list[str]]:
    """The page's DOM after headless Chromium ran its scripts, and its console messages."""
    assert CHROMIUM is not None
    browser = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--v=0", "--dump-dom", "--virtual-time-budget=5000", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert browser.returncode == 0, browser.stderr[-2000:]
    return browser.stdout, [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]


def test_the_lab_page_lists_every_run_and_says_what_to_serve(lab: Path) -> None:
    ids, sha = write_gold(lab, 12)
    base = dict.fromkeys(ids, 0.5)
    better = {q: 0.5 + (0.3 if i < 9 else -0.1) for i, q in enumerate(ids)}
    first = make_run(lab, "20261101-090000", 0.5, per_query=base, gold_sha=sha, extra_systems=True)
    dev_winner = make_run(lab, "20261102-090000", 0.72, per_query=better, learning_rate=1e-4,
                          gold_sha=sha, extra_systems=True)  # fmt: skip
    with_dev(first, 0.40, 0.39)
    with_dev(dev_winner, 0.52, 0.50)  # its hybrid is not better on dev: the model alone is served
    gold_winner = make_run(lab, "20261103-090000", 0.80, gold_sha=sha, learning_rate=2e-4)
    with_dev(gold_winner, 0.45, 0.44)  # best on gold, not on dev: never the one served
    make_run(lab, "20261104-090000", 0.0, status="failed", gold_sha=sha)
    stopped = make_run(lab, "20261105-090000", 0.0, status="interrupted", gold_sha=sha)
    manifest = json.loads((stopped / "manifest.json").read_text(encoding="utf-8"))
    manifest["metrics"] = {"before": {"ndcg@10": 0.5}, "bm25": {"ndcg@10": 0.45}}  # as kept
    (stopped / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    broken = make_run(lab, "20261106-090000", 0.9)
    (broken / "manifest.json").write_text("{", encoding="utf-8")
    study = lab / "results" / "sweeps" / "exp_01_baseline"
    study.mkdir(parents=True)
    (study / "index.html").write_text("<!DOCTYPE html><title>sweep</title>", "utf-8")
    (study / "best").symlink_to(dev_winner, target_is_directory=True)

    code, out, _ = emb("runs", str(lab), "--html")
    page = lab / "results" / "index.html"
    assert code == 0 and f"page: {page}" in out
    text = page.read_text(encoding="utf-8")
    assert text.count("<script src=") == 0 and text.count("Plotly.newPlot(") == 1
    body = text[text.index("<tbody>") : text.index("</tbody>")]
    assert body.count("<tr ") == 5 and f"skipped {broken / 'manifest.json'}: " in text
    assert '<tr class="failed">' in body and "malformed JSON" in body
    assert '<tr class="interrupted">' in body
    row = body[body.index("20261105-090000") :].split("</tr>")[0]
    assert 'data-value="0.5"' in row  # the interrupted run's zero-shot score
    assert "<th>learning_rate</th>" in text and "<th>epochs</th>" not in text  # what varies
    expected = exact_sign_flip_p([better[q] - 0.4 for q in ids])  # after against BM25's 0.4
    serve = text[text.index('class="serve">') :].split("</p>")[0]
    assert "exp_01_baseline/20261102-090000, the best run on dev (ndcg@10 0.5200)" in serve
    assert "hybrid" not in serve  # the dev winner's hybrid is not better on dev
    assert f"p = {expected:.4f} (significant at 0.05: after is better)" in serve
    links = re.findall(r'<a href="([^"]+)"', re.sub(r"<script.*?</script>", "", text, flags=re.S))
    assert len(links) == 5  # three run pages, the sweep's page and its best run
    assert all((page.parent / link).is_file() for link in links), links
    assert "sweeps/exp_01_baseline/index.html" in links

    code, _, err = emb("runs", str(lab), "--sort", "nDCG")
    assert code == 1 and err.strip().startswith("Error: --sort nDCG: unknown; one of date, ")
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    dom, console = render(page)
    assert console == [] and dom.count('class="main-svg"') >= 2


def test_the_compare_page_shows_what_compare_json_prints(lab: Path, tmp_path: Path) -> None:
    ids, sha = write_gold(lab, 12)
    base = dict.fromkeys(ids, 0.5)
    better = {q: 0.5 + (0.3 if i < 9 else -0.1) for i, q in enumerate(ids)}
    a = make_run(lab, "20261101-090000", 0.5, per_query=base, gold_sha=sha, extra_systems=True)
    b = make_run(lab, "20261102-090000", 0.72, per_query=better, gold_sha=sha, extra_systems=True)
    c = make_run(lab, "20261103-090000", 0.72, per_query=better, gold_sha=sha)  # b's twin
    code, out, _ = emb("compare", str(a), str(b), str(c), "--json")
    assert code == 0
    document = json.loads(out)
    test = document["tests"][0]
    assert test["p_value"] == pytest.approx(exact_sign_flip_p([better[q] - 0.5 for q in ids]))
    low, high = test["ci95"]
    assert test["mean_difference"] == pytest.approx(0.2) and low < 0.2 < high
    assert test["lost"][0] == {"query_id": ids[9], "query": "how do I descale machine 9",
                               "baseline": 0.5, "other": pytest.approx(0.4)}  # fmt: skip
    assert document["settings_differ"] == {}  # same settings: nothing listed
    assert document["runs"][1]["metrics"]["bm25"]["ndcg@10"] == 0.45

    page = tmp_path / "page" / "compare.html"
    code, out, _ = emb("compare", str(a), str(b), str(c), "--html", str(page))
    assert code == 0 and f"page: {page}" in out
    html = page.read_text(encoding="utf-8")
    embedded = html[html.index('id="evidence">') + 14 : html.rindex("</script>")]
    assert json.loads(embedded) == document
    for number in (f"{test['p_value']:.4f}", f"{low:+.4f} to {high:+.4f}", "+0.2000",
                   "how do I descale machine 9", "zero-shot", "BM25", "hybrid"):  # fmt: skip
        assert number in html, number
    assert "<script src=" not in html and html.count("Plotly.newPlot(") == 4
    drawn = re.findall(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", html, flags=re.S)
    figures = [json.loads(traces) for traces in drawn]
    bars = figures[0]
    assert [trace["name"] for trace in bars] == ["zero-shot", "fine-tuned", "BM25", "hybrid"]
    assert bars[1]["text"] == ["0.500", "0.720", "0.720"]  # values on the bars
    curves = figures[2]
    styles = {(t["line"]["dash"], t["marker"]["symbol"]) for t in curves}
    assert len(styles) == 3  # b and c draw the same curve: dash and marker keep them apart
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    dom, console = render(page)
    assert console == [] and dom.count('class="main-svg"') >= 8


def record_as_running(run: Path, pid: int, host: str, heartbeat: str) -> None:
    """Make a run's manifest what a killed run leaves: status running, its process and phase."""
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest |= {"status": "running", "metrics": None, "duration_s": None, "phase": "training",
                 "process": {"pid": pid, "host": host}, "heartbeat": heartbeat}  # fmt: skip
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (run / "eval" / "per_query.csv").unlink(missing_ok=True)


def test_a_run_whose_process_is_gone_is_shown_as_died(lab: Path, tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    now = datetime.now(UTC).isoformat(timespec="seconds")
    good = make_run(lab, "20261101-090000", 0.5, per_query={"q1": 0.5, "q2": 0.5})
    killed = make_run(lab, "20261102-090000", 0.6)
    record_as_running(killed, int(gone.stdout), socket.gethostname(), "2026-11-02T09:05:00+00:00")
    silent = make_run(lab, "20261103-090000", 0.6)  # on another machine, silent for long
    record_as_running(silent, 4242, "gpu-node-7", "2026-11-03T09:05:00+00:00")
    alive = make_run(lab, "20261104-090000", 0.6)
    record_as_running(alive, os.getpid(), socket.gethostname(), now)
    manifest = json.loads((alive / "manifest.json").read_text(encoding="utf-8"))
    (alive / "manifest.json").write_text(json.dumps(manifest | {"started": now}), encoding="utf-8")

    code, out, _ = emb("runs", str(lab), "--json")
    rows = {row["run_id"]: row for row in json.loads(out)}
    assert code == 0 and rows[good.name]["status"] == "completed"
    assert (rows[killed.name]["status"], rows[killed.name]["phase"]) == ("died", "training")
    assert rows[killed.name]["heartbeat"] == "2026-11-02T09:05:00+00:00"
    assert rows[silent.name]["status"] == "died"
    assert rows[alive.name]["status"] == "running"

    _, out, _ = emb("runs", str(lab))
    assert "died during training" in out and "last heartbeat 11-02 09:05" in out
    _, out, _ = emb("runs", str(lab), "--show", killed.name)
    assert "died during training, last heartbeat 2026-11-02 09:05:00 UTC" in out
    page = tmp_path / "compare.html"
    code, out, _ = emb("compare", str(good), str(killed), "--html", str(page))
    text = " ".join(out.split())
    died = "died during training, last heartbeat 2026-11-02 09:05:00 UTC"
    assert code == 0 and f"exp_01_baseline/{killed.name}: {died}" in text
    assert f"missing in exp_01_baseline/{killed.name} ({died})" in text
    assert "process.pid" not in text and "heartbeat │" not in text  # not settings that differ
    assert f"exp_01_baseline/{killed.name} ({died})" in page.read_text(encoding="utf-8")
