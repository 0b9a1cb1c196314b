"""What the benchmarks share: a lab baked from this checkout's template (run them as
`python benchmarks/<name>.py`, so this folder is on the import path)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "{{cookiecutter.lab_name}}"


def bake_lab(parent: Path) -> Path:
    """A lab named bench-lab under `parent`, without git. Where cookiecutter is not installed (a
    GPU machine given only what a check needs), the template is copied and its one templated
    module written by hand: the lab's code is the same, without the sample data."""
    try:
        from cookiecutter.main import cookiecutter
    except ImportError:
        lab = parent / "bench-lab"
        shutil.copytree(TEMPLATE, lab, ignore=shutil.ignore_patterns(".cache", "results"))
        settings = {"LAB_NAME": "bench-lab", "BASE_MODEL": "sentence-transformers/all-MiniLM-L6-v2",
                    "TEMPLATE_VERSION": "copied"}  # fmt: skip
        lines = [f"{name} = {json.dumps(value)}\n" for name, value in settings.items()]
        (lab / "inventory" / "settings.py").write_text("".join(lines), encoding="utf-8")
        return lab
    extra = {"lab_name": "bench-lab", "init_git": False}
    return Path(cookiecutter(str(REPO_ROOT), no_input=True, extra_context=extra, output_dir=parent))
