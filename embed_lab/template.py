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
def load_contract() -> ModuleType:
    """Import the lab's inventory/contract.py, the data contract `emb check` applies."""
    source = template_dir() / LAB_TREE / "inventory" / "contract.py"
    return _load_module(source, "_embed_lab_contract")


@functools.cache
def load_significance() -> ModuleType:
    """Import the lab's inventory/significance.py: `emb compare` runs the paired test the lab
    chooses on dev by (it needs numpy and scipy only)."""
    source = template_dir() / LAB_TREE / "inventory" / "significance.py"
    return _load_module(source, "_embed_lab_significance")


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
