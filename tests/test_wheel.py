"""The wheel carries the template: install it in a fresh venv and run `emb init` anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
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
    assert "embed_lab/template/{{cookiecutter.lab_name}}/inventory/contract.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_installed_wheel_inits_a_lab_without_a_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # emb's dependencies come from this test run's environment (offline); embed_lab itself and
    # its template only from the wheel: a .pth path is not a site dir, so the checkout's
    # editable-install hook is not followed.
    site_packages = next(env_dir.glob("lib/python3*/site-packages"))
    (site_packages / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
          "--no-index", str(wheel)], tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": "", "HOME": str(tmp_path)}
    _run([str(env_dir / "bin" / "emb"), "init", "wheel-lab", "--no-input", "--no-git"],
         elsewhere, env=env)
    lab = elsewhere / "wheel-lab"
    assert (lab / "data" / "train.jsonl").stat().st_size > 0
    assert 'LAB_NAME = "wheel-lab"' in (lab / "inventory" / "settings.py").read_text()
    # `emb check` applies the contract from the wheel's template to the new lab's data.
    checked = _run([str(env_dir / "bin" / "emb"), "check", str(lab / "data"), "--json"],
                   elsewhere, env=env)  # fmt: skip
    assert '"ok": true' in checked.stdout
    where = _run([str(python), "-c", "import embed_lab; print(embed_lab.__file__)"], elsewhere)
    assert str(REPO_ROOT) not in where.stdout
