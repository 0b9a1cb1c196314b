import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from inventory import layout, runs
from inventory.config import LAB_ROOT, TrainConfig, parse_args
from inventory.errors import Interrupted, LabError, Pruned, telling_lines
from inventory.runner import run_experiment
from inventory.runs import check_run, start_run
from inventory.settings import BASE_MODEL

DEFAULTS = TrainConfig(epochs=2, batch_size=8, learning_rate=1e-4)


def test_defaults_come_from_the_experiment_and_the_lab() -> None:
    config = parse_args("experiments/exp_07_try.py", DEFAULTS, [])
    assert config.name == "exp_07_try"
    assert config.base_model == BASE_MODEL
    assert config.data_dir == LAB_ROOT / "data"
    assert config.output_dir == LAB_ROOT / "results" / "exp_07_try"
    assert config.train == DEFAULTS
    assert config.train.report_to == "none"  # nothing is sent anywhere by default


@dataclass(frozen=True)
class RecipeOptions:
    cached: bool = False
    mini_batch_size: int = 32
    margin: float = 0.95
    dims: tuple[int, ...] = (256, 64)


def test_a_recipe_gets_one_flag_per_option_with_its_defaults() -> None:
    assert parse_args("exp.py", DEFAULTS, [], options=RecipeOptions()).options == RecipeOptions()
    argv = ["--cached", "--mini-batch-size", "8", "--margin", "0.9", "--dims", "128", "32"]
    config = parse_args("exp.py", DEFAULTS, argv, options=RecipeOptions())
    assert config.options == RecipeOptions(True, 8, 0.9, (128, 32))
    assert config.train == DEFAULTS


def test_an_unknown_recipe_option_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args("exp.py", DEFAULTS, ["--cached"])  # no options: the flag does not exist
    assert exit_info.value.code == 2


def test_flags_override_the_defaults(tmp_path: Path) -> None:
    argv = ["--base-model", "some/model", "--data-dir", str(tmp_path), "--epochs", "3",
            "--batch-size", "4", "--learning-rate", "0.01", "--seed", "7",
            "--max-seq-length", "128", "--output-dir", str(tmp_path / "out")]  # fmt: skip
    config = parse_args("exp.py", DEFAULTS, argv)
    assert (config.base_model, config.data_dir, config.output_dir) == (
        "some/model", tmp_path, tmp_path / "out",
    )  # fmt: skip
    assert config.train == TrainConfig(
        epochs=3, batch_size=4, learning_rate=0.01, seed=7, max_seq_length=128
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--max-seq-length", "0"], "--max-seq-length must be at least 1"),
        (["--report-to", "carrier-pigeon"], "--report-to carrier-pigeon: unknown tracker; one of"),
        (["--overwrite"], "unrecognized arguments: --overwrite"),
    ],
)
def test_nonsense_values_are_rejected(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit):
        parse_args("exp.py", DEFAULTS, argv)
    assert message in capsys.readouterr().err


def test_a_tracker_that_is_not_installed_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from transformers.integrations import get_available_reporting_integrations

    if "wandb" in get_available_reporting_integrations():
        pytest.skip("wandb is installed here")
    with pytest.raises(SystemExit):
        parse_args("exp.py", DEFAULTS, ["--report-to", "wandb"])
    assert "--report-to wandb: the wandb package is not installed" in capsys.readouterr().err


def run_config(tmp_path: Path):
    return parse_args("exp.py", DEFAULTS, ["--output-dir", str(tmp_path / "exp")])


def finished_run(tmp_path: Path, error: BaseException | None = None) -> runs.Run:
    run = start_run(run_config(tmp_path))
    (run.eval_dir).mkdir()
    metrics = {"before": {"ndcg@10": 0.4}, "after": {"ndcg@10": 0.5}}
    (run.eval_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    run.finish(error)
    return run


def test_every_run_gets_its_own_folder_and_latest_reaches_the_newest(tmp_path: Path) -> None:
    first = finished_run(tmp_path)
    second = finished_run(tmp_path)
    assert first.dir != second.dir and first.dir.parent == second.dir.parent
    assert (first.dir / "eval" / "metrics.json").is_file()
    out = tmp_path / "exp"
    assert (out / "latest").resolve() == second.dir
    assert (out / "eval").resolve() == second.dir / "eval"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == second.id and manifest["status"] == "completed"


def test_a_failed_run_is_recorded_and_latest_stays_on_the_last_good_one(tmp_path: Path) -> None:
    good = finished_run(tmp_path)
    bad = finished_run(tmp_path, LabError("data/train.jsonl:3: malformed JSON"))
    manifest = json.loads(bad.manifest_path.read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["error"] == "data/train.jsonl:3: malformed JSON"
    assert (tmp_path / "exp" / "latest").resolve() == good.dir


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (None, "completed", None),
        (KeyboardInterrupt(), "interrupted", "SIGINT"),
        (Interrupted("SIGTERM"), "interrupted", "SIGTERM"),
        (Pruned("pruned at 50%"), "pruned", "pruned at 50%"),
        (ValueError("bad value\nmore"), "failed", "ValueError: bad value"),
    ],
)
def test_the_run_as_a_context_manager_records_how_it_ended(
    tmp_path: Path, error: BaseException | None, status: str, message: str | None
) -> None:
    def body() -> runs.Run:
        with start_run(run_config(tmp_path)) as run:
            if error is not None:
                raise error
        return run

    if error is None:
        run = body()
    else:
        with pytest.raises(type(error)):
            body()
        run = runs.Run(next(p for p in (tmp_path / "exp").iterdir() if not p.is_symlink()))
    manifest = json.loads(run.manifest_path.read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["error"]) == (status, message)
    assert manifest["duration_s"] >= 0 and manifest["ended"]


def test_a_cuda_error_is_recorded_by_its_error_line_not_cudas_advice() -> None:
    """torch's words (c10/cuda/CUDAException.cpp): the error, then the advice it adds to each."""
    types = "https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__TYPES.html"
    error = RuntimeError(
        "CUDA error: out of memory\n"
        f"Search for `cudaErrorMemoryAllocation' in {types} for more information.\n"
        "For more detailed error information, run with CUDA_LOG_FILE=stderr\n"
        "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n"
    )
    assert runs.outcome(error) == ("failed", "RuntimeError: CUDA error: out of memory")
    assert telling_lines(str(error)) == ["CUDA error: out of memory"]
    older = (
        "[rank1]: CUDA kernel errors might be asynchronously reported at some other API call, so "
        "the stacktrace below might be incorrect.\n"
        "[rank1]: For debugging consider passing CUDA_LAUNCH_BLOCKING=1.\n\n  not advice  "
    )
    assert telling_lines(older) == ["not advice"]


def test_a_phase_is_timed_in_the_manifest_even_when_it_fails(tmp_path: Path) -> None:
    with start_run(run_config(tmp_path)) as run:
        with run.phase("training"):
            pass
        with pytest.raises(ValueError), run.phase("evaluate after"):
            raise ValueError("boom")
        with run.phase("training"):  # a phase met again adds up
            time.sleep(0.2)
    phases = json.loads(run.manifest_path.read_text(encoding="utf-8"))["phases_s"]
    assert list(phases) == ["training", "evaluate after"]
    assert phases["training"] >= 0.2 and phases["evaluate after"] >= 0


def test_run_experiment_turns_sigterm_into_an_interrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def main() -> None:
        start_run(run_config(tmp_path))
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as exited:
            run_experiment(main)
        assert signal.getsignal(signal.SIGTERM) is previous  # restored once the run has ended
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exited.value.code == 143
    (run_dir,) = (tmp_path / "exp").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["error"]) == ("interrupted", "SIGTERM")
    assert capsys.readouterr().err.startswith("interrupted (SIGTERM); recorded in ")


def test_without_symbolic_links_latest_is_a_pointer_file_and_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_symlinks(*args: object, **kwargs: object) -> None:
        raise OSError("symbolic links are not available")

    monkeypatch.setattr(runs.os, "symlink", no_symlinks)
    first = finished_run(tmp_path)
    second = finished_run(tmp_path)
    out = tmp_path / "exp"
    assert (out / "latest").read_text(encoding="utf-8") == second.id + "\n"
    assert not (out / "eval").is_symlink()
    assert (out / "eval" / "metrics.json").read_bytes() == (
        second.dir / "eval" / "metrics.json"
    ).read_bytes()
    assert (first.dir / "eval" / "metrics.json").is_file()
    assert layout.latest_run(out) == second.dir  # the layout reads the pointer file back
    assert layout.run_dirs(tmp_path) == sorted([first.dir, second.dir])


def test_concurrent_runs_make_the_latest_link_under_names_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = finished_run(tmp_path)
    out = tmp_path / "exp"
    pid = os.getpid()
    with monkeypatch.context() as other:  # another process, in the middle of pointing latest
        other.setattr(runs.os, "getpid", lambda: pid + 1)
        theirs = runs._temporary(out / "latest")
        os.symlink(first.id, theirs)
    second = finished_run(tmp_path)
    assert runs._temporary(out / "latest") != theirs and theirs.is_symlink()  # left alone
    assert (out / "latest").is_symlink() and (out / "latest").resolve() == second.dir
    assert (out / "eval").is_symlink()  # links, not the copies made where links fail


def test_the_layout_reads_back_the_runs_the_lab_writes(tmp_path: Path) -> None:
    first = finished_run(tmp_path)
    second = finished_run(tmp_path)
    failed = finished_run(tmp_path, LabError("bad"))
    out = tmp_path / "exp"
    assert layout.latest_run(out) == second.dir  # through the link; a failed run is not latest
    assert layout.run_dirs(tmp_path) == [first.dir, second.dir, failed.dir]  # links left out
    assert layout.latest_run(tmp_path / "no-such-experiment") is None
    metrics = {"before": {"ndcg@10": 0.4}, "delta": {"ndcg@10": 0.1}, "bm25_config": {"k1": 1.5},
               "gold": {"queries": 3}, "first_stage": {"ndcg@10": 0.3}, "relevance": "binary",
               "matryoshka": {"64": {"before": {"ndcg@10": 0.2}}}}  # fmt: skip
    assert layout.scored_systems(metrics) == ["before", "first_stage"]


def test_nothing_in_the_way_is_ever_replaced(tmp_path: Path) -> None:
    out = tmp_path / "exp"
    (out / "final").mkdir(parents=True)
    (out / "final" / "my-model.bin").write_text("precious", encoding="utf-8")
    with pytest.raises(LabError, match="final is in the way of the link to the latest run"):
        start_run(run_config(tmp_path))
    (out / "final" / "my-model.bin").unlink()
    (out / "final").rmdir()
    (out / "run.json").write_text("{}", encoding="utf-8")
    with pytest.raises(LabError, match=r"holds a run from an older lab \(run.json\)"):
        check_run(run_config(tmp_path))


def test_check_run_writes_nothing(tmp_path: Path) -> None:
    check_run(run_config(tmp_path))
    assert not (tmp_path / "exp").exists()
    (tmp_path / "exp").write_text("a file", encoding="utf-8")
    with pytest.raises(LabError, match="is a file, not a folder"):
        check_run(run_config(tmp_path))


def test_a_recipe_that_needs_negatives_stops_before_any_work(
    data_dir: Path, tmp_path: Path
) -> None:
    from conftest import record, write_jsonl

    from inventory import pipeline
    from inventory.datasets import DataError

    write_jsonl(data_dir / "train.jsonl", [record("descale the machine", ["Run the cycle."])])
    argv = ["--data-dir", str(data_dir), "--output-dir", str(tmp_path / "out"),
            "--base-model", str(tmp_path / "no-such-model")]  # fmt: skip
    config = parse_args("exp.py", DEFAULTS, argv)
    with pytest.raises(DataError, match=r'train\.jsonl: no record has negatives \("neg"\)'):
        pipeline.start(config, needs=("neg",))  # before the (missing) model is loaded
    assert not (tmp_path / "out").exists()
