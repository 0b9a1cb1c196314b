"""inventory/trial.py: a run as an `emb sweep` trial; outside a sweep it does nothing."""

import json
from pathlib import Path

import pytest

from inventory import trial
from inventory.config import TrainConfig, parse_args
from inventory.losses import InBatchOptions


def test_outside_a_sweep_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(trial.TRIAL_ENV, raising=False)
    assert trial.settings() is None
    assert trial.manifest_section() == {}
    trial.report(50, 0.1)  # no study to report to, no optuna imported for it
    trial.attach(Path("results/x/1"))


def test_the_manifest_names_the_trial_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql+psycopg2://lab:s3cr@t@db.example:5432/sweeps"
    settings = {"study": "s", "trial": 7, "number": 3, "storage": url, "prune": True}
    monkeypatch.setenv(trial.TRIAL_ENV, json.dumps(settings))
    section = trial.manifest_section()["sweep"]
    masked = "postgresql+psycopg2://lab:***@db.example:5432/sweeps"
    assert section == {"study": "s", "trial": 3, "storage": masked}
    assert trial.masked("results/sweeps/s.journal") == "results/sweeps/s.journal"


def test_an_experiment_describes_its_flags_and_space(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "description.json"
    monkeypatch.setenv(trial.DESCRIBE_ENV, str(target))
    with pytest.raises(SystemExit) as stopped:
        parse_args("experiments/exp_01_x.py", TrainConfig(), [], options=InBatchOptions())
    assert stopped.value.code == 0
    described = json.loads(target.read_text(encoding="utf-8"))
    assert described["space"] == TrainConfig.SEARCH_SPACE
    flags = described["flags"]
    assert flags["learning_rate"] == {"flag": "--learning-rate", "kind": "value",
                                      "default": 5e-5}  # fmt: skip
    assert flags["cached"]["kind"] == "bool" and flags["verbose"]["kind"] == "switch"
