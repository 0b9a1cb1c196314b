"""Helpers shared by the cookiecutter hooks and `emb init`.

Standard library only: plain `cookiecutter` must work without embed_lab installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# A PEP 508 project name: it becomes the folder, the pyproject name and the README title.
LAB_NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
LAB_NAME_RULE = (
    "use letters, digits, '.', '_' and '-', starting and ending with a letter or digit "
    "(for example 'my-lab')"
)
SAMPLE_SPLITS = ("train.jsonl", "dev.jsonl", "gold.jsonl")
GIT_TIMEOUT_S = 30


def lab_name_error(name: str) -> str | None:
    """Why `name` cannot be a lab name, or None when it can."""
    if not name.strip():
        return "the lab name is empty; " + LAB_NAME_RULE
    if len(name) > 100:
        return "the lab name is longer than 100 characters"
    if not LAB_NAME_PATTERN.match(name):
        return f"the lab name {name!r} is not allowed; " + LAB_NAME_RULE
    return None


def base_model_error(model: str) -> str | None:
    """Why `model` cannot be a base model (a hub id or a local path), or None when it can."""
    if not model.strip():
        return "the base model is empty; give a hub id or a local path"
    if any(ord(char) < 32 or ord(char) == 127 for char in model):
        return f"the base model {model!r} contains control characters (newlines, tabs, ...)"
    return None


def write_sample_data(source_dir: Path, lab_dir: Path) -> list[str]:
    """Copy the sample splits into lab_dir/data/, keeping any split that already exists.

    Returns the names of the splits that were kept rather than written.
    """
    data_dir = lab_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    kept = []
    for split in SAMPLE_SPLITS:
        target = data_dir / split
        if target.exists():
            kept.append(split)
            continue
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source_dir / split, partial)
        partial.replace(target)
    return kept


def is_yes(value: object) -> bool:
    """Cookiecutter passes booleans, or strings when set on its command line."""
    return str(value).strip().lower() in {"1", "true", "yes", "y", "on"}


def _git(lab_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=lab_dir,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_S,
        check=False,
    )


def init_git(lab_dir: Path, files: Iterable[str] | None = None) -> str:
    """Make lab_dir a git repository with a first commit, never failing generation.

    `files` limits the first commit to the lab's own files (None: everything).
    Returns a one-line account of what happened, for the user.
    """
    if shutil.which("git") is None:
        return "warning: git not found; skipped 'git init'"
    try:
        inside = _git(lab_dir, "rev-parse", "--is-inside-work-tree")
        if inside.returncode == 0 and inside.stdout.strip() == "true":
            return "git: already inside a git work tree; no new repository created"
        if _git(lab_dir, "init", "-q", "-b", "main").returncode != 0:
            # git older than 2.28 has no -b
            if _git(lab_dir, "init", "-q").returncode != 0:
                return "warning: 'git init' failed; the lab was created without git"
            _git(lab_dir, "symbolic-ref", "HEAD", "refs/heads/main")
        added = _git(lab_dir, "add", "--", *(sorted(files) if files is not None else ["."]))
        if added.returncode != 0:
            return "git: initialised an empty repository (could not stage the lab's files)"
        commit = _git(lab_dir, "commit", "-q", "--no-verify", "-m", "Create lab with embed-lab")
        if commit.returncode != 0:
            return (
                "git: initialised a repository with the lab staged; commit skipped "
                "(set user.name and user.email, then run 'git commit')"
            )
        return "git: initialised a repository with a first commit"
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"warning: git failed ({error}); the lab was created without git"


def fail(message: str) -> None:
    """End a hook with a one-line error."""
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1)
