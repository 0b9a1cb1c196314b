"""`emb sweep` against running the same trials by hand: what the sweep itself costs.

A baked lab on its sample data; every trial does the same work (the search space is a single
learning rate, the experiment's default), so the sweep's N trials and N hand runs of
`python experiments/exp_01_baseline.py` differ only by the sweep: asking the experiment for its
flags (once per experiment, then cached), the study in Optuna's storage (in the worker only: a
trial's process relays its dev evaluations to it), and the summary and page at the end. Runs
alternate (hand, sweep, hand, sweep) so that drifting machine load hits both alike. The first
sweep call also asks the experiment for its flags (cached afterwards) and is shown apart. Wall
and CPU seconds (user + system of every process started). Target: sweep / hand <= 1.05.
Run: python benchmarks/bench_sweep_overhead.py [--model tiny|minilm] [--trials N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_lab import bake_lab

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.05
ENV = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of `command`; its CPU seconds (user + system, its children included) are
    appended to CPU."""
    start, before = time.perf_counter(), cpu_seconds()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    CPU.append(cpu_seconds() - before)
    if "--json" in command:  # a sweep: every trial must have done the whole work
        trials = json.loads(done.stdout)["trials"]
        if any(trial["state"] != "COMPLETE" for trial in trials):
            raise SystemExit(f"{' '.join(command)}: a trial did not complete: {trials}")
    return time.perf_counter() - start


CPU: list[float] = []


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def default_learning_rate(lab: Path) -> float:
    """The baseline's default learning rate, asked of the experiment as `emb sweep` asks it (the
    answer's cache is removed, so the first sweep call still asks)."""
    from embed_lab.sweep.experiment import describe

    flags = describe(lab, lab / "experiments" / "exp_01_baseline.py")["flags"]
    shutil.rmtree(lab / ".cache" / "sweep")
    return float(flags["learning_rate"]["default"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("tiny", "minilm"), default="tiny")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_lab(Path(scratch))
        flags: list[str] = []
        if args.model == "tiny":
            sys.path.insert(0, str(REPO_ROOT))
            from tests.tiny_model import build_tiny_model, lab_texts

            model = build_tiny_model(Path(scratch) / "tiny", lab_texts(lab / "data"))
            flags = ["--base-model", str(model)]
        space = lab / "one.toml"  # one value, the default: every trial does the same work
        space.write_text(f"[learning_rate]\nchoices = [{default_learning_rate(lab)!r}]\n")
        hand_command = [sys.executable, "experiments/exp_01_baseline.py", *flags]
        timed(hand_command, lab)  # warm the embedding cache and the OS file cache for both
        hand, sweep, hand_cpu, sweep_cpu = [], [], [], []
        for repeat in range(args.repeat):
            CPU.clear()
            hand.append(sum(timed(hand_command, lab) for _ in range(args.trials)))
            hand_cpu.append(sum(CPU))
            command = [*EMB, "sweep", "exp_01_baseline", "--study", f"bench{repeat}",
                       "--trials", str(args.trials), "--space", str(space), "--no-prune",
                       "--keep-models", "all", "--json", "--", *flags]  # fmt: skip
            CPU.clear()
            sweep.append(timed(command, lab))
            sweep_cpu.append(sum(CPU))
        # What a call costs besides its trials: start, checks, the study, summary and page.
        report_only = timed([*EMB, "sweep", "exp_01_baseline", "--study", "bench0", "--trials",
                             "0", "--space", str(space), "--", *flags], lab)  # fmt: skip
    # The first call also asks the experiment for its flags (then cached in .cache/sweep/).
    cold, warm = sweep[0], sweep[1:] or sweep
    median_hand, median_warm = statistics.median(hand), statistics.median(warm)
    print(f"emb sweep vs the same {args.trials} trials by hand, exp_01_baseline, {args.model} "
          f"model, sample data, {args.repeat} rounds")  # fmt: skip
    print(f"  by hand: {', '.join(f'{s:.1f}' for s in hand)} s  (median {median_hand:.1f})")
    print(f"  sweep:   {', '.join(f'{s:.1f}' for s in sweep)} s  (first call {cold:.1f}, "
          f"then median {median_warm:.1f})")  # fmt: skip
    ratio = median_warm / median_hand
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"  overhead: {(median_warm - median_hand) / args.trials:+.1f} s per trial; ratio "
          f"sweep/hand {ratio:.3f} (target <= {TARGET:.2f}) {verdict}; first call "
          f"{cold / median_hand:.3f}")  # fmt: skip
    trial_s = median_hand / args.trials
    per_trial = (median_warm - median_hand - report_only) / args.trials
    cpu_hand, cpu_warm = statistics.median(hand_cpu), statistics.median(sweep_cpu[1:] or sweep_cpu)
    print(f"  CPU seconds (user + system): by hand {', '.join(f'{s:.1f}' for s in hand_cpu)} "
          f"(median {cpu_hand:.1f}); sweep {', '.join(f'{s:.1f}' for s in sweep_cpu)} (then "
          f"median {cpu_warm:.1f}); {(cpu_warm - cpu_hand) / args.trials:+.1f} CPU s per trial, "
          f"ratio {cpu_warm / cpu_hand:.3f}")  # fmt: skip
    print(f"  a call without trials (summary, page): {report_only:.1f} s; so per trial "
          f"{per_trial:+.1f} s on {trial_s:.1f} s trials "
          f"({(trial_s + per_trial) / trial_s:.3f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
