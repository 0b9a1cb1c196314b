"""Import BEIR NFCorpus into a temporary data folder with `emb import beir`, then `emb check` it.

    python benchmarks/check_nfcorpus.py [--nfcorpus ../shared/data/nfcorpus] [--near-dup]

qrels train/dev/test become train/dev/gold (score > 0 is a positive, every positive kept) and
NFCorpus's corpus.jsonl becomes data/corpus.jsonl. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NFCORPUS = REPO.parent / "shared" / "data" / "nfcorpus"
EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]


def emb(*args: str) -> int:
    """Run `emb ARGS` in a fresh process; print its wall time; return its exit status."""
    started = time.perf_counter()
    result = subprocess.run([*EMB, *args], env={**os.environ, "COLUMNS": "120"})
    print(f"emb {args[0]} exited {result.returncode} in {time.perf_counter() - started:.2f} s")
    return result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nfcorpus", type=Path, default=DEFAULT_NFCORPUS)
    parser.add_argument("--near-dup", action="store_true", help="also look for near-duplicates")
    args = parser.parse_args()
    if not (args.nfcorpus / "corpus.jsonl").is_file():
        sys.exit(f"NFCorpus not found at {args.nfcorpus} (expected corpus.jsonl there)")
    with tempfile.TemporaryDirectory(prefix="nfcorpus-lab-") as tmp:
        data = str(Path(tmp) / "data")
        emb("import", "beir", str(args.nfcorpus), "--data-dir", data)  # ends with emb check
        if args.near_dup:
            emb("check", data, "--near-dup")


if __name__ == "__main__":
    main()
