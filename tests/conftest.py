"""Shared fixtures: bake a lab with pytest-cookies and look at what came out."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tiny_model import build_tiny_model, lab_texts

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Labs commit their first files; give git an identity where the machine has none.
for _role in ("AUTHOR", "COMMITTER"):
    os.environ.setdefault(f"GIT_{_role}_NAME", "embed-lab tests")
    os.environ.setdefault(f"GIT_{_role}_EMAIL", "tests@embed-lab.invalid")

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO_ROOT / "hooks" / "sample_data"  # what a baked lab's data/ starts with


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (outside .git) with its contents."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@dataclass
class BakedLab:
    path: Path
    exit_code: int
    exception: BaseException | None

    def files(self) -> set[str]:
        return set(tree(self.path))

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *command], cwd=self.path, capture_output=True, text=True, check=False
        )


@pytest.fixture
def bake(cookies) -> Callable[..., BakedLab]:
    """bake(**options) renders the template with pytest-cookies; git is off unless asked."""

    def _bake(**options: object) -> BakedLab:
        result = cookies.bake(extra_context={"init_git": False, **options}, template=str(REPO_ROOT))
        path = result.project_path if result.exception is None else Path()
        return BakedLab(path, result.exit_code, result.exception)

    return _bake


@pytest.fixture(scope="module")
def lab(cookies_session) -> Path:
    """A lab baked once per test module, for tests that run its experiments."""
    result = cookies_session.bake(
        extra_context={"lab_name": "pipeline-lab", "init_git": False}, template=str(REPO_ROOT)
    )
    assert result.exit_code == 0, result.exception
    return result.project_path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random BERT (tests/tiny_model.py) with a vocabulary from a baked lab's data (the
    template's sample splits), built once for the whole session."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", lab_texts(SAMPLE_DATA))


def add_recipe(lab: Path, recipe: str, experiment: str) -> Path:
    """Render recipes/<recipe> into `lab` as experiments/<experiment>.py (existing files kept),
    as plain cookiecutter does; returns the experiment file."""
    from cookiecutter.main import cookiecutter

    cookiecutter(
        str(REPO_ROOT / "recipes" / recipe),
        no_input=True,
        extra_context={"lab": lab.name, "experiment": experiment},
        output_dir=str(lab.parent),
        overwrite_if_exists=True,
        skip_if_file_exists=True,
    )
    return lab / "experiments" / f"{experiment}.py"
