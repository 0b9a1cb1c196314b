"""Fine-tuning a bi-encoder with SentenceTransformerTrainer: any dataset, any loss."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from inventory import distributed
from inventory.config import TrainConfig
from inventory.datasets import Document, Record
from inventory.device import settings
from inventory.evaluate import dev_evaluator
from inventory.files import check_space, write_folder, write_json
from inventory.manifest import differences, encoding
from inventory.progress import muted
from inventory.runs import Run
from inventory.trainer_args import training_arguments

if TYPE_CHECKING:
    import torch
    from datasets import Dataset, DatasetDict
    from sentence_transformers import SentenceTransformer

# sentence-transformers' BatchSamplers values (what train's batch_sampler takes)
NO_DUPLICATES = "no_duplicates"  # a text appears at most once per batch
PLAIN_SHUFFLE = "batch_sampler"  # any batch: for losses without in-batch negatives
# Weight files a base model's folder may hold in several formats; the saved model has its own.
WEIGHTS = {".safetensors", ".bin", ".h5", ".ot", ".msgpack", ".onnx", ".pt", ".pth"}


def train(
    model: SentenceTransformer,
    dataset: Dataset | DatasetDict,
    loss: torch.nn.Module,
    dev: list[Record],
    config: TrainConfig,
    run: Run,
    corpus: Sequence[Document] = (),
    recipe: str = "in-batch negatives",
    batch_sampler: str = NO_DUPLICATES,
) -> list[dict]:
    """Fine-tune `model` in place on `dataset` with `loss`; save it to run.final_dir and return
    the training log. The run's manifest records the recipe, the loss and the dataset's columns.

    A DatasetDict trains on several datasets (e.g. rows with and without a hard negative), each
    batch drawn from one of them in proportion to their sizes.

    `batch_sampler`: the default keeps a text from appearing twice in a batch, where it would be
    a false in-batch negative; a loss without in-batch negatives (pairs with labels) takes
    PLAIN_SHUFFLE.

    The dev split is evaluated four times during training, among a seeded sample of `corpus`
    (config.dev_queries, config.dev_corpus_sample). Under torchrun or accelerate launch every
    process trains on its share of the batches.
    """
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from transformers import PrinterCallback

    from inventory.callbacks import ProgressLine, TrialReport

    sampler = BatchSamplers(batch_sampler)
    args = training_arguments(
        SentenceTransformerTrainingArguments, config, run.dir, batch_sampler=sampler
    )
    evaluator = dev_evaluator(
        dev, corpus, config.dev_queries, config.dev_corpus_sample, config.seed,
        settings(config).encoding.batch_size,
    )  # fmt: skip
    with muted():  # the model card's "Computing widget examples" bar
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator
        )
    shared = None if isinstance(args.prompts, dict) else args.prompts  # one prompt for all columns
    prompts = args.prompts if isinstance(args.prompts, dict) else {}
    training = encoding(model, prompts.get("anchor", shared), prompts.get("positive", shared))
    columns = dataset.column_names
    run.note(recipe={"name": recipe, "loss": type(loss).__name__, "columns": columns,
                     "batch_sampler": sampler.value})  # fmt: skip
    trainer.remove_callback(PrinterCallback)  # one short line per dev evaluation instead
    trainer.add_callback(ProgressLine())
    _check_space(model, run)
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
    """Save the model whole or not at all (a temporary folder renamed to final/)."""
    run.enter("saving the model")
    write_folder(run.final_dir, model.save, "saving the model to", model_bytes(model))
    write_json(run.train_log, log)


@distributed.main_process
def _check_space(model: SentenceTransformer, run: Run) -> None:
    """A disk too full for the model fails now rather than after training."""
    check_space(run.dir, model_bytes(model), "the fine-tuned model")


def model_bytes(model: torch.nn.Module) -> int:
    """About the size of the model's saved folder: its weights, and the other files (tokenizer,
    configs) at the top of the folder it was loaded from."""
    weights = sum(parameter.numel() * parameter.element_size() for parameter in model.parameters())
    loaded_from = getattr(getattr(model, "tokenizer", None), "name_or_path", None)
    folder = Path(loaded_from) if loaded_from else None
    if folder is None or not folder.is_dir():
        return weights
    others = [path for path in folder.iterdir() if path.is_file() and path.suffix not in WEIGHTS]
    return weights + sum(path.stat().st_size for path in others)
