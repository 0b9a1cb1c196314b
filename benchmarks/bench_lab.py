"""What the benchmarks share: a lab baked from this checkout's template (run them as
`python benchmarks/<name>.py`, so this folder is on the import path)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def bake_lab(parent: Path) -> Path:
    """A lab named bench-lab under `parent`, without git."""
    from cookiecutter.main import cookiecutter

    extra = {"lab_name": "bench-lab", "init_git": False}
    return Path(cookiecutter(str(REPO_ROOT), no_input=True, extra_context=extra, output_dir=parent))
