"""The wheel carries the template: install it in a fresh venv and run `emb init` anywhere."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, tree

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


def test_wheel_holds_every_built_in_recipe_as_real_files(wheel):
    archive = zipfile.ZipFile(wheel)
    recipes = [path for path in (REPO_ROOT / "recipes").iterdir() if path.is_dir()]
    assert recipes
    for recipe in recipes:
        for relative, content in tree(recipe).items():  # symlinks followed: the targets' bytes
            info = archive.getinfo(f"embed_lab/template/recipes/{recipe.name}/{relative}")
            assert stat.S_ISREG(info.external_attr >> 16), info.filename
            assert archive.read(info) == content, info.filename


def test_installed_wheel_inits_a_lab_without_a_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # emb's dependencies come from this test run's environment (offline); embed_lab itself and
    # its template only from the wheel: a .pth path is not a site dir, so the checkout's
    # editable-install hook is not followed.
    site_packages = next(env_dir.glob("lib/python3*/site-packages"))
    (site_packages / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        tmp_path,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": "", "HOME": str(tmp_path)}
    _run(
        [str(env_dir / "bin" / "emb"), "init", "wheel-lab", "--no-input", "--no-git"],
        elsewhere,
        env=env,
    )
    lab = elsewhere / "wheel-lab"
    assert (lab / "data" / "train.jsonl").stat().st_size > 0
    assert 'LAB_NAME = "wheel-lab"' in (lab / "inventory" / "settings.py").read_text()
    # `emb check` applies the contract from the wheel's template to the new lab's data.
    checked = _run([str(env_dir / "bin" / "emb"), "check", str(lab / "data"), "--json"],
                   elsewhere, env=env)  # fmt: skip
    assert '"ok": true' in checked.stdout
    # Built-in recipes come from the wheel too.
    listed = _run([str(env_dir / "bin" / "emb"), "recipes", "--json"], elsewhere, env=env)
    built_in = {entry["name"]: entry for entry in json.loads(listed.stdout)}
    assert {path.name for path in (REPO_ROOT / "recipes").iterdir()} <= set(built_in)
    assert str(REPO_ROOT) not in built_in["in-batch-negatives"]["path"]
    added = _run([str(env_dir / "bin" / "emb"), "new", "x", "--recipe", "in-batch-negatives"],
                 lab, env=env)  # fmt: skip
    assert "Added experiments/exp_02_x.py" in added.stdout
    assert (lab / "experiments" / "exp_02_x.py").read_bytes() == (
        lab / "experiments" / "exp_01_baseline.py"
    ).read_bytes()
    where = _run([str(python), "-c", "import embed_lab; print(embed_lab.__file__)"], elsewhere,
                 env=env)  # fmt: skip
    assert str(REPO_ROOT) not in where.stdout
