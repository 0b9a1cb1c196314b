import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from inventory import liveness, runs
from inventory.config import TrainConfig, parse_args
from inventory.liveness import run_state
from inventory.runs import start_run

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def running(pid: int, host: str, heartbeat: datetime = NOW) -> dict:
    return {
        "status": "running",
        "started": "2020-01-01T00:00:00+00:00",
        "process": {"pid": pid, "host": host},
        "phase": "training",
        "heartbeat": heartbeat.isoformat(timespec="seconds"),
    }


def ended_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                             capture_output=True, text=True, check=True)  # fmt: skip
    return int(process.stdout)


def test_a_run_whose_process_is_gone_on_this_host_has_died() -> None:
    state = run_state(running(ended_pid(), socket.gethostname()), NOW)
    assert (state.status, state.phase) == ("died", "training")
    assert state.describe() == "died during training, last heartbeat 2026-11-30 12:00:00 UTC"


def test_a_run_whose_process_lives_is_running() -> None:
    record = running(os.getpid(), socket.gethostname()) | {"started": liveness.now()}
    assert run_state(record).status == "running"


def test_a_pid_reused_by_a_newer_process_is_not_the_run() -> None:
    pytest.importorskip("psutil")
    record = running(os.getpid(), socket.gethostname())
    record["started"] = "2000-01-01T00:00:00+00:00"  # long before this process started
    assert run_state(record).status == "died"


@pytest.mark.parametrize(("silent_for", "status"), [(5, "running"), (45, "died")])
def test_on_another_host_a_stale_heartbeat_means_died(silent_for: int, status: str) -> None:
    record = running(12345, "another-host", NOW - timedelta(minutes=silent_for))
    assert run_state(record, NOW).status == status


@pytest.mark.parametrize(
    "record",
    [
        {"status": "completed", "process": {"pid": 1, "host": "another-host"}},
        {"status": "running"},  # a run from a lab that recorded no process: taken at its word
    ],
)
def test_other_records_keep_their_status(record: dict) -> None:
    assert run_state(record, NOW).status == record["status"]


def test_the_manifest_names_its_process_phase_and_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_args("exp.py", TrainConfig(), ["--output-dir", str(tmp_path / "exp")])
    with start_run(config) as run:

        def manifest() -> dict:
            return json.loads(run.manifest_path.read_text(encoding="utf-8"))

        assert manifest()["process"] == {"pid": os.getpid(), "host": socket.gethostname()}
        with run.phase("training"):
            assert manifest()["phase"] == "training"
            first = manifest()["heartbeat"]
            monkeypatch.setattr(liveness, "now", lambda: "2030-01-01T00:00:00+00:00")
            runs.heartbeat()  # within HEARTBEAT_S of the last one: nothing written
            assert manifest()["heartbeat"] == first
            monkeypatch.setattr(liveness, "HEARTBEAT_S", 0.0)
            runs.heartbeat()
            assert manifest()["heartbeat"] == "2030-01-01T00:00:00+00:00"
        assert run_state(manifest()).status == "running"
    assert json.loads(run.manifest_path.read_text(encoding="utf-8"))["status"] == "completed"
