"""A third-party distribution registers recipes (entry-point group embed_lab.recipes) and `emb`
uses them: a throwaway package is installed offline into a fresh venv and driven by its CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "acme-recipes"
version = "1.2.3"

[project.entry-points."embed_lab.recipes"]
acme-rerank = "acme_recipes.rerank"
acme-listwise = "acme_recipes:LISTWISE"
broken-import = "acme_missing.recipe"
broken-folder = "acme_recipes:NOWHERE"
broken-json = "acme_recipes.bad_json"
in-batch-negatives = "acme_recipes.rerank"

[tool.hatch.build.targets.wheel]
packages = ["acme_recipes"]
"""
INIT = """\
from pathlib import Path

LISTWISE = Path(__file__).parent / "rerank"
NOWHERE = Path(__file__).parent / "nowhere"
"""
EXPERIMENT = '"""Acme reranking."""\n\nfrom inventory.acme_rerank import rerank\n\nrerank()\n'
MODULE = "def rerank() -> None:\n    print('reranked')\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _distribution(root: Path) -> Path:
    _write(root / "pyproject.toml", PYPROJECT)
    package = root / "acme_recipes"
    _write(package / "__init__.py", INIT)
    config = {"lab": "my-embed-lab", "experiment": "exp_02_acme", "_needs": ["pos", "corpus"],
              "_description": "Acme reranking: one line"}  # fmt: skip
    _write(package / "rerank" / "cookiecutter.json", json.dumps(config, indent=2))
    lab = package / "rerank" / "{{cookiecutter.lab}}"
    _write(lab / "experiments" / "{{cookiecutter.experiment}}.py", EXPERIMENT)
    _write(lab / "inventory" / "acme_rerank.py", MODULE)
    _write(lab / "inventory" / "losses.py", "# Acme's losses: the lab's own are kept\n")
    _write(package / "bad_json" / "cookiecutter.json", '{"lab": "x",\n  oops}\n')
    return root


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    """emb(*args, cwd) run by a fresh venv holding acme-recipes, embed_lab from this checkout."""
    root = tmp_path_factory.mktemp("plugin")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site_packages = next(env_dir.glob("lib/python3*/site-packages"))
    # This checkout first, then the test run's packages (hatchling included): all offline.
    (site_packages / "0-embed-lab.pth").write_text(f"{REPO_ROOT}\n")
    (site_packages / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {**os.environ, "PYTHONPATH": "", "HOME": str(root), "PIP_NO_INDEX": "1"}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", "--no-build-isolation", str(_distribution(root / "acme"))],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr

    def run(*args: str, cwd: Path = root) -> subprocess.CompletedProcess[str]:
        command = [str(python), "-c", "from embed_lab.cli import main; main()", *args]
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)

    return run


def test_registered_recipes_are_listed_and_broken_entries_are_one_line_each(emb):
    result = emb("recipes", "--json")
    assert result.returncode == 0, result.stderr
    listed = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert listed["acme-rerank"]["source"] == "acme-recipes 1.2.3"
    assert listed["acme-rerank"]["description"] == "Acme reranking: one line"
    assert listed["acme-rerank"]["needs"] == ["pos", "corpus"]
    assert listed["acme-listwise"]["source"] == "acme-recipes 1.2.3"
    assert listed["in-batch-negatives"]["source"] == "built-in"
    assert not {"broken-import", "broken-folder", "broken-json"} & set(listed)

    warnings = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert len(warnings) == 4, result.stderr
    assert all(line.startswith("warning: recipe ") for line in warnings)
    by_name = {line.split("'")[1]: line for line in warnings}
    assert "ModuleNotFoundError" in by_name["broken-import"]
    assert "nowhere is not a folder" in by_name["broken-folder"]
    assert "cookiecutter.json: line 2: not valid JSON" in by_name["broken-json"]
    assert "the name is taken (built-in)" in by_name["in-batch-negatives"]

    table = emb("recipes")
    assert table.returncode == 0 and "acme-recipes 1.2.3" in table.stdout


def test_new_with_a_registered_recipe(emb, tmp_path):
    made = emb("init", str(tmp_path / "lab"), "--no-input", "--no-git")
    assert made.returncode == 0, made.stderr
    lab = tmp_path / "lab"
    losses = (lab / "inventory" / "losses.py").read_text()

    result = emb("new", "acme-first", "--recipe", "acme-rerank", cwd=lab)
    assert result.returncode == 0, result.stderr
    assert (lab / "experiments" / "exp_02_acme_first.py").read_text() == EXPERIMENT
    assert (lab / "inventory" / "acme_rerank.py").read_text() == MODULE
    assert (lab / "inventory" / "losses.py").read_text() == losses
    assert "  added inventory/acme_rerank.py" in result.stdout
    assert "  kept inventory/losses.py" in result.stdout
    # the sample data has no corpus: one warning line, after adding
    assert result.stderr.strip() == (
        "warning: recipe acme-rerank needs corpus (data/corpus.jsonl is missing); "
        "add them before running the experiment"
    )

    again = emb("new", "acme-second", str(lab), "--recipe", "acme-listwise")
    assert again.returncode == 0, again.stderr
    assert (lab / "experiments" / "exp_03_acme_second.py").read_text() == EXPERIMENT
    assert "  kept inventory/acme_rerank.py (already in the lab, the same)" in again.stdout

    broken = emb("new", "x", str(lab), "--recipe", "broken-json")
    assert broken.returncode == 1
    assert broken.stderr.startswith("Error: recipe 'broken-json' from acme-recipes 1.2.3: ")
    assert len(broken.stderr.strip().splitlines()) == 1
