"""A run's output folder: results/<experiment>/ with final/, eval/, plots/ and run.json.

An earlier run is never replaced unless the user passes --overwrite, and even then only a folder
that holds a run.json (so a mistyped --output-dir cannot delete unrelated files).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from inventory import distributed
from inventory.config import RunConfig
from inventory.errors import LabError

RUN_FILE = "run.json"


@dataclass(frozen=True)
class Run:
    dir: Path

    @property
    def final_dir(self) -> Path:
        return self.dir / "final"

    @property
    def eval_dir(self) -> Path:
        return self.dir / "eval"

    @property
    def plots_dir(self) -> Path:
        return self.dir / "plots"

    @property
    def train_log(self) -> Path:
        return self.dir / "train_log.json"


@distributed.main_process
def check_run(config: RunConfig) -> None:
    """Fail early, without writing anything, when start_run would refuse the output folder."""
    out = config.output_dir
    if out.is_file():
        raise LabError(f"{out} is a file, not a folder for results")
    if out.exists() and any(out.iterdir()):
        if not config.overwrite:
            raise LabError(f"{out} already holds a run; pass --overwrite to replace it")
        if not (out / RUN_FILE).is_file():
            raise LabError(f"{out} is not empty and holds no {RUN_FILE}; refusing to delete it")


@distributed.main_process
def start_run(config: RunConfig) -> Run:
    """Create the run folder (replacing an earlier run only with --overwrite), record the config."""
    check_run(config)
    out = config.output_dir
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    record = asdict(config) | {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "processes": distributed.world_size(),  # the batch size is per process
    }
    (out / RUN_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return Run(out)
