"""`cookiecutter`, `emb init` (also with the default recipe named) and pytest-cookies bake the
same lab."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, tree

EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_way_to_bake_gives_the_same_lab(tmp_path, bake):
    options = ["lab_name=parity-lab", "base_model=BAAI/bge-small-en-v1.5"]

    (tmp_path / "cc").mkdir()
    _run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            str(REPO_ROOT),
            "--no-input",
            *options,
            "init_git=no",
            "-o",
            str(tmp_path / "cc"),
        ],
        tmp_path,
    )
    by_cookiecutter = tree(tmp_path / "cc" / "parity-lab")

    _run(
        [
            *EMB,
            "init",
            str(tmp_path / "emb" / "parity-lab"),
            "--no-input",
            "--base-model",
            "BAAI/bge-small-en-v1.5",
        ],
        tmp_path,
    )
    by_emb = tree(tmp_path / "emb" / "parity-lab")

    _run(
        [
            *EMB,
            "init",
            str(tmp_path / "recipe" / "parity-lab"),
            "--no-input",
            "--no-git",
            "--base-model",
            "BAAI/bge-small-en-v1.5",
            "--recipe",
            "in-batch-negatives",
        ],
        tmp_path,
    )
    by_recipe = tree(tmp_path / "recipe" / "parity-lab")

    by_cookies = tree(bake(lab_name="parity-lab", base_model="BAAI/bge-small-en-v1.5").path)

    assert by_cookiecutter.keys() == by_emb.keys() == by_recipe.keys() == by_cookies.keys()
    for relative in by_cookiecutter:
        same = by_cookiecutter[relative] == by_emb[relative] == by_recipe[relative]
        assert same and by_recipe[relative] == by_cookies[relative], relative
    assert (tmp_path / "emb" / "parity-lab" / ".git").is_dir()
