"""Is a "running" run still alive? Its manifest.json says which process keeps it and when it was
last heard from, so a run whose process was killed (SIGKILL, the OOM killer, a lost machine) is
shown as died instead of running forever.

The manifest's "process" holds the pid and host of the process that keeps the record (rank 0
under a launcher); "heartbeat" is refreshed at each phase and every HEARTBEAT_S seconds during
long ones; "phase" is the step the run was in. A running run has died when, on the same host, its
process is gone, or, seen from another host, its heartbeat is older than STALE_S.

Standard library only (psutil is used when installed): `emb` loads this file too.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

HEARTBEAT_S = 60.0
# Long enough for a step that sends no heartbeat (indexing a large corpus with BM25, loading).
STALE_S = 30 * 60.0


@dataclass(frozen=True)
class RunState:
    status: str  # the recorded status, or "died"
    phase: str | None  # the step the run was in, if the manifest says
    heartbeat: str | None  # when the run was last heard from (ISO 8601, UTC)

    def describe(self) -> str:
        """The status, or for a dead run: died during training, last heartbeat 2026-11-30
        12:03:15 UTC."""
        if self.status != "died":
            return self.status
        during = f" during {self.phase}" if self.phase else ""
        when = (self.heartbeat or "").replace("T", " ")[:19]
        return f"died{during}" + (f", last heartbeat {when} UTC" if when else "")


def this_process() -> dict[str, Any]:
    """The manifest's "process": who keeps the record."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_state(record: dict[str, Any], at: datetime | None = None) -> RunState:
    """How a run stands, from its manifest: what `emb runs`, `emb compare` and the pages show."""
    status = str(record.get("status") or "?")
    phase, heartbeat = record.get("phase"), record.get("heartbeat")
    if status == "running" and has_died(record, at):
        status = "died"
    return RunState(status, phase, heartbeat)


def has_died(record: dict[str, Any], at: datetime | None = None) -> bool:
    """True for a run recorded as running whose process is gone or silent (see the docstring).

    A manifest without "process" (an older lab) is taken at its word.
    """
    process = record.get("process") or {}
    pid, host = process.get("pid"), process.get("host")
    if record.get("status") != "running" or not isinstance(pid, int) or not host:
        return False
    if host == socket.gethostname():
        return not _alive(pid, _timestamp(record.get("started")))
    heartbeat = _timestamp(record.get("heartbeat"))
    if heartbeat is None:
        return False
    return ((at or datetime.now(timezone.utc)).timestamp() - heartbeat) > STALE_S


def _alive(pid: int, started: float | None) -> bool:
    """Whether process `pid` on this host can be the run's: it exists and, when psutil can tell,
    it was started no later than the run (so a reused pid is not taken for the run)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:
        return False
    try:
        import psutil
    except ImportError:
        return True
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # ended, not yet collected by its parent
            return False
        created = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # not ours to inspect: it exists
        return True
    return started is None or created <= started + 1


def _timestamp(value: Any) -> float | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
