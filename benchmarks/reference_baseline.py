"""Reference for the lab's exp_01_baseline: the same steps, hand-written with sentence-transformers.

Evaluate the base model on gold, fine-tune with MultipleNegativesRankingLoss (same hyperparameters,
same dev evaluation schedule), evaluate again, save. No lab code, no plots, no run bookkeeping.
Run: python benchmarks/reference_baseline.py DATA_DIR OUTPUT_DIR [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.sentence_transformer import (
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def ir_evaluator(records: list[dict], name: str) -> InformationRetrievalEvaluator:
    corpus: dict[str, str] = {}
    queries, relevant = {}, {}
    for number, record in enumerate(records, start=1):
        for text in record["pos"] + record.get("neg", []):
            corpus.setdefault(text, f"{name}-doc-{len(corpus) + 1}")
        queries[f"q{number}"] = record["query"]
        relevant[f"q{number}"] = {corpus[text] for text in record["pos"]}
    return InformationRetrievalEvaluator(
        queries, {i: t for t, i in corpus.items()}, relevant, name=name,
        accuracy_at_k=[1, 10], precision_recall_at_k=[1, 10, 100],
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--base-model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    train = read(args.data_dir / "train.jsonl")
    rows = {"anchor": [], "positive": [], "negative": []}
    for record in train:
        for index, positive in enumerate(record["pos"]):
            rows["anchor"].append(record["query"])
            rows["positive"].append(positive)
            rows["negative"].append(record["neg"][index % len(record["neg"])])

    model = SentenceTransformer(args.base_model)
    model.max_seq_length = 256
    gold = ir_evaluator(read(args.data_dir / "gold.jsonl"), "gold")
    before = gold(model, output_path=str(args.output_dir / "eval"))

    training_args = SentenceTransformerTrainingArguments(
        output_dir=str(args.output_dir),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=16,
        learning_rate=5e-5,
        warmup_steps=0.1,
        seed=42,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy="steps",
        eval_steps=0.1,
        logging_steps=0.05,
        logging_first_step=True,
        save_strategy="no",
        report_to="none",
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=training_args,
        train_dataset=Dataset.from_dict(rows),
        loss=MultipleNegativesRankingLoss(model),
        evaluator=ir_evaluator(read(args.data_dir / "dev.jsonl"), "dev"),
    )
    trainer.train()
    after = gold(model, output_path=str(args.output_dir / "eval"))
    model.save(str(args.output_dir / "final"))

    key = gold.primary_metric
    print(f"gold ndcg@10: before {before[key]:.4f} -> after {after[key]:.4f}")


if __name__ == "__main__":
    main()
