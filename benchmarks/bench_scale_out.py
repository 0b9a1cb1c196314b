"""exp_01_baseline in one process against `torchrun --nproc_per_node 2` (DDP, gloo on CPU).

Same lab, same sample data, same flags; the runs alternate so that drifting machine load hits
all alike. Prints wall time, the largest process's peak RSS and gold ndcg@10 before -> after
for each. On a CPU the two processes share the cores (torchrun gives each one thread), so little
speedup is expected: the point is that both runs train and score in the same range.
Run: python benchmarks/bench_scale_out.py [--model tiny|minilm] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

from bench_baseline import REPO_ROOT, bake_lab, measure

# The tiny model needs a few epochs at a high learning rate to learn (as in tests/test_pipeline.py).
FLAGS = {"tiny": ["--epochs", "4", "--learning-rate", "1e-3"], "minilm": []}
# Commands before the experiment file. torchrun gives each process one thread; "1 thread" runs
# one process alike, to tell the effect of threads on a busy machine from that of DDP.
LAUNCHERS = {
    "1 process": [sys.executable],
    "1 thread": ["env", "OMP_NUM_THREADS=1", sys.executable],
    "torchrun x2": [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ],  # fmt: skip
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(FLAGS), default="tiny")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float, str]]] = {name: [] for name in LAUNCHERS}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_lab(Path(scratch))
        flags = FLAGS[args.model]
        if args.model == "tiny":
            sys.path.insert(0, str(REPO_ROOT))
            from tests.tiny_model import build_tiny_model, lab_texts

            tiny = build_tiny_model(Path(scratch) / "tiny", lab_texts(lab / "data"))
            flags = [*flags, "--base-model", str(tiny)]
        for run in range(args.repeat):
            for name, launcher in LAUNCHERS.items():
                out = Path(scratch) / f"{name.replace(' ', '-')}-{run}"
                command = [*launcher, "experiments/exp_01_baseline.py", *flags,
                           "--output-dir", str(out)]  # fmt: skip
                results[name].append(measure(command, lab))

    print(
        f"exp_01_baseline, {args.model} model, sample data, {args.repeat} runs each, "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    for name, runs in results.items():
        times = [seconds for seconds, _, _ in runs]
        scores = [re.search(r"gold ndcg@10: before (\S+) -> after (\S+)", o) for _, _, o in runs]
        afters = ", ".join(score.group(2) for score in scores if score)
        print(
            f"{name:>12}: median {statistics.median(times):6.1f} s"
            f"  (runs {', '.join(f'{seconds:.1f}' for seconds in times)})"
            f"  peak RSS {max(mib for _, mib, _ in runs):5.0f} MiB"
            f"  gold ndcg@10 {scores[0].group(1) if scores[0] else '?'} -> {afters}"
        )


if __name__ == "__main__":
    main()
