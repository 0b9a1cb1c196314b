"""Fine-tuning with in-batch negatives (MultipleNegativesRankingLoss)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.sentence_transformer import (
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from tqdm.auto import tqdm
from transformers import (
    PrinterCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from inventory.config import TrainConfig
from inventory.datasets import Document, Record, to_training_dataset
from inventory.evaluate import dev_evaluator
from inventory.progress import bar, muted
from inventory.runs import Run


def train(
    model: SentenceTransformer,
    train: list[Record],
    dev: list[Record],
    config: TrainConfig,
    run: Run,
    corpus: Sequence[Document] = (),
) -> list[dict]:
    """Fine-tune `model` in place, save it to run.final_dir and return the training log.

    Each query's positive is contrasted with the other passages in the batch (and its hard
    negative, when the data has them); the dev split is evaluated about ten times during training,
    among a seeded sample of `corpus` (config.dev_queries, config.dev_corpus_sample).
    """
    args = SentenceTransformerTrainingArguments(
        output_dir=str(run.dir),  # the dev evaluator writes its CSV to run.dir/eval/
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup,
        seed=config.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,  # a duplicate in the batch is a false negative
        eval_strategy="steps",
        eval_steps=0.1,  # fractions of the total number of steps
        logging_steps=0.05,
        logging_first_step=True,
        save_strategy="no",  # only the final model is kept
        report_to="none",
        dataloader_pin_memory=torch.cuda.is_available(),  # pinning only helps a GPU
        disable_tqdm=True,
    )
    evaluator = dev_evaluator(
        dev, corpus, config.dev_queries, config.dev_corpus_sample, config.seed
    )
    with muted():  # the model card's "Computing widget examples" bar
        trainer = SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset=to_training_dataset(train),
            loss=MultipleNegativesRankingLoss(model),
            evaluator=evaluator,
        )
    trainer.remove_callback(PrinterCallback)  # one short line per dev evaluation instead
    trainer.add_callback(ProgressLine())
    trainer.train()
    model.save(str(run.final_dir))
    log = trainer.state.log_history
    run.train_log.write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
    return log


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
        if not state.is_local_process_zero:
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
        if ndcg and state.is_local_process_zero:
            tqdm.write(
                f"step {state.global_step}/{state.max_steps}  loss {self.loss:.4f}  "
                f"dev ndcg@10 {ndcg[0]:.4f}",
                file=sys.stdout,
            )  # above the step bar
            sys.stdout.flush()
