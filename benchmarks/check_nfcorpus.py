"""Import BEIR NFCorpus into a temporary data folder with `emb import beir`, then `emb check` it;
with --fix, repair it and print what was repaired.

    python benchmarks/check_nfcorpus.py [--nfcorpus ../shared/data/nfcorpus] [--near-dup]
    python benchmarks/check_nfcorpus.py --fix [--max-positives N] [--keep DIR]

qrels train/dev/test become train/dev/gold (score > 0 is a positive, every positive kept unless
--max-positives) and NFCorpus's corpus.jsonl becomes data/corpus.jsonl. With --fix: the plain
import (which fails the check), `emb check --fix --json` on it (findings before, what each
finding's repair did, findings after), `emb import ... --fix` into a second folder (it must pass
and give the same files), and `emb check` of the repaired data. --keep DIR copies the repaired
data folder there. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NFCORPUS = REPO.parent / "shared" / "data" / "nfcorpus"
EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]
LAB_FILES = ("train.jsonl", "dev.jsonl", "gold.jsonl", "corpus.jsonl", "fix-report.jsonl")


def emb(*args: str, quiet: bool = False) -> tuple[int, str]:
    """Run `emb ARGS` in a fresh process; print its wall time; return its status and stdout."""
    started = time.perf_counter()
    result = subprocess.run(
        [*EMB, *args],
        env={**os.environ, "COLUMNS": "120"},
        stdout=subprocess.PIPE if quiet else None,
        text=True,
    )
    seconds = time.perf_counter() - started
    print(f"emb {' '.join(args)} exited {result.returncode} in {seconds:.1f} s")
    return result.returncode, result.stdout or ""


def print_fix(report: dict) -> None:
    fix = report["fix"]
    print(f"failing findings before --fix: {fix['before']['failing']}")
    for finding in fix["before"]["findings"]:
        print(f"  {finding['kind']:<16} {'→'.join(finding['splits']):<11} {finding['count']:>6,}")
    print("what --fix did, per finding:")
    for action in fix["actions"]:
        done = {k: v for k, v in action.items() if k not in ("kind", "splits") and v}
        print(f"  {action['kind']:<16} {'→'.join(action['splits']):<11} {done}")
    for change in fix["files"]:
        print(f"  {change['file']}: {change['lines_before']:,} → {change['lines_after']:,} lines")
    failing = [f for f in report["findings"] if f["fails"]]
    others = ", ".join(f"{f['kind']} {f['count']:,}" for f in report["findings"] if not f["fails"])
    print(f"after --fix: ok={report['ok']}, failing findings {len(failing)}; others: {others}")
    for item in fix["unresolved"]:
        print(f"  not repaired: {item['reason']}")


def fix_run(nfcorpus: Path, root: Path, max_positives: int | None, keep: Path | None) -> None:
    cap = [] if max_positives is None else ["--max-positives", str(max_positives)]
    plain, imported = root / "plain", root / "imported"
    emb("import", "beir", str(nfcorpus), "--data-dir", str(plain), *cap, quiet=True)
    code, out = emb("check", str(plain), "--fix", "--json", quiet=True)
    print_fix(json.loads(out))
    code, _ = emb("import", "beir", str(nfcorpus), "--data-dir", str(imported), *cap, "--fix",
                  quiet=True)  # fmt: skip
    print(f"`emb import beir ... {' '.join(cap)} --fix` exit status: {code}")
    same = all((plain / name).read_bytes() == (imported / name).read_bytes() for name in LAB_FILES)
    print(f"same files as `emb check --fix` after a plain import: {same}")
    emb("check", str(imported), quiet=True)
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(imported, keep)
        print(f"repaired data kept in {keep}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nfcorpus", type=Path, default=DEFAULT_NFCORPUS)
    parser.add_argument("--near-dup", action="store_true", help="also look for near-duplicates")
    parser.add_argument("--fix", action="store_true", help="repair, and print what was repaired")
    parser.add_argument("--max-positives", type=int, help="with --fix: the import's cap")
    parser.add_argument("--keep", type=Path, help="with --fix: copy the repaired data here")
    args = parser.parse_args()
    if not (args.nfcorpus / "corpus.jsonl").is_file():
        sys.exit(f"NFCorpus not found at {args.nfcorpus} (expected corpus.jsonl there)")
    with tempfile.TemporaryDirectory(prefix="nfcorpus-lab-") as tmp:
        if args.fix:
            fix_run(args.nfcorpus, Path(tmp), args.max_positives, args.keep)
            return
        data = str(Path(tmp) / "data")
        emb("import", "beir", str(args.nfcorpus), "--data-dir", data)  # ends with emb check
        if args.near_dup:
            emb("check", data, "--near-dup")


if __name__ == "__main__":
    main()
