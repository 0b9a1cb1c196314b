"""Copy a rendered lab into a folder that may already hold a project, never overwriting a file."""

from __future__ import annotations

import filecmp
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

IGNORED_NAMES = {"__pycache__", ".DS_Store"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}
APPENDABLE = {".gitignore"}


@dataclass
class MergeReport:
    created: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    appended: dict[str, list[str]] = field(default_factory=dict)


def rendered_files(source: Path) -> list[str]:
    """Relative paths of the files to merge, without caches and bytecode."""
    files = []
    for root, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_NAMES)
        for name in sorted(names):
            if name in IGNORED_NAMES or Path(name).suffix in IGNORED_SUFFIXES:
                continue
            files.append((Path(root) / name).relative_to(source).as_posix())
    return files


def _missing_lines(existing: Path, wanted: Path) -> list[str]:
    # The user's file may be in any encoding; only our (ASCII) lines need to match.
    text = existing.read_bytes().decode("utf-8", errors="surrogateescape")
    present = {line.strip() for line in text.splitlines()}
    return [
        line
        for line in wanted.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and line.strip() not in present
    ]


def _append_lines(target: Path, lines: list[str]) -> None:
    text = target.read_bytes()
    separator = "" if not text or text.endswith(b"\n") else "\n"
    with target.open("a", encoding="utf-8") as handle:
        handle.write(separator + "\n# added by embed-lab\n" + "\n".join(lines) + "\n")


def _make_dirs(folder: Path, created: list[Path]) -> bool:
    """Create folder and its missing parents; False when a file stands in the way."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()][::-1]
    for path in missing:
        if not path.parent.is_dir():
            return False
        path.mkdir()
        created.append(path)
    return folder.is_dir()


def merge_tree(source: Path, target: Path) -> MergeReport:
    """Copy source's files into target. On an error, remove what this call created."""
    report = MergeReport()
    created_dirs: list[Path] = []
    partial: Path | None = None
    try:
        if not _make_dirs(target, created_dirs):
            raise NotADirectoryError(f"{target} is not a folder")
        for relative in rendered_files(source):
            src, dst = source / relative, target / relative
            if not _make_dirs(dst.parent, created_dirs):
                report.skipped.append(relative)
            elif not dst.exists() and not dst.is_symlink():
                partial = dst.with_name(dst.name + ".embed-lab-partial")
                shutil.copy2(src, partial)
                partial.replace(dst)
                partial = None
                report.created.append(relative)
            elif dst.is_file() and filecmp.cmp(src, dst, shallow=False):
                report.identical.append(relative)
            elif dst.name in APPENDABLE and dst.is_file():
                missing = _missing_lines(dst, src)
                if missing:
                    report.appended[relative] = missing
                else:
                    report.identical.append(relative)
            else:
                report.skipped.append(relative)
        # Appends come last: they are the one change a rollback could not undo.
        for relative, lines in report.appended.items():
            _append_lines(target / relative, lines)
    except BaseException:
        if partial is not None:
            partial.unlink(missing_ok=True)
        for relative in report.created:
            (target / relative).unlink(missing_ok=True)
        for folder in reversed(created_dirs):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    return report
