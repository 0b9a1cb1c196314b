"""Every benchmark at least imports: they run rarely, so a broken import would hide for long."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.stem)
def test_the_benchmark_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # they import each other, run from there
    module = importlib.import_module(script.stem)
    if '__name__ == "__main__"' in script.read_text(encoding="utf-8"):  # a script, not a helper
        assert callable(getattr(module, "main", None)), f"{script.name} has no main()"
    sys.modules.pop(script.stem, None)
