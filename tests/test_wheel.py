"""The wheel carries the template: install it in a fresh venv and run `emb init` anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _uv() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    return find_uv_bin()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out)], REPO_ROOT)
    return next(out.glob("embed_lab-*.whl"))


def test_wheel_holds_the_template_and_no_bytecode(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "embed_lab/template/cookiecutter.json" in names
    assert "embed_lab/template/hooks/labkit.py" in names
    assert "embed_lab/template/hooks/sample_data/gold.jsonl" in names
    assert "embed_lab/template/{{cookiecutter.lab_name}}/inventory/settings.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_installed_wheel_inits_a_lab_without_a_checkout(wheel, tmp_path):
    uv = _uv()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=uv is None)
    python = env_dir / "bin" / "python"
    if uv:  # same result as pip, in a fraction of the time
        _run([uv, "pip", "install", "-q", "--python", str(python), str(wheel)], tmp_path)
    else:
        _run([str(python), "-m", "pip", "install", "-q", str(wheel)], tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": "", "HOME": str(tmp_path)}
    _run([str(env_dir / "bin" / "emb"), "init", "wheel-lab", "--no-input", "--no-git"],
         elsewhere, env=env)
    lab = elsewhere / "wheel-lab"
    assert (lab / "data" / "train.jsonl").stat().st_size > 0
    assert 'LAB_NAME = "wheel-lab"' in (lab / "inventory" / "settings.py").read_text()
    where = _run([str(python), "-c", "import embed_lab; print(embed_lab.__file__)"], elsewhere)
    assert str(REPO_ROOT) not in where.stdout
