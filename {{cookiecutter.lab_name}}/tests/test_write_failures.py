import errno
import json
import os
import shutil
import tempfile
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from inventory import files, runs
from inventory.config import TrainConfig, parse_args
from inventory.embeddings import EmbeddingCache
from inventory.errors import LabError
from inventory.files import check_space, check_writable, write_folder, write_json, write_text
from inventory.runs import start_run


def no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_writing_a_file_is_one_line_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_text(tmp_path / "metrics.json", "old")
    monkeypatch.setattr(files.os, "fsync", no_space)
    with pytest.raises(LabError) as error:
        write_json(tmp_path / "metrics.json", {"ndcg@10": 0.5})
    assert str(error.value) == f"no space left on device while writing {tmp_path}/metrics.json"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
    assert (tmp_path / "metrics.json").read_text() == "old"


def test_a_model_saved_halfway_leaves_no_folder(tmp_path: Path) -> None:
    def save(folder: Path) -> None:
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        # as safetensors says it, from Rust
        raise RuntimeError("I/O error: No space left on device (os error 28) at path")

    with pytest.raises(LabError) as error:
        write_folder(tmp_path / "final", save, "saving the model to", needed=90_000_000)
    free = files.size(shutil.disk_usage(tmp_path).free)
    assert str(error.value) == (
        f"no space left on device while saving the model to {tmp_path}/final "
        f"(needs ~90 MB, {free} free)"
    )
    assert list(tmp_path.iterdir()) == [], "neither final/ nor the partial folder"


def test_a_saved_folder_appears_whole_and_replaces_an_older_one(tmp_path: Path) -> None:
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "old.bin").write_text("old")

    def save(folder: Path) -> None:
        folder.mkdir()
        (folder / "model.safetensors").write_text("new")

    write_folder(tmp_path / "final", save, "saving the model to")
    assert [p.name for p in tmp_path.iterdir()] == ["final"]
    assert [p.name for p in (tmp_path / "final").iterdir()] == ["model.safetensors"]


def test_another_error_while_saving_is_not_reworded(tmp_path: Path) -> None:
    def save(folder: Path) -> None:
        folder.mkdir()
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        write_folder(tmp_path / "final", save, "saving the model to")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EACCES, "permission denied"), (errno.EROFS, "read-only file system")],
)
def test_a_folder_that_cannot_be_written_is_found_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), str(tmp_path))

    check_writable(tmp_path / "results" / "exp")  # the nearest existing folder: tmp_path
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(LabError) as error:
        check_writable(tmp_path / "results" / "exp")
    assert str(error.value).startswith(f"{tmp_path} cannot be written ({reason}): ")
    with pytest.raises(LabError, match=reason):  # the lab's check, before a run starts
        runs.check_run(parse_args("exp.py", TrainConfig(), ["--output-dir", str(tmp_path / "x")]))


def test_a_disk_too_full_for_the_model_is_said_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = namedtuple("usage", "total used free")(10**9, 10**9 - 65 * 10**6, 65 * 10**6)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage)
    check_space(tmp_path, 60_000_000, "the fine-tuned model")
    with pytest.raises(LabError) as error:
        check_space(tmp_path, 90_000_000, "the fine-tuned model")
    assert str(error.value).startswith(
        f"no space left on device for the fine-tuned model in {tmp_path} (needs ~90 MB, 65 MB free)"
    )


def test_a_failed_write_to_the_embedding_cache_is_a_warning(
    static_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(np.lib.format, "write_array_header_1_0", no_space)
    cache = EmbeddingCache(static_model, tmp_path)
    vectors = cache.encode(["descale the machine", "use cold milk"], "query", "queries")
    assert vectors.shape == (2, 16)
    warning = capsys.readouterr().err.strip()
    assert warning.startswith(f"warning: embedding cache not saved in {tmp_path}/")
    assert warning.endswith("(no space left on device); the run goes on without it")
    assert not list(tmp_path.rglob("*.tmp")) and not list(tmp_path.rglob("*.np[yz]"))
    cache.encode(["check the fuse"], "query", "queries")  # no second try, no second warning
    assert capsys.readouterr().err == ""


def test_a_run_whose_report_cannot_be_written_fails_and_latest_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_args("exp.py", TrainConfig(), ["--output-dir", str(tmp_path / "exp")])
    good = start_run(config)
    good.finish()
    import inventory.plotting

    def refuse(run_dir: Path) -> None:
        raise LabError(f"permission denied while writing {run_dir}/plots/index.html")

    monkeypatch.setattr(inventory.plotting, "write_report", refuse)
    bad = start_run(config)
    with pytest.raises(LabError):
        bad.finish()
    manifest = json.loads(bad.manifest_path.read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["error"] == f"permission denied while writing {bad.dir}/plots/index.html"
    assert (tmp_path / "exp" / "latest").resolve() == good.dir
