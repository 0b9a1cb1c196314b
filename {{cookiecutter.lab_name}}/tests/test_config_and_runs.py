import json
from pathlib import Path

import pytest

from inventory.config import LAB_ROOT, TrainConfig, parse_args
from inventory.errors import LabError
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
    assert not config.overwrite


def test_flags_override_the_defaults(tmp_path: Path) -> None:
    argv = ["--base-model", "some/model", "--data-dir", str(tmp_path), "--epochs", "3",
            "--batch-size", "4", "--learning-rate", "0.01", "--seed", "7",
            "--output-dir", str(tmp_path / "out"), "--overwrite"]  # fmt: skip
    config = parse_args("exp.py", DEFAULTS, argv)
    assert (config.base_model, config.data_dir, config.output_dir, config.overwrite) == (
        "some/model", tmp_path, tmp_path / "out", True,
    )  # fmt: skip
    assert config.train == TrainConfig(epochs=3, batch_size=4, learning_rate=0.01, seed=7)


def test_nonsense_values_are_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args("exp.py", DEFAULTS, ["--epochs", "0"])
    assert "--epochs must be at least 1" in capsys.readouterr().err


def run_config(tmp_path: Path, overwrite: bool = False):
    return parse_args("exp.py", DEFAULTS, ["--output-dir", str(tmp_path / "run")]
                      + (["--overwrite"] if overwrite else []))  # fmt: skip


def test_an_earlier_run_is_kept_unless_overwrite_is_given(tmp_path: Path) -> None:
    run = start_run(run_config(tmp_path))
    assert json.loads((run.dir / "run.json").read_text(encoding="utf-8"))["name"] == "exp"
    (run.dir / "keep.txt").write_text("earlier", encoding="utf-8")
    with pytest.raises(LabError, match="already holds a run; pass --overwrite"):
        start_run(run_config(tmp_path))
    assert (run.dir / "keep.txt").read_text(encoding="utf-8") == "earlier"
    start_run(run_config(tmp_path, overwrite=True))
    assert not (run.dir / "keep.txt").exists()


def test_overwrite_never_deletes_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(LabError, match="holds no run.json; refusing to delete it"):
        start_run(run_config(tmp_path, overwrite=True))
    assert (tmp_path / "run" / "thesis.tex").exists()


def test_check_run_writes_nothing(tmp_path: Path) -> None:
    check_run(run_config(tmp_path))
    assert not (tmp_path / "run").exists()
    (tmp_path / "run").write_text("a file", encoding="utf-8")
    with pytest.raises(LabError, match="is a file, not a folder"):
        check_run(run_config(tmp_path))
