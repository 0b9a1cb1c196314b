"""A synthetic experiment for the tests of `emb sweep`: no model, results computed from its flags.

Written into a baked lab as experiments/exp_09_synthetic.py. It is a user-written experiment like
any other (inventory.config.parse_args, a run record, metrics.json), so the sweep treats it as it
treats the recipes' experiments, in about a second a trial. Dev peaks at --shape 0.8 and gold at
--shape 0.2: a sweep that chose by gold would pick the other end.
"""

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab folder, home of `inventory`

from inventory import trial
from inventory.config import TrainConfig, parse_args
from inventory.errors import LabError
from inventory.files import write_json, write_text
from inventory.runner import run_experiment
from inventory.runs import start_run

DEV_QUERIES = 30


@dataclass(frozen=True)
class SyntheticOptions:
    shape: float = 0.5
    decline: float = 0.0  # dev during training falls by this much per trial number (pruning)
    fail_trial: int = -1  # this trial number fails
    slow_trial: int = -1  # this trial number sleeps at half time (Ctrl-C)
    SEARCH_SPACE: ClassVar[dict[str, dict]] = {"shape": {"low": 0.0, "high": 1.0}}


def main() -> None:
    config = parse_args(__file__, TrainConfig(), options=SyntheticOptions())
    options = config.options
    run = start_run(config)
    number = (trial.settings() or {}).get("number")  # None outside a sweep
    if number == options.fail_trial:
        raise LabError(f"synthetic failure of trial {number}")
    dev = 1 - abs(options.shape - 0.8)
    gold = 1 - abs(options.shape - 0.2)
    for evaluation in (1, 2, 3, 4):
        trial.report(evaluation, dev - options.decline * (number or 0))
        if evaluation == 2 and number == options.slow_trial:
            time.sleep(120)
    per_query = [min(1.0, max(0.0, dev + 0.05 * math.sin(i))) for i in range(DEV_QUERIES)]
    mean = sum(per_query) / DEV_QUERIES
    scores = {"ndcg@10": gold}
    write_json(
        run.eval_dir / "metrics.json",
        {
            "before": {"ndcg@10": 0.1},
            "after": scores,
            "bm25": {"ndcg@10": 0.3},
            "hybrid": {"ndcg@10": gold / 2 + 0.15},
            "dev": {"ndcg@10": mean, "queries": DEV_QUERIES},
        },
    )
    rows = "".join(f"dev-{i},after,{value:.6f}\n" for i, value in enumerate(per_query))
    write_text(run.eval_dir / "dev_per_query.csv", "query_id,system,ndcg@10\n" + rows)
    (run.final_dir).mkdir()
    (run.final_dir / "model.safetensors").write_bytes(b"0" * 1024)
    print(f"synthetic: dev {mean:.4f} gold {gold:.4f}")


if __name__ == "__main__":
    run_experiment(main)
