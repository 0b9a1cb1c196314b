"""Baking the template with pytest-cookies: options, file tree, escaping, validation, git."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib

import pytest

from embed_lab import __version__
from tests.conftest import REPO_ROOT, BakedLab

# The generated lab, file by file. A new template file must be added here on purpose.
EXPECTED_FILES = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "data/train.jsonl",
    "data/dev.jsonl",
    "data/gold.jsonl",
    "experiments/exp_01_baseline.py",
    *(
        f"inventory/{module}.py"
        for module in (
            "__init__",
            "ann",
            "bm25",
            "callbacks",
            "config",
            "contract",
            "datasets",
            "device",
            "distributed",
            "embeddings",
            "encode_ahead",
            "errors",
            "evaluate",
            "files",
            "fusion",
            "layout",
            "liveness",
            "manifest",
            "models",
            "plotting",
            "preprocess",
            "losses",
            "pipeline",
            "progress",
            "retrieval",
            "rows",
            "runner",
            "runs",
            "settings",
            "significance",
            "train",
            "trainer_args",
            "trial",
            "lab_page",
            "tracking",
        )
    ),
    *(
        f"tests/{module}.py"
        for module in (
            "conftest",
            "test_ann",
            "test_bm25_fusion",
            "test_config_and_runs",
            "test_contract",
            "test_datasets",
            "test_device",
            "test_distributed",
            "test_embeddings",
            "test_encode_ahead",
            "test_evaluate",
            "test_losses",
            "test_manifest",
            "test_models",
            "test_plotting",
            "test_preprocess",
            "test_progress",
            "test_relevance",
            "test_retrieval",
            "test_rows",
            "test_liveness",
            "test_significance",
            "test_trial",
            "test_write_failures",
        )
    ),
}

OPTION_SETS = [
    {},
    {"lab_name": "lab"},
    {"lab_name": "my.lab_2", "base_model": "BAAI/bge-small-en-v1.5"},
    {"lab_name": "Q3-Eval", "base_model": '/models/my "odd" model\'s path\\v2'},
    {"lab_name": "x", "base_model": "C:\\models\\modèle-ü"},
    {"lab_name": "tricks", "base_model": "'''; import os; os.system('true') #\"\"\""},
]


OPTION_IDS = ["-".join(options) or "defaults" for options in OPTION_SETS]


def _settings(lab: BakedLab) -> dict[str, str]:
    module = ast.parse(lab.read("inventory/settings.py"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in module.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }


@pytest.mark.parametrize("options", OPTION_SETS, ids=OPTION_IDS)
def test_bake_renders_options_verbatim(bake, options):
    lab = bake(**options)
    assert lab.exit_code == 0, lab.exception
    expected_name = options.get("lab_name", "my-embed-lab")
    expected_model = options.get("base_model", "sentence-transformers/all-MiniLM-L6-v2")
    assert lab.path.name == expected_name
    assert lab.files() >= EXPECTED_FILES
    assert _settings(lab) == {
        "LAB_NAME": expected_name, "BASE_MODEL": expected_model, "TEMPLATE_VERSION": __version__,
    }  # fmt: skip
    assert tomllib.loads(lab.read("pyproject.toml"))["project"]["name"] == expected_name


@pytest.mark.parametrize("options", OPTION_SETS, ids=OPTION_IDS)
def test_no_template_syntax_or_bytecode_survives(bake, options):
    lab = bake(**options)
    for relative, content in ((f, (lab.path / f).read_bytes()) for f in lab.files()):
        assert "__pycache__" not in relative and not relative.endswith(".pyc"), relative
        assert b"{{" not in content and b"{%" not in content, relative


def test_exact_file_tree(bake):
    assert bake().files() == EXPECTED_FILES


def test_generated_lab_is_lint_clean_and_compiles(bake):
    lab = bake(base_model='/models/it\'s "here"')
    ruff = lab.run("-m", "ruff", "check", "--no-cache", ".")
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    compiled = lab.run("-m", "compileall", "-q", ".")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_sample_data_is_valid_and_split_disjoint(bake):
    lab = bake()
    splits = {}
    for split in ("train", "dev", "gold"):
        records = [json.loads(line) for line in lab.read(f"data/{split}.jsonl").splitlines()]
        assert all(isinstance(r["query"], str) and r["query"] for r in records)
        assert all(r["pos"] and all(isinstance(p, str) and p for p in r["pos"]) for r in records)
        splits[split] = records
    assert [len(splits[s]) for s in ("train", "dev", "gold")] == [100, 30, 30]
    assert all(record.get("neg") for record in splits["gold"]), "gold needs distractors"
    queries = {s: {r["query"].casefold() for r in records} for s, records in splits.items()}
    assert not queries["train"] & queries["dev"]
    assert not queries["train"] & queries["gold"]
    assert not queries["dev"] & queries["gold"]
    for records in splits.values():
        for record in records:
            assert record["query"].casefold() not in {p.casefold() for p in record["pos"]}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape", "not allowed"),
        ("a/b", "not allowed"),
        ("   ", "empty"),
        ('quo"te', "not allowed"),
        ("new\nline", "not allowed"),
        ("-dash-first", "not allowed"),
    ],
)
def test_bad_lab_names_are_rejected_with_the_rule(bake, capfd, name, reason):
    lab = bake(lab_name=name)
    assert lab.exit_code != 0
    err = capfd.readouterr().err
    assert reason in err
    assert "letters, digits" in err


def test_control_characters_in_base_model_are_rejected(bake, capfd):
    lab = bake(base_model="model\nname")
    assert lab.exit_code != 0
    assert "control characters" in capfd.readouterr().err


def _git(path, *args):
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=False)


def test_git_repository_with_first_commit(bake):
    lab = bake(init_git=True)
    assert lab.exit_code == 0, lab.exception
    assert _git(lab.path, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "main"
    committed = set(_git(lab.path, "ls-files").stdout.split())
    assert committed == lab.files()
    assert _git(lab.path, "status", "--porcelain").stdout == ""


def test_git_without_identity_still_generates(bake, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{variable}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{variable}_EMAIL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.useConfigOnly")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    lab = bake(init_git=True)
    assert lab.exit_code == 0, lab.exception
    assert (lab.path / ".git").is_dir()
    assert _git(lab.path, "rev-parse", "HEAD").returncode != 0  # no commit was possible
    assert "data/train.jsonl" in _git(lab.path, "diff", "--cached", "--name-only").stdout


def test_git_off_means_no_repository(bake):
    assert not (bake(init_git=False).path / ".git").exists()


def test_hooks_need_only_the_standard_library():
    script = (
        "import sys; sys.path.insert(0, 'hooks'); before = set(sys.modules);"
        "import labkit;"
        "added = {m.split('.')[0] for m in set(sys.modules) - before} - {'labkit'};"
        "print(sorted(added - set(sys.stdlib_module_names)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    for hook in ("pre_gen_project.py", "post_gen_project.py"):
        source = ast.parse((REPO_ROOT / "hooks" / hook).read_text())
        assert set(_top_level_imports(source)) <= set(sys.stdlib_module_names) | {"labkit"}


def _top_level_imports(module: ast.Module):
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module.split(".")[0]


def test_sample_data_never_replaces_the_users_data(tmp_path):
    from embed_lab.template import load_labkit

    labkit = load_labkit(REPO_ROOT)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text("mine\n")
    kept = labkit.write_sample_data(REPO_ROOT / "hooks" / "sample_data", tmp_path)
    assert kept == ["train.jsonl"]
    assert (tmp_path / "data" / "train.jsonl").read_text() == "mine\n"
    assert (tmp_path / "data" / "gold.jsonl").read_bytes() == (
        REPO_ROOT / "hooks" / "sample_data" / "gold.jsonl"
    ).read_bytes()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "dev.jsonl",
        "gold.jsonl",
        "train.jsonl",
    ]
