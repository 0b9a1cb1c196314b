"""`emb sweep` against running the same trials by hand: what the sweep itself costs.

A baked lab on its sample data; every trial does the same work (the search space is a single
learning rate, the experiment's default), so the sweep's N trials and N hand runs of
`python experiments/exp_01_baseline.py` differ only by the sweep: asking the experiment for its
flags (once per experiment, then cached), Optuna's storage in both processes, reporting dev
during training, and the summary and page at the end. Runs alternate (hand, sweep, hand, sweep)
so that drifting machine load hits both alike. Target: sweep / hand <= 1.05.
Run: python benchmarks/bench_sweep_overhead.py [--model tiny|minilm] [--trials N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.05
ENV = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
EMB = [sys.executable, "-c", "from embed_lab.cli import main; main()"]


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def bake_lab(parent: Path) -> Path:
    from cookiecutter.main import cookiecutter

    extra = {"lab_name": "bench-lab", "init_git": False}
    return Path(cookiecutter(str(REPO_ROOT), no_input=True, extra_context=extra, output_dir=parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("tiny", "minilm"), default="tiny")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
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
        space.write_text("[learning_rate]\nchoices = [5e-5]\n", encoding="utf-8")
        hand_command = [sys.executable, "experiments/exp_01_baseline.py", *flags]
        timed(hand_command, lab)  # warm the embedding cache and the OS file cache for both
        hand, sweep, first_call = [], [], None
        for repeat in range(args.repeat):
            hand.append(sum(timed(hand_command, lab) for _ in range(args.trials)))
            command = [*EMB, "sweep", "exp_01_baseline", "--study", f"bench{repeat}",
                       "--trials", str(args.trials), "--space", str(space), "--no-prune",
                       "--keep-models", "all", "--", *flags]  # fmt: skip
            seconds = timed(command, lab)
            if repeat == 0:
                first_call = seconds  # includes asking the experiment for its flags
            sweep.append(seconds)
    median_hand, median_sweep = statistics.median(hand), statistics.median(sweep)
    print(f"emb sweep vs the same {args.trials} trials by hand, exp_01_baseline, {args.model} "
          f"model, sample data, {args.repeat} rounds")  # fmt: skip
    print(f"  by hand: {', '.join(f'{s:.1f}' for s in hand)} s  (median {median_hand:.1f})")
    print(f"  sweep:   {', '.join(f'{s:.1f}' for s in sweep)} s  (median {median_sweep:.1f}; the "
          f"first call asks the experiment for its flags: {first_call:.1f} s)")  # fmt: skip
    per_trial = (median_sweep - median_hand) / args.trials
    ratio = median_sweep / median_hand
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"  overhead: {per_trial:+.1f} s per trial; ratio sweep/hand {ratio:.3f} "
          f"(target <= {TARGET:.2f}) {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
