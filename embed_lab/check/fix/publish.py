"""Swap repaired files in for the originals: all of them or none, the originals kept aside.

Each repaired file is first written to a temporary file in the data folder. The originals are
then linked (else copied) into the backup folder and each file is replaced with os.replace,
which is atomic; should one replace fail, the files already replaced get their originals back
and the backup folder goes, so a failure leaves the data as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

BEFORE_FIX = ".before-fix"
REPORT = "fix-report.jsonl"
MINED = "mined"


@dataclass(frozen=True)
class Staged:
    target: Path
    temp: Path


def temp_file(data_dir: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(prefix=f".emb-fix-{name}-", dir=data_dir)
    os.close(handle)
    return Path(path)


def backup_dir(data_dir: Path) -> tuple[Path, int]:
    """Where this fix keeps its originals, and its number: the first fix's go straight into
    data/.before-fix/, a later one's into data/.before-fix/<n>/, so no fix overwrites the
    originals an earlier one kept."""
    first = data_dir / BEFORE_FIX
    if not first.exists():
        return first, 1
    number = 2
    while (first / str(number)).exists():
        number += 1
    return first / str(number), number


def swap(staged: list[Staged], backup: Path) -> None:
    """Keep each existing target in `backup`, then replace each target by its staged file."""
    backup.mkdir(parents=True)
    replaced: list[Staged] = []
    try:
        for item in staged:
            _match_mode(item)
            if item.target.exists():
                _link_or_copy(item.target, backup / item.target.name)
        for item in staged:
            os.replace(item.temp, item.target)
            replaced.append(item)
    except BaseException:
        for item in reversed(replaced):
            _restore(backup / item.target.name, item.target)
        shutil.rmtree(backup, ignore_errors=True)
        raise


def discard(staged: list[Staged]) -> None:
    for item in staged:
        item.temp.unlink(missing_ok=True)


def move_mined(data_dir: Path, backup: Path) -> list[str]:
    """Move data/mined/ (files mined from the old train split) into the backup folder; the next
    run mines again. Returns the files moved, relative to the data folder."""
    mined = data_dir / MINED
    if not mined.is_dir() or not any(mined.iterdir()):
        return []
    files = sorted(path.relative_to(data_dir).as_posix() for path in mined.rglob("*"))
    os.replace(mined, backup / MINED)
    return files


def _match_mode(item: Staged) -> None:
    """The original's permissions (a temporary file is private), or the umask's for a new file."""
    if item.target.exists():
        shutil.copymode(item.target, item.temp)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(item.temp, 0o666 & ~umask)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _restore(original: Path, target: Path) -> None:
    if not original.exists():  # the file was new (the first fix report)
        target.unlink(missing_ok=True)
        return
    temp = temp_file(target.parent, "restore")
    temp.unlink()
    _link_or_copy(original, temp)
    os.replace(temp, target)
