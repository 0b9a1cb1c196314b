"""`emb sweep`: Optuna searches an experiment's flags on dev, every trial a run of the lab.

Most tests sweep a synthetic user-written experiment (tests/sweep_experiment.py: a real run record,
metrics computed from its flags, dev and gold disagreeing on purpose) so that a trial costs a
second of work; one test sweeps the lab's own baseline with the tiny model, end to end.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SYNTHETIC = "exp_09_synthetic"
ENV = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def emb_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from embed_lab.cli import main; main()", *args]


def emb(lab: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        emb_command(*args),
        cwd=lab,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def sweep_json(lab: Path, *args: str) -> dict:
    done = emb(lab, "sweep", "--json", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # stdout holds only the JSON


def manifest(lab: Path, run: str) -> dict:
    return json.loads((lab / run / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lab(lab: Path) -> Path:
    """The module's lab, with the synthetic experiment added as a user would add one."""
    shutil.copy(
        REPO_ROOT / "tests" / "sweep_experiment.py", lab / "experiments" / f"{SYNTHETIC}.py"
    )
    return lab


@pytest.fixture(scope="module")
def mixed(lab: Path) -> dict:
    """Five trials: 0 the defaults, 3 pruned (its dev during training falls far behind), 4
    failed; the space keeps dev and gold in opposite orders (dev peaks at 0.8, gold at 0.2)."""
    space = lab / "mixed.toml"
    space.write_text("[shape]\nlow = 0.2\nhigh = 0.8\n", encoding="utf-8")
    return sweep_json(
        lab,
        "synthetic",
        "--study",
        "mixed",
        "--trials",
        "5",
        "--space",
        str(space),
        "--",
        "--decline",
        "1.0",
        "--fail-trial",
        "4",
    )


def test_every_trial_is_a_run_of_its_study(lab: Path, mixed: dict) -> None:
    assert set(mixed) >= {"study", "storage", "best", "trials"}
    assert mixed["study"] == "mixed" and mixed["storage"] == "results/sweeps/mixed.journal"
    assert [t["number"] for t in mixed["trials"]] == [0, 1, 2, 3, 4]
    for trial in mixed["trials"]:
        assert set(trial) >= {"number", "state", "params", "dev_ndcg@10", "run"}
        record = manifest(lab, trial["run"])
        sweep = record["sweep"]
        assert (sweep["study"], sweep["trial"]) == ("mixed", trial["number"])
        assert sweep["storage"].endswith("results/sweeps/mixed.journal")
        assert record["experiment"]["name"] == SYNTHETIC
    first = mixed["trials"][0]
    assert first["defaults"] and first["params"] == {"shape": 0.5}
    assert "--shape" not in manifest(lab, first["run"])["command"]["argv"]  # run as it is
    listed = emb(lab, "runs", "--study", "mixed", "--json")
    assert sorted(run["sweep"]["trial"] for run in json.loads(listed.stdout)) == [0, 1, 2, 3, 4]


def test_best_is_best_on_dev_and_gold_is_not_read(lab: Path, mixed: dict) -> None:
    done = [t for t in mixed["trials"] if t["state"] == "COMPLETE"]
    assert len(done) == 3
    best = mixed["best"]
    assert best["dev_ndcg@10"] == max(t["dev_ndcg@10"] for t in done)
    assert set(best) >= {"number", "run", "params", "dev_ndcg@10"}
    # Dev and gold disagree: the best on dev is the worst on gold among the completed trials.
    gold = {t["number"]: 1 - abs(t["params"]["shape"] - 0.2) for t in done}
    assert len(set(gold.values())) > 1
    assert gold[best["number"]] == min(gold.values()) < max(gold.values())
    assert best["gold"]["after"] == pytest.approx(gold[best["number"]])  # reported, for it only
    for trial in done:
        ci = trial["dev_ndcg@10_ci95"]
        assert ci[0] <= trial["dev_ndcg@10"] <= ci[1]
    significance = mixed["significance"]
    assert significance["defaults"] == 0 and "summary" in significance
    if best["number"] != 0:
        assert isinstance(significance["p_holm"], float)
        assert ("NOT significantly" in significance["summary"]) != significance["significant"]


def test_pruned_and_failed_trials_do_not_stop_the_sweep(lab: Path, mixed: dict) -> None:
    pruned, failed = mixed["trials"][3], mixed["trials"][4]
    assert pruned["state"] == "PRUNED" and pruned["status"] == "pruned"
    record = manifest(lab, pruned["run"])
    assert record["status"] == "pruned" and "pruned at dev evaluation 2" in record["error"]
    assert failed["state"] == "FAIL" and failed["error"] == "synthetic failure of trial 4"
    assert manifest(lab, failed["run"])["status"] == "failed"
    assert mixed["best"]["number"] in (0, 1, 2)


def test_only_the_best_trial_keeps_its_model(lab: Path, mixed: dict) -> None:
    best = mixed["best"]["run"]
    assert (lab / best / "final").is_dir()
    for trial in mixed["trials"]:
        if trial["run"] != best:
            assert not (lab / trial["run"] / "final").exists()
            assert "final" not in manifest(lab, trial["run"])["artifacts"]
    folder = lab / "results" / "sweeps" / "mixed"
    assert (folder / "best").resolve() == (lab / best).resolve()
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "plotly.min.js" in page and (folder / "plotly.min.js").is_file()
    assert "Optimization History" in page or "optimisation history" in page


def test_bad_space_files_stop_before_any_study(lab: Path) -> None:
    cases = {
        "[nonsense]\nlow = 1\nhigh = 2\n": "is not a flag the experiment takes",
        "[learning_rate]\nlow = 1e-3\nhigh = 1e-4\n": "must be below high",
        "[learning_rate\nlow = 1\n": "malformed TOML",
        "[batch_size]\nchoices = [32, 64]\n": "must hold the experiment's default 16",
        "[shape]\nlow = 0.0\nhigh = 1.0\nlog = true\n": "a log scale needs low > 0",
    }
    runs_before = sorted((lab / "results").glob("*/*/manifest.json"))
    for number, (text, reason) in enumerate(cases.items()):
        space = lab / f"bad{number}.toml"
        space.write_text(text, encoding="utf-8")
        done = emb(lab, "sweep", "synthetic", "--study", f"bad{number}", "--space", str(space))
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], lines
        assert str(space) in lines[0] and "Traceback" not in done.stderr
        assert not (lab / "results" / "sweeps" / f"bad{number}.journal").exists()
    assert sorted((lab / "results").glob("*/*/manifest.json")) == runs_before


def test_a_launcher_that_cannot_start_stops_before_any_study(lab: Path) -> None:
    cases = {"no-such-launcher --nproc_per_node 2": "no-such-launcher is not a command on PATH",
             "torchrun 'x": "No closing quotation"}  # fmt: skip
    for number, (launcher, reason) in enumerate(cases.items()):
        done = emb(lab, "sweep", "synthetic", "--study", f"launch{number}", "--launcher", launcher)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --launcher") and reason in lines[0]
        assert not (lab / "results" / "sweeps" / f"launch{number}.journal").exists()


def _runs_of(lab: Path, study: str) -> list[dict]:
    found = []
    for path in (lab / "results").glob("*/*/manifest.json"):
        if path.parent.is_symlink():
            continue  # results/<experiment>/latest
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # being written
        if (record.get("sweep") or {}).get("study") == study:
            found.append(record)
    return found


def _wait_for_a_run(lab: Path, study: str, process: subprocess.Popen) -> None:
    """Until the study's first trial has started its run, and then until it has reached its
    sleep (--slow-trial), half-way through."""
    deadline = time.monotonic() + 600
    while not _runs_of(lab, study):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.5)
    time.sleep(2)


def test_ctrl_c_records_the_trial_interrupted_and_a_rerun_resumes(lab: Path) -> None:
    """The defaults' trial is interrupted half-way; the same command runs the defaults again."""
    command = emb_command("sweep", "synthetic", "--study", "resume", "--trials", "1", "--json",
                          "--", "--slow-trial", "0")  # fmt: skip
    process = subprocess.Popen(command, cwd=lab, env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for_a_run(lab, "resume", process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err[-3000:]
    assert "run the same command again to resume" in err
    interrupted = json.loads(out)["trials"][0]
    assert interrupted["state"] == "FAIL" and interrupted["status"] == "interrupted"
    assert manifest(lab, interrupted["run"])["status"] == "interrupted"
    again = subprocess.run(command, cwd=lab, env=ENV, capture_output=True, text=True,
                           timeout=900, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    document = json.loads(again.stdout)
    assert [t["state"] for t in document["trials"]] == ["FAIL", "COMPLETE"]
    resumed = document["trials"][1]
    assert resumed["defaults"] and resumed["params"] == interrupted["params"]
    assert document["best"]["number"] == 1 and document["defaults_trial"] == 1


def test_a_worker_killed_outright_leaves_no_trial_running(lab: Path) -> None:
    """SIGKILL takes the worker and its trial's run (as a lost machine or the OOM killer would;
    the run has its own process group); the next call finds the run dead, records the trial as
    died and runs its settings again."""
    command = emb_command("sweep", "synthetic", "--study", "killed", "--trials", "1", "--json",
                          "--", "--slow-trial", "0")  # fmt: skip
    process = subprocess.Popen(command, cwd=lab, env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    _wait_for_a_run(lab, "killed", process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    (record,) = _runs_of(lab, "killed")
    os.kill(record["process"]["pid"], signal.SIGKILL)
    again = subprocess.run(command, cwd=lab, env=ENV, capture_output=True, text=True,
                           timeout=900, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "trial 0: the run died during" in again.stderr
    died, rerun = json.loads(again.stdout)["trials"]
    assert (died["state"], died["status"]) == ("FAIL", "died")
    assert rerun["state"] == "COMPLETE" and rerun["defaults"] and rerun["params"] == died["params"]


def test_two_workers_share_one_study(lab: Path) -> None:
    command = emb_command("sweep", "synthetic", "--study", "pair", "--trials", "2", "--json")
    workers = [
        subprocess.Popen(
            command, cwd=lab, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, err[-3000:]
    trials = sweep_json(lab, "synthetic", "--study", "pair", "--trials", "0")["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2, 3]
    assert all(t["state"] == "COMPLETE" for t in trials)
    recorded = sorted(r["sweep"]["trial"] for r in _runs_of(lab, "pair"))
    assert recorded == [0, 1, 2, 3]
    assert len({json.dumps(t["params"]) for t in trials}) == 4  # seeds differ per trial


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server of its own in a temporary folder (as the postgres user under root:
    initdb refuses root); its URL, with a password the server does not need (trust)."""
    found = (
        shutil.which("initdb")
        or (sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [None])[-1]
    )
    if found is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    bin_dir = Path(os.path.realpath(found)).parent
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="emb-sweep-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: initdb cannot run as root")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth",
            "trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg2://postgres:s3cret@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_a_postgresql_study(lab: Path, postgres: str) -> None:
    document = sweep_json(
        lab, "synthetic", "--study", "rdb", "--trials", "1", "--storage", postgres
    )
    masked = postgres.replace("s3cret", "***")
    assert document["storage"] == masked
    assert [t["state"] for t in document["trials"]] == ["COMPLETE"]
    for trial in document["trials"]:
        text = (lab / trial["run"] / "manifest.json").read_text(encoding="utf-8")
        assert "s3cret" not in text and json.loads(text)["sweep"]["storage"] == masked
    again = emb(lab, "sweep", "synthetic", "--study", "rdb", "--trials", "0", "--storage", postgres)
    assert again.returncode == 0 and "s3cret" not in again.stdout + again.stderr
    assert f"study rdb ({masked}): 1 trial so far" in again.stderr


def test_the_baseline_swept_with_the_tiny_model(lab: Path, tiny_model: Path) -> None:
    """The lab's own experiment: three trials, dev reported during training, dev in metrics."""
    space = lab / "lr.toml"
    space.write_text("[learning_rate]\nlow = 1e-5\nhigh = 1e-3\nlog = true\n", encoding="utf-8")
    document = sweep_json(
        lab,
        "baseline",
        "--study",
        "tiny",
        "--trials",
        "3",
        "--space",
        str(space),
        "--no-prune",
        "--",
        "--base-model",
        str(tiny_model),
    )
    trials = document["trials"]
    assert [t["state"] for t in trials] == ["COMPLETE"] * 3, [t["error"] for t in trials]
    for trial in trials:
        run = lab / trial["run"]
        metrics = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
        assert trial["dev_ndcg@10"] == metrics["dev"]["ndcg@10"]
        assert metrics["dev"]["queries"] == 30
        rows = (run / "eval" / "dev_per_query.csv").read_text(encoding="utf-8").splitlines()
        assert rows[0] == "query_id,system,ndcg@10" and len(rows) == 31
        assert manifest(lab, trial["run"])["sweep"]["trial"] == trial["number"]
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    journal = JournalFileBackend(str(lab / "results" / "sweeps" / "tiny.journal"))
    study = optuna.load_study(study_name="tiny", storage=JournalStorage(journal))
    for trial in study.trials:  # the trial's own process reported dev during training
        assert sorted(trial.intermediate_values) == [1, 2, 3, 4]  # one per quarter of training
    assert document["best"]["command"].endswith(
        " ".join(manifest(lab, document["best"]["run"])["command"]["argv"][1:])
    )
    front = (lab / "results" / "index.html").read_text(encoding="utf-8")  # rewritten at the end
    best = Path(document["best"]["run"]).relative_to("results")
    assert '<a href="sweeps/tiny/index.html">tiny</a> — best run ' in front
    assert f'<a href="{best}/plots/index.html">{best.name}</a>' in front


FLAGS = {
    "learning_rate": {"flag": "--learning-rate", "kind": "value", "default": 5e-5},
    "epochs": {"flag": "--epochs", "kind": "value", "default": 1},
    "cached": {"flag": "--cached", "kind": "bool", "default": False},
    "verbose": {"flag": "--verbose", "kind": "switch", "default": False},
    "dims": {"flag": "--dims", "kind": "list", "default": []},
}


def test_a_space_becomes_flags() -> None:
    from embed_lab.sweep.space import build_space

    space = {"learning_rate": {"low": 1e-5, "high": 1e-3, "log": True},
             "epochs": {"low": 1, "high": 3}, "cached": {"choices": [False, True]}}  # fmt: skip
    params = {param.name: param for param in build_space(space, FLAGS, ["--seed", "3"], "s")}
    assert params["epochs"].argv(2) == ["--epochs", "2"]
    assert params["cached"].argv(False) == ["--no-cached"]
    assert params["learning_rate"].argv(1e-4) == ["--learning-rate", "0.0001"]


@pytest.mark.parametrize(
    ("space", "fixed", "reason"),
    [
        ({"dims": {"choices": [[64]]}}, [], "not a flag the experiment takes"),
        ({"epochs": {"low": 1.5, "high": 3}}, [], "is not an integer"),
        ({"epochs": {"low": 1, "high": 3}}, ["--epochs", "2"], "also given to every trial"),
        ({"cached": {"low": 0, "high": 1}}, [], "on/off flag"),
        ({"epochs": {"low": 1, "high": 3, "choices": [1]}}, [], "cannot go with"),
        ({"epochs": {"low": 2, "high": 3}}, [], "must hold the experiment's default 1"),
        ({"epochs": {"low": 1}}, [], "needs low and high"),
        ({"epochs": {"lo": 1, "high": 3}}, [], "unknown key lo"),
    ],
)
def test_a_bad_space_is_one_reason(space: dict, fixed: list[str], reason: str) -> None:
    from embed_lab.sweep.space import SpaceError, build_space

    with pytest.raises(SpaceError, match=reason):
        build_space(space, FLAGS, fixed, "space.toml")


def test_a_password_never_shows() -> None:
    from embed_lab.sweep.study import masked

    assert masked("postgresql://lab:p@ss:w@db:5432/s") == "postgresql://lab:***@db:5432/s"
    assert masked("mysql://lab@db/s") == "mysql://lab@db/s"


NVIDIA_TYPES = "https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__TYPES.html"
# The ends of failed trials' logs, in torch's own words (c10/cuda/CUDAException.cpp and
# CUDAMiscFunctions.cpp; older releases: the asynchronous-report advice, with or without a full
# stop; under torchrun every line starts with "[rank0]: "), each with the line to show.
CUDA_FAILURES = [
    (
        "torch.AcceleratorError: CUDA error: out of memory",
        [
            "torch.AcceleratorError: CUDA error: out of memory",
            f"Search for `cudaErrorMemoryAllocation' in {NVIDIA_TYPES} for more information.",
            "For more detailed error information, run with CUDA_LOG_FILE=stderr",
            "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.",
        ],
    ),
    (
        "RuntimeError: CUDA error: device-side assert triggered",
        [
            "RuntimeError: CUDA error: device-side assert triggered",
            "CUDA kernel errors might be asynchronously reported at some other API call, so the "
            "stacktrace below might be incorrect.",
            "For debugging consider passing CUDA_LAUNCH_BLOCKING=1.",
            "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.",
        ],
    ),
    (
        "[rank0]: RuntimeError: CUDA error: an illegal memory access was encountered",
        [
            "[rank0]: RuntimeError: CUDA error: an illegal memory access was encountered",
            "[rank0]: CUDA kernel errors might be asynchronously reported at some other API call, "
            "so the stacktrace below might be incorrect.",
            "[rank0]: For debugging consider passing CUDA_LAUNCH_BLOCKING=1",
            "[rank0]: Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.",
            "",
        ],
    ),
    (  # the allocator's own error is one line
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a "
        "total capacity of 139.72 GiB of which 3.06 MiB is free.",
        [
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a "
            "total capacity of 139.72 GiB of which 3.06 MiB is free.",
        ],
    ),
]


@pytest.mark.parametrize(("shown", "ending"), CUDA_FAILURES)
def test_a_cuda_failure_shows_its_error_not_cudas_advice(
    tmp_path: Path, shown: str, ending: list[str]
) -> None:
    from embed_lab.sweep.experiment import last_error, last_line

    text = "\n".join(["Traceback (most recent call last):", '  File "x.py", line 1', *ending])
    log = tmp_path / "trial.log"
    log.write_text(text + "\n", encoding="utf-8")
    assert last_error(log) == shown
    assert last_line(text) == shown
