"""Where the lab template lives: inside the wheel, or at the root of a checkout."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent


def template_dir() -> Path:
    """The folder holding cookiecutter.json, hooks/ and the lab tree."""
    for candidate in (PACKAGE_DIR / "template", PACKAGE_DIR.parent):
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise FileNotFoundError(f"the lab template is missing from {PACKAGE_DIR}; reinstall embed-lab")


def load_labkit(template: Path) -> ModuleType:
    """Import hooks/labkit.py, the standard-library helpers the hooks share with `emb`."""
    source = template / "hooks" / "labkit.py"
    spec = importlib.util.spec_from_file_location("_embed_lab_labkit", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
    return module
