"""Shared helpers for the lab's tests."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

# The lab folder, so tests import `inventory` (also in a lab added to an existing project).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never download anything
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts torchrun processes (about 30 s)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`pytest` stays within seconds; `pytest -m slow` (or any -m) chooses for itself."""
    if config.option.markexpr:
        return
    skip = pytest.mark.skip(reason="starts torchrun: run `pytest -m slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def write_jsonl(path: Path, rows: list) -> Path:
    """Write rows (dicts, or raw strings written as they are) one per line."""
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def record(query: str, pos: list[str], neg: list[str] | None = None, **extra) -> dict:
    return {"query": query, "pos": pos, **({"neg": neg} if neg is not None else {}), **extra}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A valid data folder with small train/dev/gold splits."""
    rows = [
        record("descale the machine", ["Run the descale cycle."], ["Grind finer."], id="x-1"),
        record("milk will not foam", ["Use cold milk."], ["Check the fuse."], id="x-2"),
    ]
    for split in ("train", "dev", "gold"):
        write_jsonl(tmp_path / f"{split}.jsonl", rows)
    return tmp_path


@pytest.fixture(scope="session")
def static_model():
    """A small SentenceTransformer (random word vectors, mean pooled) built in milliseconds."""
    return build_static_model()


@pytest.fixture(scope="session")
def bert_model(tmp_path_factory: pytest.TempPathFactory):
    """A tiny random BERT with mean pooling: real matmuls, so bf16 changes its vectors."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("bert")
    words = sorted({word for text in SAMPLE_TEXTS for word in text.split()})
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words]))
    BertTokenizerFast(str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words) + 4, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64)  # fmt: skip
    BertModel(config).save_pretrained(folder)
    transformer = Transformer(str(folder), max_seq_length=32)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")


def build_static_model():
    """The static_model fixture's model (also built by scripts that tests start)."""
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words = sorted({word for text in SAMPLE_TEXTS for word in text.lower().split()})
    vocabulary = {word: index for index, word in enumerate(["[UNK]", *words])}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    weights = np.random.default_rng(0).normal(size=(len(vocabulary), 16)).astype(np.float32)
    return SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)])


SAMPLE_TEXTS = [
    "descale the machine", "run the descale cycle", "milk will not foam", "use cold milk",
    "grind finer for a slower shot", "check the fuse", "the pump is loud", "prime the pump",
    "clean the steam wand", "water tank leaks", "replace the gasket", "coffee tastes sour",
]  # fmt: skip
