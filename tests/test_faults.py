"""Faults injected into a real run of exp_01_baseline (tiny model): a full disk, a denied
permission or a read-only file system at each place the lab writes, and SIGKILL at several phases.

Every fault ends in one line and a truthful record: exit status 1 (or the kill's), no traceback,
the run's manifest failed with that line (or shown as died, with its phase), earlier runs and
`latest` untouched, never a half-written model. The faults are injected from outside the lab by
tests/inject_faults.py, which installs its hooks and then runs the experiment script; it imports
the libraries once and forks one child per run, so a run takes seconds. One lab, one tiny model
and one good run are shared by the module.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.test_pipeline import EXPERIMENT, OFFLINE, emb, manifest_of, snapshot

INJECT = Path(__file__).with_name("inject_faults.py")
FLAGS = ("--epochs", "1")


Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def runner(
    lab: Path, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runner]:
    """runner(fault, where, *flags): the baseline run once with the fault, by the fork server."""
    server = subprocess.Popen(
        [sys.executable, str(INJECT), "--serve"], cwd=lab, env=os.environ | OFFLINE,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    output = tmp_path_factory.mktemp("output")

    def run(fault: str, where: str, *flags: str) -> subprocess.CompletedProcess[str]:
        argv = [EXPERIMENT, "--base-model", str(tiny_model), *FLAGS, *flags]
        files = {name: str(output / name) for name in ("stdout", "stderr")}
        request = {"fault": fault, "where": where, "argv": argv, **files}
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        code = int(server.stdout.readline())
        texts = [Path(files[name]).read_text(encoding="utf-8") for name in ("stdout", "stderr")]
        return subprocess.CompletedProcess(argv, code, *texts)

    yield run
    assert server.stdin is not None
    server.stdin.close()
    server.wait(timeout=60)


@pytest.fixture(scope="module")
def good_run(lab: Path, runner: Runner) -> Path:
    """A completed run in results/exp_01_baseline, which no fault may touch."""
    process = runner("NONE", "")
    assert process.returncode == 0, process.stderr[-3000:]
    return (lab / "results" / "exp_01_baseline" / "latest").resolve()


def results(lab: Path) -> Path:
    return lab / "results" / "exp_01_baseline"


def run_with_fault(
    lab: Path, runner: Runner, fault: str, where: str, *flags: str
) -> tuple[subprocess.CompletedProcess[str], Path | None, dict[str, dict[str, bytes]]]:
    """Run the baseline with one fault; returns the process, its new run folder (if any) and a
    snapshot of every earlier run, taken again afterwards by `assert_nothing_earlier_lost`."""
    earlier = {p.name: snapshot(p) for p in runs_in(lab)}
    process = runner(fault, where, *flags)
    new = [p for p in runs_in(lab) if p.name not in earlier]
    assert len(new) <= 1
    return process, (new[0] if new else None), earlier  # type: ignore[return-value]


def runs_in(lab: Path) -> list[Path]:
    return sorted(p for p in results(lab).glob("2*") if p.is_dir() and not p.is_symlink())


def assert_nothing_earlier_lost(lab: Path, earlier: dict, good_run: Path) -> None:
    for name, files in earlier.items():
        assert snapshot(results(lab) / name) == files, f"run {name} changed"
    assert (results(lab) / "latest").resolve() == good_run, "latest moved"
    assert (results(lab) / "final").resolve() == good_run / "final"


def own_lines(stderr: str) -> list[str]:
    """What the run printed on stderr, less the warning that the sample's dev split is too small
    to choose the hybrid's fusion (a tiny random model's figures are that noisy)."""
    return [line for line in stderr.strip().splitlines() if not line.startswith("warning: dev ")]


def one_error_line(process: subprocess.CompletedProcess[str]) -> str:
    assert process.returncode == 1, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    lines = own_lines(process.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), process.stderr[-3000:]
    return lines[0].removeprefix("error: ")


NEEDS = r" \(needs ~\d+(\.\d)? [kMG]?B, \d+(\.\d)? [kMG]?B free\)"


REASONS = {"ENOSPC": "no space left on device", "EACCES": "permission denied",
           "EROFS": "read-only file system"}  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "where", "says"),
    [
        # the model's weights: half written when the disk fills up
        ("ENOSPC", "*/.final.partial/model.safetensors", "saving the model to {run}/final" + NEEDS),
        # the model's folder cannot be made
        ("EACCES", "*/.final.partial", r"saving the model to {run}/final"),
        # a library's own write during training: the dev evaluator's CSV
        ("ENOSPC", "*/eval/Information-Retrieval_evaluation_dev_results.csv",
         r"writing {run}/eval/Information-Retrieval_evaluation_dev_results\.csv"),
        ("EROFS", "*/*train_log.json*", r"writing {run}/train_log\.json"),
        ("ENOSPC", "*/eval/*metrics.json*", r"writing {run}/eval/metrics\.json"),
        # after the run has completed: its report page
        ("EACCES", "*/plots/*index.html*", r"writing {run}/plots/index\.html"),
    ],
)  # fmt: skip
def test_a_failed_write_is_one_line_and_a_failed_run(
    lab: Path, runner: Runner, good_run: Path, fault: str, where: str, says: str
) -> None:
    process, run, earlier = run_with_fault(lab, runner, fault, f"write:{where}")
    line = one_error_line(process)
    assert run is not None
    expected = f"{REASONS[fault]} while " + says.format(run=re.escape(str(run)))
    assert re.fullmatch(expected, line), line
    manifest = manifest_of(run)
    assert (manifest["status"], manifest["error"]) == ("failed", line)
    assert manifest["metrics"] is None or (run / "eval" / "metrics.json").is_file()
    assert not (run / ".final.partial").exists(), "the partial model is removed"
    if (run / "final").exists():  # saved before the fault: whole
        assert (run / "final" / "model.safetensors").stat().st_size > 100_000
    assert_nothing_earlier_lost(lab, earlier, good_run)
    listed = {row["run_id"]: row for row in json.loads(emb("runs", "--json", cwd=lab).stdout)}
    assert listed[run.name]["status"] == "failed"


def test_a_manifest_that_cannot_be_written_is_one_line_and_claims_nothing(
    lab: Path, runner: Runner, good_run: Path
) -> None:
    process, run, earlier = run_with_fault(lab, runner, "ENOSPC", "write:*/*manifest.json*")
    line = one_error_line(process)
    assert run is not None
    assert line == f"no space left on device while writing {run}/manifest.json"
    assert list(run.iterdir()) == [], "no record, so nothing claims the run is running"
    assert_nothing_earlier_lost(lab, earlier, good_run)
    listed = [row["run_id"] for row in json.loads(emb("runs", "--json", cwd=lab).stdout)]
    assert run.name not in listed


@pytest.mark.parametrize("fault", ["EROFS", "EACCES"])
def test_a_results_folder_that_cannot_be_written_stops_before_any_work(
    lab: Path, runner: Runner, good_run: Path, fault: str
) -> None:
    process, run, earlier = run_with_fault(lab, runner, fault, f"write:{results(lab)}*")
    line = one_error_line(process)
    reason = "read-only file system" if fault == "EROFS" else "permission denied"
    assert line.startswith(f"{results(lab)} cannot be written ({reason})"), line
    assert run is None, "no run folder"
    assert "train: kept" not in process.stdout, "stopped before loading the data"
    assert_nothing_earlier_lost(lab, earlier, good_run)


def test_a_failed_write_to_the_embedding_cache_is_a_warning(
    lab: Path, runner: Runner, good_run: Path
) -> None:
    cache = lab / ".cache" / "embeddings"
    before = snapshot(cache)
    # another max_seq_length: vectors the cache does not hold yet, so it must write
    process, run, earlier = run_with_fault(
        lab, runner, "ENOSPC", f"write:{cache}/*", "--max-seq-length", "64"
    )
    assert process.returncode == 0, process.stderr[-3000:]
    (warning,) = own_lines(process.stderr)
    assert warning.startswith(f"warning: embedding cache not saved in {cache}/")
    assert warning.endswith("(no space left on device); the run goes on without it")
    assert run is not None and manifest_of(run)["status"] == "completed"
    assert (results(lab) / "latest").resolve() == run
    assert snapshot(cache) == before, "no partial cache file"
    for name, files in earlier.items():
        assert snapshot(results(lab) / name) == files
    # put latest back on the good run for the other tests
    (results(lab) / "latest").unlink()
    (results(lab) / "latest").symlink_to(good_run.name, target_is_directory=True)


@pytest.mark.parametrize(
    ("where", "phase"),
    [
        ("phase:evaluate before", "evaluate before"),
        # mid-training: the dev evaluator writes its first row after a few steps
        ("write:*/eval/Information-Retrieval_evaluation_dev_results.csv", "training"),
        # the model save: config files written, the weights being written
        ("write:*/.final.partial/model.safetensors", "saving the model"),
        ("phase:evaluate after", "evaluate after"),
    ],
)
def test_a_killed_run_is_shown_as_died_with_its_phase(
    lab: Path, runner: Runner, good_run: Path, where: str, phase: str
) -> None:
    process, run, earlier = run_with_fault(lab, runner, "KILL", where)
    assert process.returncode == -9
    assert "Traceback" not in process.stderr
    assert run is not None
    manifest = manifest_of(run)
    assert (manifest["status"], manifest["phase"]) == ("running", phase)  # as the kill left it
    assert manifest["process"]["pid"] > 0 and manifest["heartbeat"]
    if phase == "evaluate after":  # saved before the kill, whole
        assert (run / "final" / "model.safetensors").stat().st_size > 100_000
    else:
        assert not (run / "final").exists(), "no half-written model under final/"
    assert_nothing_earlier_lost(lab, earlier, good_run)

    listed = {row["run_id"]: row for row in json.loads(emb("runs", "--json", cwd=lab).stdout)}
    row = listed[run.name]
    assert (row["status"], row["phase"], row["heartbeat"]) == ("died", phase, manifest["heartbeat"])
    died = f"died during {phase}, last heartbeat {manifest['heartbeat'][:19].replace('T', ' ')} UTC"
    compared = emb("compare", good_run.name, run.name, cwd=lab)
    assert compared.returncode == 0, compared.stderr
    assert f"exp_01_baseline/{run.name}: {died}" in " ".join(compared.stdout.split())
    shown = emb("runs", "--show", run.name, cwd=lab)
    assert died in " ".join(shown.stdout.split())


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB file system (tmpfs), where the system lets this process mount one (root)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                             capture_output=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the injected faults cover it")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_real_full_disk_and_a_real_read_only_one(
    lab: Path, runner: Runner, good_run: Path, small_disk: Path
) -> None:
    out = small_disk / "results"
    # 1 MB holds the model (~0.4 MB) and the records, not the report page's 4.7 MB plotly.js
    process = runner("NONE", "", "--output-dir", str(out))
    line = one_error_line(process)
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    assert line == f"no space left on device while writing {run}/plots/plotly.min.js"
    assert (manifest_of(run)["status"], manifest_of(run)["error"]) == ("failed", line)
    assert not (out / "latest").exists()
    assert not [p for p in run.rglob("*") if p.name.endswith((".tmp", ".partial"))]

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    process = runner("NONE", "", "--output-dir", str(out))
    line = one_error_line(process)
    assert line.startswith(f"{out} cannot be written (read-only file system)")
    assert "train: kept" not in process.stdout, "stopped before any work"
