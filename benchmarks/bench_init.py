"""`emb init` against bare cookiecutter on the same template, `emb --help` start-up, and an
experiment's `--help` (it answers before torch and sentence-transformers are imported).

Targets: `emb init` <= 1.3x bare cookiecutter and under 1 s; `emb --help` under 0.3 s; an
experiment's `--help` under 1 s.
Run: python benchmarks/bench_init.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]


def wall_time(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def median_time(make_command, repeat: int) -> float:
    times = []
    for run in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            times.append(wall_time(make_command(Path(scratch), run), Path(scratch)))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat

    cookiecutter = median_time(
        lambda out, run: [
            sys.executable,
            "-m",
            "cookiecutter",
            str(REPO_ROOT),
            "--no-input",
            "init_git=no",
            "-o",
            str(out),
        ],
        repeat,
    )
    emb_init = median_time(
        lambda out, run: [*EMB, "init", str(out / "my-embed-lab"), "--no-input", "--no-git"],
        repeat,
    )
    emb_help = median_time(lambda out, run: [*EMB, "--help"], repeat)
    emb_init_help = median_time(lambda out, run: [*EMB, "init", "--help"], repeat)
    with tempfile.TemporaryDirectory() as scratch:
        lab = Path(scratch) / "lab"
        subprocess.run([*EMB, "init", str(lab), "--no-input", "--no-git"], check=True,
                       capture_output=True)  # fmt: skip
        experiment = [sys.executable, "experiments/exp_01_baseline.py", "--help"]
        wall_time(experiment, lab)  # the first run compiles the lab's modules
        experiment_help = statistics.median(wall_time(experiment, lab) for _ in range(repeat))

    ratio = emb_init / cookiecutter
    print(f"median of {repeat} runs, each a fresh process")
    print(f"bare cookiecutter --no-input : {cookiecutter:.3f} s")
    print(f"emb init --no-input          : {emb_init:.3f} s  (ratio {ratio:.2f}, target <= 1.30)")
    print(f"emb --help                   : {emb_help:.3f} s  (target < 0.30)")
    print(f"emb init --help              : {emb_init_help:.3f} s  (target < 0.30)")
    print(f"exp_01_baseline.py --help    : {experiment_help:.3f} s  (target < 1.00)")
    ok = ratio <= 1.3 and emb_init < 1.0 and emb_help < 0.3 and emb_init_help < 0.3
    ok = ok and experiment_help < 1.0
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
