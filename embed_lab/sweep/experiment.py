"""The experiment a sweep runs: found by name, asked for its flags, run once per trial."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embed_lab.template import load_errors

TRIAL_ENV = "EMB_SWEEP_TRIAL"  # the lab's inventory/trial.py reads these two
DESCRIBE_ENV = "EMB_SWEEP_DESCRIBE"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


class ExperimentError(Exception):
    """An experiment that cannot be swept; the CLI prints it as one line."""


def find_experiment(lab: Path, name: str) -> Path:
    """experiments/NAME, NAME.py, exp_NN_NAME.py, or a path to a file."""
    folder = lab / "experiments"
    if not folder.is_dir():
        raise ExperimentError(f"{lab.resolve()} is not a lab (no experiments/ folder)")
    stem = Path(name).name.removesuffix(".py")
    named = sorted(folder.glob(f"exp_*_{stem}.py"))
    if len(named) > 1 and not (folder / f"{stem}.py").is_file():
        found = ", ".join(path.stem for path in named)
        raise ExperimentError(f"experiment {name!r} is ambiguous: {found}")
    candidates = [folder / f"{stem}.py", *named]
    if Path(name).suffix == ".py" and Path(name).is_file():
        candidates.insert(0, Path(name))
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    known = ", ".join(sorted(p.stem for p in folder.glob("*.py"))) or "none"
    raise ExperimentError(f"no experiment {name!r} in {folder} (experiments: {known})")


def describe(lab: Path, script: Path) -> dict[str, Any]:
    """The experiment's flags, their defaults and its default search space, asked of the
    experiment itself (inventory/trial.py: it writes them and exits before any work).

    The answer is kept in .cache/sweep/ under a hash of the experiment and the inventory, so a
    resumed study or a second worker does not start the experiment once more to ask again."""
    digest = hashlib.sha256(sys.executable.encode())
    for source in (script, *sorted((lab / "inventory").glob("*.py"))):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    cached = lab / ".cache" / "sweep" / f"{digest.hexdigest()[:32]}.json"
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    description = _ask(lab, script)
    cached.parent.mkdir(parents=True, exist_ok=True)
    temporary = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(description), encoding="utf-8")
    os.replace(temporary, cached)
    return description


def _ask(lab: Path, script: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "description.json"
        env = os.environ | OFFLINE | {DESCRIBE_ENV: str(target)}
        env.pop(TRIAL_ENV, None)
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=lab,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not target.is_file():
            said = last_line(done.stderr) or f"exit status {done.returncode}"
            raise ExperimentError(
                f"{script.name} did not describe its flags ({said}); an experiment sweeps when "
                "it parses its flags with inventory.config.parse_args"
            )
        return json.loads(target.read_text(encoding="utf-8"))


def last_line(text: str) -> str:
    """The last line of `text` that says something (not CUDA's advice under a CUDA error)."""
    lines = load_errors().telling_lines(text)
    return lines[-1] if lines else ""


def last_error(log: Path) -> str:
    """A failed trial's one-line error from its output: the last "error:" line, else the last
    (CUDA's advice under a CUDA error skipped: the error line above it is the one)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = load_errors().telling_lines(text)
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or [""])[-1]


@dataclass
class TrialProcess:
    """One trial's experiment, running in its own process group so that Ctrl-C reaches the sweep
    first, which then stops the trial with one signal (its run records "interrupted")."""

    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, lab: Path, command: list[str], trial: dict[str, Any], log: Path) -> TrialProcess:
        log.parent.mkdir(parents=True, exist_ok=True)
        env = os.environ | OFFLINE | {TRIAL_ENV: json.dumps(trial)}
        env.pop(DESCRIBE_ENV, None)
        with log.open("w", encoding="utf-8") as output:
            process = subprocess.Popen(
                command,
                cwd=lab,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(process, log)

    def wait(self) -> int:
        """Wait for the trial; on Ctrl-C (or SIGTERM) pass the signal on once, wait for the run
        to record itself, then raise KeyboardInterrupt."""
        try:
            return self.process.wait()
        except KeyboardInterrupt as error:
            sent = signal.SIGTERM if str(error) == "SIGTERM" else signal.SIGINT
            self.process.send_signal(sent)
            while True:
                try:
                    self.process.wait()
                    break
                except KeyboardInterrupt:  # a second Ctrl-C: still let the run record itself
                    continue
            raise
