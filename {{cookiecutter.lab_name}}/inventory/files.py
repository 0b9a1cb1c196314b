"""Atomic file writes: a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_text(path: Path, text: str) -> Path:
    """Write `text` to a temporary file in the same folder, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes it private; results are ordinary files
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_json(path: Path, missing: Any = None) -> Any:
    """The JSON in `path`, or `missing` when there is no such file."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else missing


def write_json(path: Path, data: Any) -> Path:
    """Save `data` as indented JSON, atomically."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")
