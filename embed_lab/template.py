"""Where the lab template lives: inside the wheel, or at the root of a checkout."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent
LAB_TREE = "{{cookiecutter.lab_name}}"


def template_dir() -> Path:
    """The folder holding cookiecutter.json, hooks/ and the lab tree."""
    for candidate in (PACKAGE_DIR / "template", PACKAGE_DIR.parent):
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise FileNotFoundError(f"the lab template is missing from {PACKAGE_DIR}; reinstall embed-lab")


def load_labkit(template: Path) -> ModuleType:
    """Import hooks/labkit.py, the standard-library helpers the hooks share with `emb`."""
    return _load_module(template / "hooks" / "labkit.py", "_embed_lab_labkit")


@functools.cache
def load_lab_module(name: str) -> ModuleType:
    """Import the lab template's inventory/<name>.py: a module that the lab and `emb` share (the
    lab cannot depend on embed_lab), as it ships with embed-lab."""
    source = template_dir() / LAB_TREE / "inventory" / f"{name}.py"
    return _load_module(source, f"_embed_lab_{name}")


def load_contract() -> ModuleType:
    """The lab's data contract, inventory/contract.py: what `emb check` and `emb export` apply."""
    return load_lab_module("contract")


def load_rows() -> ModuleType:
    """The lab's inventory/rows.py: records to training rows and labelled pairs (`emb export`)."""
    return load_lab_module("rows")


def load_layout() -> ModuleType:
    """The lab's inventory/layout.py: the run layout `emb runs` and `emb compare` read."""
    return load_lab_module("layout")


def load_liveness() -> ModuleType:
    """The lab's inventory/liveness.py: whether a run recorded as running has died."""
    return load_lab_module("liveness")


def load_errors() -> ModuleType:
    """The lab's inventory/errors.py: `telling_lines`, the lines a one-line error is chosen from
    (CUDA's advice left out)."""
    return load_lab_module("errors")


def load_significance() -> ModuleType:
    """The lab's inventory/significance.py: the paired test `emb compare` runs, the one the lab
    makes every choice on dev by (numpy and scipy only)."""
    return load_lab_module("significance")


def load_retrieval() -> ModuleType:
    """The lab's inventory/retrieval.py: `query_ids`, how the lab names a split's queries (numpy
    only when loaded alone)."""
    return load_lab_module("retrieval")


def load_lab_page() -> ModuleType:
    """The lab's inventory/lab_page.py: results/index.html, written by the lab after every run
    and by `emb runs --html`."""
    return load_inventory_module("lab_page")


def load_inventory_module(name: str) -> ModuleType:
    """The lab template's inventory/<name>.py for a module that imports its siblings relatively
    (lab_page, tracking): the template's inventory/ is loaded as a package of its own,
    `_embed_lab_inventory`, beside any lab's `inventory`."""
    package = "_embed_lab_inventory"
    if package not in sys.modules:
        folder = template_dir() / LAB_TREE / "inventory"
        spec = importlib.util.spec_from_file_location(
            package, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {folder}")
        sys.modules[package] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[package])
    dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return importlib.import_module(f"{package}.{name}")
    finally:
        sys.dont_write_bytecode = dont_write_bytecode


def _load_module(source: Path, name: str) -> ModuleType:
    """Import `source` as module `name`, registered in sys.modules (dataclasses look their module
    up there, pickled classes are found there, and worker processes share one copy)."""
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
    return module
