"""Fine-tuning a bi-encoder with SentenceTransformerTrainer: any dataset, any loss."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch
from datasets import Dataset, DatasetDict
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.sentence_transformer import (
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from tqdm.auto import tqdm
from transformers import (
    PrinterCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from inventory import distributed, trial
from inventory.config import TrainConfig
from inventory.datasets import Document, Record
from inventory.evaluate import dev_evaluator
from inventory.files import write_json
from inventory.manifest import differences, encoding
from inventory.progress import bar, muted
from inventory.runs import Run


def train(
    model: SentenceTransformer,
    dataset: Dataset | DatasetDict,
    loss: torch.nn.Module,
    dev: list[Record],
    config: TrainConfig,
    run: Run,
    corpus: Sequence[Document] = (),
    recipe: str = "in-batch negatives",
    batch_sampler: BatchSamplers = BatchSamplers.NO_DUPLICATES,
) -> list[dict]:
    """Fine-tune `model` in place on `dataset` with `loss`; save it to run.final_dir and return
    the training log. The run's manifest records the recipe, the loss and the dataset's columns.

    A DatasetDict trains on several datasets (e.g. rows with and without a hard negative), each
    batch drawn from one of them in proportion to their sizes.

    `batch_sampler`: the default keeps a text from appearing twice in a batch, where it would be
    a false in-batch negative; a loss without in-batch negatives (pairs with labels) takes
    BatchSamplers.BATCH_SAMPLER, a plain shuffle.

    The dev split is evaluated four times during training, among a seeded sample of `corpus`
    (config.dev_queries, config.dev_corpus_sample). Under torchrun or accelerate launch every
    process trains on its share of the batches.
    """
    args = SentenceTransformerTrainingArguments(
        output_dir=str(run.dir),  # the dev evaluator writes its CSV to run.dir/eval/
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,  # times the number of processes
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup,
        seed=config.seed,
        batch_sampler=batch_sampler,
        eval_strategy="steps",
        eval_steps=0.25,  # fractions of the total number of steps
        logging_steps=0.05,
        logging_first_step=True,
        save_strategy="no",  # only the final model is kept
        report_to=config.report_to,  # "none" unless --report-to names a tracker
        dataloader_pin_memory=torch.cuda.is_available(),  # pinning only helps a GPU
        dataloader_drop_last=distributed.world_size() > 1,  # an uneven last batch hangs DDP
        # Without this, torchrun's processes on a CPU-only machine each train alone (no DDP).
        use_cpu=not torch.accelerator.is_available(),
        disable_tqdm=True,
    )
    evaluator = dev_evaluator(
        dev, corpus, config.dev_queries, config.dev_corpus_sample, config.seed
    )
    with muted():  # the model card's "Computing widget examples" bar
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator
        )
    shared = None if isinstance(args.prompts, dict) else args.prompts  # one prompt for all columns
    prompts = args.prompts if isinstance(args.prompts, dict) else {}
    training = encoding(model, prompts.get("anchor", shared), prompts.get("positive", shared))
    columns = dataset.column_names
    run.note(recipe={"name": recipe, "loss": type(loss).__name__, "columns": columns,
                     "batch_sampler": batch_sampler.value})  # fmt: skip
    trainer.remove_callback(PrinterCallback)  # one short line per dev evaluation instead
    trainer.add_callback(ProgressLine())
    trainer.add_callback(TrialReport())  # under `emb sweep` only: dev to the trial, pruning
    with run.phase("training"):  # with the dev evaluations
        trainer.train()
    log = trainer.state.log_history
    _save(model, log, run)
    evaluation = encoding(model, evaluator.query_prompt, evaluator.corpus_prompt)
    run.note(encoding={"training": training, "evaluation": evaluation,
                       "differences": differences(training, evaluation)})  # fmt: skip
    return log


@distributed.main_process
def _save(model: SentenceTransformer, log: list[dict], run: Run) -> None:
    model.save(str(run.final_dir))
    write_json(run.train_log, log)


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
