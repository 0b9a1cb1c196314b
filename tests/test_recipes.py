"""Recipes: `emb recipes`, `emb new` and `emb init --recipe`, for every recipe in recipes/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from embed_lab import new, registry
from embed_lab.cli import main
from tests.conftest import REPO_ROOT, tree

RECIPES_DIR = REPO_ROOT / "recipes"
BUILT_IN = sorted(p.name for p in RECIPES_DIR.iterdir() if (p / "cookiecutter.json").is_file())
LAB_ROOT = "{{cookiecutter.lab}}"
EXPERIMENT = "experiments/{{cookiecutter.experiment}}.py"


def emb(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def recipe_files(folder: Path) -> dict[str, bytes]:
    """The files a recipe adds to a lab (symlinks followed), by path in the lab."""
    return tree(folder / LAB_ROOT)


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("default") / "lab"
    result = emb("init", str(path), "--no-input", "--no-git")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def lab(default_lab, tmp_path) -> Path:
    """A fresh copy of the default lab."""
    return Path(shutil.copytree(default_lab, tmp_path / "lab"))


@pytest.fixture
def two_towers(tmp_path, monkeypatch) -> Path:
    """The built-in recipes plus a throwaway one, 'two-towers', that needs neg and a corpus."""
    folder = tmp_path / "recipes"
    folder.mkdir()
    for name in BUILT_IN:
        (folder / name).symlink_to(RECIPES_DIR / name, target_is_directory=True)
    recipe = folder / "two-towers"
    (recipe / LAB_ROOT / "experiments").mkdir(parents=True)
    (recipe / LAB_ROOT / "inventory").mkdir()
    config = {"lab": "my-embed-lab", "experiment": "exp_02_two_towers",
              "_description": "Two towers", "_needs": ["pos", "neg", "corpus"]}  # fmt: skip
    (recipe / "cookiecutter.json").write_text(json.dumps(config))
    (recipe / LAB_ROOT / EXPERIMENT).write_text("from inventory.towers import TOWERS\n")
    (recipe / LAB_ROOT / "inventory" / "towers.py").write_text("TOWERS = 2\n")
    (recipe / LAB_ROOT / "inventory" / "losses.py").write_text("# the recipe's own copy\n")
    monkeypatch.setattr(registry, "builtin_dir", lambda: folder)
    return recipe


def test_recipes_lists_every_built_in_recipe():
    result = emb("recipes", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    listed = json.loads(result.stdout)
    built_in = [entry for entry in listed if entry["source"] == "built-in"]
    assert [entry["name"] for entry in built_in] == BUILT_IN
    for entry in listed:
        assert list(entry) == ["name", "description", "needs", "source", "path"]
        assert entry["description"].strip() and "\n" not in entry["description"]
        assert all(isinstance(need, str) for need in entry["needs"])
    baseline = next(entry for entry in listed if entry["name"] == "in-batch-negatives")
    assert baseline["needs"] == ["pos"]
    assert "MultipleNegativesRankingLoss" in baseline["description"]
    assert Path(baseline["path"]) == RECIPES_DIR / "in-batch-negatives"

    table = emb("recipes")
    assert table.exit_code == 0, table.output
    for name in BUILT_IN:
        assert name in table.stdout
    assert "built-in" in table.stdout and "data needed" in table.stdout


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_recipe_is_well_formed(name):
    recipe = registry.load_recipe(name, RECIPES_DIR / name, registry.BUILT_IN)
    assert recipe.description and recipe.needs
    files = recipe_files(RECIPES_DIR / name)
    assert EXPERIMENT in files
    for relative, content in files.items():
        assert not [mark for mark in (b"{{", b"{%", b"{#") if mark in content], relative


@pytest.mark.parametrize("name", BUILT_IN)
def test_new_adds_the_recipes_experiment_and_only_missing_modules(lab, name):
    before = tree(lab)
    result = emb("new", "trial", str(lab), "--recipe", name)
    assert result.exit_code == 0, result.output
    after = tree(lab)
    assert all(after[relative] == content for relative, content in before.items())
    added = set(after) - set(before)
    wanted = recipe_files(RECIPES_DIR / name)
    experiment = wanted.pop(EXPERIMENT)
    assert after["experiments/exp_02_trial.py"] == experiment
    assert added == {"experiments/exp_02_trial.py"} | (set(wanted) - set(before))
    assert f"Added experiments/exp_02_trial.py to {lab} (recipe {name})" in result.stdout
    for relative in wanted:
        assert f"{'kept' if relative in before else 'added'} {relative}" in result.stdout


def test_a_lab_with_every_built_in_recipe_is_lint_clean(lab):
    """Recipe files are lab code: the lab's own ruff settings hold for them too."""
    for name in BUILT_IN:
        assert emb("new", name.replace("-", "_"), str(lab), "--recipe", name).exit_code == 0
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        ruff = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=lab,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_new_numbers_experiments_and_turns_dashes_into_underscores(lab):
    (lab / "experiments" / "exp_07_custom.py").write_text("print('mine')\n")
    (lab / "experiments" / "notes.py").write_text("")
    assert emb("new", "fast-run", str(lab)).exit_code == 0
    assert (lab / "experiments" / "exp_08_fast_run.py").is_file()
    assert emb("new", "b", str(lab)).exit_code == 0
    assert (lab / "experiments" / "exp_09_b.py").is_file()


def test_new_in_the_current_folder(lab, monkeypatch):
    monkeypatch.chdir(lab)
    result = emb("new", "here", "--recipe", "in-batch-negatives")
    assert result.exit_code == 0, result.output
    assert (lab / "experiments" / "exp_02_here.py").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--recipe", "no-such-recipe"], "unknown recipe 'no-such-recipe'; known recipes: "),
        (["baseline"], "experiments/exp_01_baseline.py already exists"),
        (["2x"], "the experiment name '2x' is not allowed; use lowercase letters"),
        (["a/b"], "the experiment name 'a/b' is not allowed"),
        (["Caps"], "the experiment name 'Caps' is not allowed"),
        ([""], "the experiment name '' is not allowed"),
    ],
)
def test_new_refuses_in_one_line_and_writes_nothing(lab, args, message):
    before = tree(lab)
    result = emb("new", args[0], str(lab), *args[1:])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {message}"), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert tree(lab) == before
    if "unknown recipe" in message:
        assert all(name in result.output for name in BUILT_IN)


@pytest.mark.parametrize("make", ["empty folder", "file", "missing"])
def test_new_outside_a_lab_is_one_line(tmp_path, make):
    target = tmp_path / "target"
    if make == "empty folder":
        target.mkdir()
        (target / "inventory").mkdir()  # a lab has experiments/ too
    elif make == "file":
        target.write_text("keep me")
    result = emb("new", "x", str(target))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {target} is not a lab"), result.output
    assert len(result.output.strip().splitlines()) == 1
    if make == "empty folder":
        assert [p.name for p in target.rglob("*")] == ["inventory"]
    elif make == "file":
        assert target.read_text() == "keep me"
    else:
        assert not target.exists()


def test_new_warns_when_the_data_lacks_what_the_recipe_needs(lab, two_towers):
    result = emb("new", "towers", str(lab), "--recipe", "two-towers")
    assert result.exit_code == 0, result.output
    assert (lab / "experiments" / "exp_02_towers.py").is_file()
    assert (lab / "inventory" / "towers.py").read_text() == "TOWERS = 2\n"
    assert "  added inventory/towers.py" in result.stdout
    assert "  kept inventory/losses.py (already in the lab, differs" in result.stdout
    assert "# the recipe's own copy" not in (lab / "inventory" / "losses.py").read_text()
    warning = result.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("warning: recipe two-towers needs ")
    assert "corpus (data/corpus.jsonl is missing)" in warning[0]


def test_a_broken_built_in_recipe_is_one_warning_line(tmp_path, two_towers):
    (two_towers / "cookiecutter.json").write_text('{"lab": "x"}')
    result = emb("recipes", "--json")
    assert result.exit_code == 0, result.output
    assert "two-towers" not in {entry["name"] for entry in json.loads(result.stdout)}
    assert result.stderr == (
        f"warning: built-in recipe 'two-towers': {two_towers}/cookiecutter.json: "
        '"experiment" is missing or not a string; skipped\n'
    )


def test_missing_data(lab):
    train = lab / "data" / "train.jsonl"
    train.write_text('{"query": "q", "pos": ["p"], "neg": null}\nnot json\n')
    assert new.missing_data(lab, ["pos", "neg", "corpus", "something-else"]) == [
        "neg (no line of data/train.jsonl has negatives)",
        "corpus (data/corpus.jsonl is missing)",
    ]
    train.write_text('{"query": "q", "pos": ["p"], "neg": ["n"]}\n')
    (lab / "data" / "corpus.jsonl").write_text('{"_id": "1", "text": "t"}\n')
    assert new.missing_data(lab, ["pos", "neg", "corpus"]) == []
    train.unlink()
    assert new.missing_data(lab, ["pos"]) == ["pos (data/train.jsonl is missing)"]


def test_init_with_another_recipe_starts_with_its_experiment(tmp_path, default_lab, two_towers):
    target = tmp_path / "lab"
    result = emb("init", str(target), "--no-input", "--no-git", "--recipe", "two-towers")
    assert result.exit_code == 0, result.output
    assert "Next: uv run experiments/exp_01_two_towers.py" in result.output
    made, default = tree(target), tree(default_lab)
    assert set(made) == set(default) - {"experiments/exp_01_baseline.py"} | {
        "experiments/exp_01_two_towers.py",
        "inventory/towers.py",
    }
    assert made["experiments/exp_01_two_towers.py"] == b"from inventory.towers import TOWERS\n"
    for relative in set(made) & set(default):
        if relative != "inventory/settings.py":  # names the lab
            assert made[relative] == default[relative], relative


def test_init_with_the_default_recipe_is_the_default_lab(tmp_path, default_lab):
    target = tmp_path / "lab"
    result = emb("init", str(target), "--no-input", "--no-git", "--recipe", "in-batch-negatives")
    assert result.exit_code == 0, result.output
    assert tree(target) == tree(default_lab)


def test_init_with_an_unknown_recipe_writes_nothing(tmp_path):
    target = tmp_path / "lab"
    result = emb("init", str(target), "--no-input", "--recipe", "nope")
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown recipe 'nope'; known recipes: ")
    assert len(result.output.strip().splitlines()) == 1
    assert not target.exists()


HELP_PROBE = """
import argparse, json, runpy, sys

parsers = []
parse_args = argparse.ArgumentParser.parse_args


def recording(self, *args, **kwargs):
    parsers.append(self)
    return parse_args(self, *args, **kwargs)


argparse.ArgumentParser.parse_args = recording
sys.argv = [sys.argv[1], "--help"]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
heavy = ("torch", "sentence_transformers", "transformers", "datasets")
flags = [
    (action.option_strings[-1], action.help, parser._get_formatter()._expand_help(action))
    for parser in parsers
    for action in parser._actions
    if action.option_strings and action.help and action.dest != "help"
] + [
    (action.option_strings[-1], None, "")
    for parser in parsers
    for action in parser._actions
    if action.option_strings and not action.help
]
print(json.dumps({"heavy": [m for m in heavy if m in sys.modules], "flags": flags}))
"""


def test_every_experiments_help_imports_no_training_library_and_explains_every_flag(lab):
    """--help answers before torch, transformers, sentence-transformers or datasets load (the
    time is in benchmarks/bench_init.py), and every flag has a help text and shows its default."""
    for name in BUILT_IN:
        assert emb("new", name.replace("-", "_"), str(lab), "--recipe", name).exit_code == 0
    experiments = sorted((lab / "experiments").glob("exp_*.py"))
    assert len(experiments) == len(BUILT_IN) + 1
    for experiment in experiments:
        probe = subprocess.run([sys.executable, "-c", HELP_PROBE, str(experiment)], cwd=lab,
                               capture_output=True, text=True, check=False)  # fmt: skip
        assert probe.returncode == 0, probe.stderr
        found = json.loads(probe.stdout.splitlines()[-1])
        assert found["heavy"] == [], experiment.name
        assert len(found["flags"]) >= 11, experiment.name  # the shared flags at least
        for flag, help_text, shown in found["flags"]:
            assert help_text, f"{experiment.name}: {flag} has no help text"
            assert "(default: " in shown, f"{experiment.name}: {flag} does not show its default"
