import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import record, write_jsonl

from inventory.layout import data_hash, git_state
from inventory.manifest import differences, model_identity


def test_the_data_hash_changes_with_any_row_and_only_with_rows(tmp_path: Path) -> None:
    rows = [record("descale", ["Run the cycle."]), record("milk", ["Use cold milk."])]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    first = data_hash(path)
    assert first["rows"] == 2 and len(first["sha256"]) == 64

    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n") + b"\n\n")
    assert data_hash(path)["sha256"] == first["sha256"]  # CRLF and blank lines are not rows

    write_jsonl(path, [rows[0], record("milk", ["Use cold milk!"])])
    assert data_hash(path)["sha256"] != first["sha256"]  # one character of one row
    write_jsonl(path, rows[::-1])
    assert data_hash(path)["sha256"] != first["sha256"]  # file order counts


def test_a_local_model_is_identified_by_its_weights(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "model" / "README.md").write_text("not weights", encoding="utf-8")
    first = model_identity(str(tmp_path / "model"))
    assert first["weight_files"] == ["model.safetensors"]
    (tmp_path / "model" / "README.md").write_text("edited", encoding="utf-8")
    assert model_identity(str(tmp_path / "model"))["weights_sha256"] == first["weights_sha256"]
    (tmp_path / "model" / "model.safetensors").write_bytes(b"weights, trained")
    assert model_identity(str(tmp_path / "model"))["weights_sha256"] != first["weights_sha256"]


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def test_git_state_knows_the_commit_and_the_dirty_flag(tmp_path: Path) -> None:
    assert git_state(tmp_path) is None  # not a repository
    git(tmp_path, "init", "-q")
    (tmp_path / "exp.py").write_text("print(1)\n", encoding="utf-8")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "first")
    clean = git_state(tmp_path)
    assert clean is not None and not clean["dirty"] and len(clean["commit"]) == 40
    (tmp_path / "exp.py").write_text("print(2)\n", encoding="utf-8")
    dirty = git_state(tmp_path)
    assert dirty is not None and dirty["dirty"] and dirty["commit"] == clean["commit"]
    assert dirty["diff_stat"] == "1 file changed, 1 insertion(+), 1 deletion(-)"
    (tmp_path / ".gitignore").write_text("ignored-lab/\n", encoding="utf-8")
    (tmp_path / "ignored-lab").mkdir()
    assert git_state(tmp_path / "ignored-lab") is None  # the repository does not track the lab


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ({"max_seq_length": 256}, {"max_seq_length": 256}, []),
        ({"query_prompt": "query: "}, {"query_prompt": None}, ["query_prompt: 'query: ' != None"]),
    ],
)
def test_differences_between_training_and_evaluation(first, second, expected) -> None:
    assert differences(first, second) == expected


def test_the_recorded_command_keeps_the_launcher_that_started_the_script(tmp_path: Path) -> None:
    lab = Path(__file__).resolve().parents[1]
    script = tmp_path / "exp_99_show.py"
    script.write_text(f"import json, sys; sys.path.insert(0, {str(lab)!r})\n"
                      "from inventory.manifest import launch_argv\n"
                      "print(json.dumps(launch_argv()))\n", encoding="utf-8")  # fmt: skip
    launcher = tmp_path / "torchrun"  # a console script: `python .../bin/torchrun ... script`
    launcher.write_text("import subprocess, sys\n"
                        "subprocess.run([sys.executable, *sys.argv[3:]], check=True)\n",
                        encoding="utf-8")  # fmt: skip

    def recorded(*command: str) -> list[str]:
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    assert recorded(sys.executable, script.name, "--epochs", "2") == [
        "python", script.name, "--epochs", "2"]  # fmt: skip
    flags = ["--nproc_per_node", "2", script.name, "--seed", "3"]
    assert recorded(sys.executable, str(launcher), *flags) == ["torchrun", *flags]
