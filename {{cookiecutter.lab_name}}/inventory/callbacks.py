"""What the trainer does beside training: a step bar, one line per dev evaluation, and under
`emb sweep` each dev evaluation reported to the trial.

Imported by the training functions only (transformers is slow to import; an experiment's --help
stays fast).
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from inventory import trial
from inventory.progress import bar
from inventory.runs import heartbeat


class ProgressLine(TrainerCallback):
    """A step bar on a terminal, and "step 3/7  loss 0.2157  dev ndcg@10 0.9620" per dev run."""

    loss = float("nan")
    steps: tqdm | None = None

    def on_step_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: object,
    ) -> None:
        if not state.is_world_process_zero:
            return
        heartbeat()  # a long training keeps its run heard from
        if self.steps is None:
            self.steps = bar(state.max_steps, "training", unit="step")
        self.steps.update(state.global_step - self.steps.n)
        if state.global_step >= state.max_steps:
            self.steps.close()

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: object,
    ) -> None:
        logs = logs or {}
        self.loss = logs.get("loss", self.loss)
        ndcg = [value for key, value in logs.items() if key.endswith("_ndcg@10")]
        if ndcg and state.is_world_process_zero:
            tqdm.write(
                f"step {state.global_step}/{state.max_steps}  loss {self.loss:.4f}  "
                f"dev ndcg@10 {ndcg[0]:.4f}",
                file=sys.stdout,
            )  # above the step bar
            sys.stdout.flush()


class TrialReport(TrainerCallback):
    """Under `emb sweep`, each dev evaluation goes to the run's trial, whose pruner may stop the
    run (inventory/trial.py); elsewhere it does nothing. Evaluations are numbered by the quarter
    of training they end (eval_steps=0.25), so that trials of different lengths compare."""

    def on_evaluate(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        metrics: dict[str, float] | None = None,
        **kwargs: object,
    ) -> None:
        ndcg = [value for key, value in (metrics or {}).items() if key.endswith("_ndcg@10")]
        quarter = max(1, round(4 * state.global_step / max(state.max_steps, 1)))
        trial.report(quarter, ndcg[0] if ndcg else float("nan"))  # rank 0's value counts
