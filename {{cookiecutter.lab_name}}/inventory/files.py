"""Atomic file writes: a crash leaves the old file or the new one, never half of one.

A full disk, a permission denied or a read-only file system met while writing becomes a one-line
`LabError` saying what could not be written and where (see `writing`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from inventory.errors import LabError

# What a user can fix on their side: free space, permissions, a read-only mount.
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}
FULL = {errno.ENOSPC, errno.EDQUOT}
RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")  # how safetensors and tokenizers report one


def write_text(path: Path, text: str) -> Path:
    """Write `text` to a temporary file in the same folder, then rename it over `path`."""
    with writing("writing", path):
        return write_stream(path, lambda file: file.write(text.encode("utf-8")))


def write_stream(path: Path, fill: Callable[[BinaryIO], object]) -> Path:
    """Let `fill` write a temporary file (binary) in the same folder, then rename it over `path`:
    a reader sees the old file or the whole new one. Large arrays are written without a copy.
    Errors pass unchanged (wrap the call in `writing` for the one-line error)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes it private; results are ordinary files
        with os.fdopen(handle, "wb") as file:
            fill(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_folder(folder: Path, save: Callable[[Path], object], what: str, needed: int = 0) -> Path:
    """Let `save` fill a temporary folder beside `folder`, then rename it into place.

    A failure removes the partial folder, so `folder` is either whole or absent (a killed process
    can leave only the hidden .<name>.partial). `what` and `needed` (bytes, 0 if unknown) word
    the error; see `writing`.
    """
    partial = folder.with_name(f".{folder.name}.partial")
    with writing(what, folder, needed):
        try:
            shutil.rmtree(partial, ignore_errors=True)
            save(partial)
            if folder.exists():  # rewritten: the old one goes once the new one is complete
                old = folder.with_name(f".{folder.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(folder, old)
                os.replace(partial, folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(partial, folder)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    return folder


@contextlib.contextmanager
def writing(what: str, where: Path, needed: int = 0) -> Iterator[None]:
    """Turn a full disk, a permission denied or a read-only file system met in the block into
    one line: "no space left on device while saving the model to results/.../final (needs ~90 MB,
    65 MB free)". Other errors pass unchanged; an inner `writing` has the last word."""
    try:
        yield
    except LabError:
        raise
    except Exception as error:
        code = write_errno(error)
        if code is None:
            raise
        raise LabError(write_failure(code, what, where, needed)) from None


def write_errno(error: BaseException) -> int | None:
    """The errno of a write the user can fix (full disk, no permission, read-only), else None.

    Libraries written in Rust (safetensors, tokenizers) put it in the message: "(os error 28)".
    """
    code = error.errno if isinstance(error, OSError) else None
    if code is None and (found := RUST_OS_ERROR.search(str(error))):
        code = int(found.group(1))
    return code if code in WRITE_ERRORS else None


def write_failure(code: int, what: str, where: Path, needed: int = 0) -> str:
    """The one line for a failed write: reason, what was being written, where, and the space
    needed against the space free when the disk is full and the need is known."""
    line = f"{reason(code)} while {what} {where}"
    if code in FULL and needed:
        line += f" (needs ~{size(needed)}, {size(free_space(where))} free)"
    return line


def check_space(folder: Path, needed: int, what: str) -> None:
    """Fail now, before the work, when `folder`'s disk cannot hold `needed` bytes."""
    free = free_space(folder)
    if free < needed:
        raise LabError(f"{reason(errno.ENOSPC)} for {what} in {folder} "
                       f"(needs ~{size(needed)}, {size(free)} free); free some space or pass "
                       "--output-dir")  # fmt: skip


def check_writable(folder: Path) -> None:
    """Fail now when `folder` (or, before it exists, its nearest existing parent) cannot take a
    file: no permission, a read-only file system. Leaves nothing behind."""
    existing = next(parent for parent in (folder, *folder.parents) if parent.exists())
    try:
        with tempfile.TemporaryFile(dir=existing):  # unnamed where the system allows
            pass
    except OSError as error:
        code = write_errno(error)
        if code is None:
            raise
        raise LabError(
            f"{existing} cannot be written ({reason(code)}): fix that, or pass "
            "--output-dir to keep the results elsewhere"
        ) from None


def reason(code: int) -> str:
    """The reason in words: no space left on device, permission denied, read-only file system."""
    text = os.strerror(code)
    return text[:1].lower() + text[1:]


def free_space(folder: Path) -> int:
    """Bytes free on the disk that holds `folder` (or its nearest existing parent)."""
    existing = next(parent for parent in (folder, *folder.parents) if parent.exists())
    return shutil.disk_usage(existing).free


def size(count: float) -> str:
    """A byte count for people: "65 MB", "1.2 GB", "340 kB"."""
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            break
        count /= 1000
    return f"{count:.1f} {unit}" if count < 10 and unit != "B" else f"{count:.0f} {unit}"


def read_json(path: Path, missing: Any = None) -> Any:
    """The JSON in `path`, or `missing` when there is no such file."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else missing


def write_json(path: Path, data: Any) -> Path:
    """Save `data` as indented JSON, atomically."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")
