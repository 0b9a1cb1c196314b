"""`emb init`: empty folders, existing projects, reruns, git, and errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from embed_lab import merge
from embed_lab.cli import main
from embed_lab.scaffold import dependency_line
from tests.conftest import REPO_ROOT, tree


def emb(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_init_in_empty_folder_uses_folder_name(tmp_path, monkeypatch):
    lab = tmp_path / "retrieval-lab"
    lab.mkdir()
    monkeypatch.chdir(lab)
    result = emb("init", ".", "--no-input", "--no-git")
    assert result.exit_code == 0, result.output
    assert 'LAB_NAME = "retrieval-lab"' in (lab / "inventory/settings.py").read_text()
    assert (lab / "data/gold.jsonl").is_file()
    assert not (lab / ".git").exists()
    assert "files created" in result.output


def test_init_creates_missing_folders(tmp_path):
    result = emb("init", str(tmp_path / "a" / "b" / "lab"), "--no-input", "--no-git")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a/b/lab/pyproject.toml").is_file()


def _uv_like_project(path: Path) -> dict[str, bytes]:
    path.mkdir()
    (path / "pyproject.toml").write_text('[project]\nname = "shop-search"\nversion = "0.3.0"\n')
    (path / "README.md").write_text("# Shop search\nOur notes.\n")
    (path / "main.py").write_text("print('hello')\n")
    (path / ".gitignore").write_text(".venv\n__pycache__/\n")
    (path / "data").mkdir()
    (path / "data/train.jsonl").write_text('{"query": "ours", "pos": ["our own data"]}\n')
    return tree(path)


def test_init_into_existing_project_changes_nothing_of_the_users(tmp_path):
    project = tmp_path / "shop-search"
    before = _uv_like_project(project)
    result = emb("init", str(project), "--no-input", "--no-git")
    assert result.exit_code == 0, result.output
    after = tree(project)
    for relative in set(before) - {".gitignore"}:
        assert after[relative] == before[relative], relative
    for skipped in ("pyproject.toml", "README.md", "data/train.jsonl"):
        assert f"skipped {skipped}" in result.output
    assert "uv add 'sentence-transformers[train]>=6.2,<7'" in result.output
    assert "uv add --dev 'pytest>=8'" in result.output  # the lab's README runs pytest
    assert emb("init", str(tmp_path / "lab"), "--no-input", "--no-git").exit_code == 0
    lab_pyproject = tomllib.loads((tmp_path / "lab" / "pyproject.toml").read_text())
    line = dependency_line(
        lab_pyproject["project"]["dependencies"], lab_pyproject["dependency-groups"]["dev"]
    )
    assert line in result.output  # the hint adds exactly what the lab's pyproject.toml holds
    quickstart = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"\n{line}\n" in quickstart, "README's quickstart uv add line differs from the lab's"
    gitignore = (project / ".gitignore").read_text()
    assert gitignore.startswith(".venv\n__pycache__/\n")
    assert "results/" in gitignore.splitlines()
    assert gitignore.count("__pycache__/") == 1
    assert (project / "inventory/settings.py").is_file()
    assert (project / "data/dev.jsonl").is_file()


def test_gitignore_in_another_encoding_is_appended_to_not_rewritten(tmp_path):
    (tmp_path / ".gitignore").write_bytes(b"caf\xe9/\n")
    result = emb("init", str(tmp_path), "--no-input", "--no-git", "--name", "lab")
    assert result.exit_code == 0, result.output
    content = (tmp_path / ".gitignore").read_bytes()
    assert content.startswith(b"caf\xe9/\n") and b"\nresults/\n" in content


def test_rerun_is_safe_and_keeps_user_edits(tmp_path):
    lab = tmp_path / "lab"
    assert emb("init", str(lab), "--no-input").exit_code == 0
    (lab / "inventory/settings.py").write_text('BASE_MODEL = "mine"\n')
    (lab / "data/dev.jsonl").unlink()
    before = tree(lab)
    result = emb("init", str(lab), "--no-input")
    assert result.exit_code == 0, result.output
    after = tree(lab)
    assert set(after) - set(before) == {"data/dev.jsonl"}, "only the deleted file comes back"
    assert all(after[relative] == before[relative] for relative in before)
    assert "skipped inventory/settings.py" in result.output
    third = emb("init", str(lab), "--no-input")
    assert tree(lab) == after
    assert "0 files created" in third.output


def test_init_makes_a_repository_with_a_first_commit(tmp_path):
    lab = tmp_path / "lab"
    result = emb("init", str(lab), "--no-input")
    assert result.exit_code == 0, result.output
    log = subprocess.run(["git", "log", "--oneline"], cwd=lab, capture_output=True, text=True)
    assert log.stdout.count("\n") == 1
    files = subprocess.run(["git", "ls-files"], cwd=lab, capture_output=True, text=True)
    assert set(files.stdout.split()) == set(tree(lab))


def test_init_commits_only_the_labs_files_in_an_existing_folder(tmp_path):
    project = tmp_path / "project"
    _uv_like_project(project)
    assert emb("init", str(project), "--no-input").exit_code == 0
    files = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True)
    committed = set(files.stdout.split())
    assert "inventory/settings.py" in committed and ".gitignore" in committed
    assert "main.py" not in committed and "data/train.jsonl" not in committed


def test_init_inside_a_repository_makes_no_nested_one(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = emb("init", str(tmp_path / "lab"), "--no-input")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "lab/.git").exists()
    assert "already inside a git work tree" in result.output


def test_init_without_git_installed_warns(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = emb("init", str(tmp_path / "lab"), "--no-input")
    assert result.exit_code == 0, result.output
    assert "git not found" in result.output
    assert not (tmp_path / "lab/.git").exists()


def test_base_model_option_is_rendered(tmp_path):
    result = emb("init", str(tmp_path / "lab"), "--no-input", "--no-git", "--base-model", "./m")
    assert result.exit_code == 0, result.output
    assert 'BASE_MODEL = "./m"' in (tmp_path / "lab/inventory/settings.py").read_text()


def test_prompts_are_readable(tmp_path):
    result = emb("init", str(tmp_path / "lab"), "--no-git", input="\n\n\n")
    assert result.exit_code == 0, result.output
    assert "Lab name" in result.output and "Base model to fine-tune" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "../up"], "is not allowed"),
        (["--name", ""], "empty"),
        (["--base-model", "a\nb"], "control characters"),
    ],
)
def test_bad_options_fail_in_one_line(tmp_path, args, message):
    target = tmp_path / "lab"
    result = emb("init", str(target), "--no-input", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not target.exists()


def test_a_bad_name_typed_at_the_prompt_fails_before_writing(tmp_path):
    result = emb("init", str(tmp_path / "lab"), "--no-git", input="bad/name\n\n")
    assert result.exit_code == 1
    error = result.output.splitlines()[-1]
    assert "Error: the lab name 'bad/name' is not allowed" in error  # after the echoed prompt
    assert "--name" not in error
    assert not (tmp_path / "lab").exists()


def test_folder_name_that_is_not_a_lab_name_asks_for_name(tmp_path):
    result = emb("init", str(tmp_path / "My Project"), "--no-input")
    assert result.exit_code == 1
    assert "--name" in result.output


def test_path_that_is_a_file_fails(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    result = emb("init", str(target), "--no-input")
    assert result.exit_code == 1
    assert "is not a folder" in result.output
    assert target.read_text() == "keep me"


def test_unwritable_path_fails_cleanly(tmp_path):
    result = emb("init", "/proc/embed-lab-test", "--no-input")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_option_is_a_usage_error():
    result = emb("init", "--colour", "red")
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_failure_mid_merge_leaves_nothing_behind(tmp_path, monkeypatch):
    project = tmp_path / "project"
    before = _uv_like_project(project)
    copies = []

    def flaky_copy(src, dst):
        copies.append(dst)
        if len(copies) == 5:
            raise OSError(28, "No space left on device")
        return shutil.copy2(src, dst)

    monkeypatch.setattr(merge.shutil, "copy2", flaky_copy)
    result = emb("init", str(project), "--no-input", "--no-git")
    assert result.exit_code == 1
    assert "No space left on device" in result.output
    assert tree(project) == before
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == sorted(
        [*before, "data"]
    )


def test_help_does_not_import_cookiecutter():
    code = "import sys, embed_lab.cli; print('cookiecutter' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_init_without_a_terminal_names_no_input_in_one_line(tmp_path):
    result = emb("init", str(tmp_path / "lab"), "--no-git", input="")  # stdin at its end at once
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: no answers to the prompts (stdin is not a terminal); "
        "pass --no-input to use the defaults and the options given"
    )
    assert "Aborted" not in result.output
    assert not (tmp_path / "lab").exists()
    no_input = emb("init", str(tmp_path / "lab"), "--no-git", "--no-input", input="")
    assert no_input.exit_code == 0, no_input.output
    assert (tmp_path / "lab" / "inventory" / "settings.py").is_file()
