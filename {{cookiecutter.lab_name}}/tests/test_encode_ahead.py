"""Tokenising ahead of the model gives the library's vectors, whatever the threads or batch."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE_TEXTS

from inventory import device
from inventory.config import TrainConfig
from inventory.device import Encoding
from inventory.embeddings import encode
from inventory.encode_ahead import encode_ahead

SHUFFLED = [SAMPLE_TEXTS[i] for i in np.random.default_rng(1).permutation(len(SAMPLE_TEXTS))]


def ahead(model, texts: list[str], role: str, batch_size: int = 4, threads: int = 2) -> np.ndarray:
    return np.concatenate([block for _, block in encode_ahead(model, texts, role, batch_size,
                                                               threads)])  # fmt: skip


@pytest.mark.parametrize("role", ["query", "document"])
@pytest.mark.parametrize("threads", [1, 3])
def test_the_vectors_equal_the_librarys(bert_model, role: str, threads: int) -> None:
    library = encode(bert_model, SHUFFLED, role, "library", Encoding("fp32", 5))
    ahead = encode(bert_model, SHUFFLED, role, "ahead", Encoding("fp32", 5, threads))
    assert ahead.dtype == np.float32 and ahead.shape == library.shape
    np.testing.assert_allclose(ahead, library, atol=1e-6)


def test_prompts_and_truncation_apply_as_in_the_library(bert_model) -> None:
    """encode_query's "query" prompt, encode_document's "passage" one, the model's truncate_dim."""
    saved = dict(bert_model.prompts), bert_model.truncate_dim
    plain = ahead(bert_model, SHUFFLED, "query")
    bert_model.prompts = {"query": "descale", "passage": "milk"}
    bert_model.truncate_dim = 8
    try:
        for role, encode_fn in (("query", bert_model.encode_query),
                                ("document", bert_model.encode_document)):  # fmt: skip
            found = ahead(bert_model, SHUFFLED, role)
            np.testing.assert_allclose(found, encode_fn(SHUFFLED, batch_size=4), atol=1e-6)
            assert found.shape == (len(SHUFFLED), 8)
        assert not np.allclose(ahead(bert_model, SHUFFLED, "query"), plain[:, :8])
    finally:
        bert_model.prompts, bert_model.truncate_dim = saved


def test_blocks_come_in_order_each_text_once(bert_model) -> None:
    """On a CPU every batch is a block (no GPU to wait for); no texts, no block."""
    blocks = encode_ahead(bert_model, SAMPLE_TEXTS, "document", 5, 2)
    assert [(start, len(block)) for start, block in blocks] == [(0, 5), (5, 5), (10, 2)]
    assert list(encode_ahead(bert_model, [], "query", 5, 2)) == []


def test_a_gpu_tokenises_ahead_with_the_dataloader_workers(monkeypatch) -> None:
    """The GPU default: 4 threads, as many as --dataloader-workers; the CPU: none, unless set."""
    monkeypatch.setattr(device, "device_kind", lambda: "cpu")
    monkeypatch.setattr(device, "cpu_has_bf16", lambda: False)
    assert device.settings(TrainConfig()).encoding.threads == 0
    assert device.settings(TrainConfig(dataloader_workers=3)).encoding.threads == 3
    monkeypatch.setattr(device, "device_kind", lambda: "cuda")
    monkeypatch.setattr(device, "auto_precision", lambda kind: ("tf32", "bf16"))
    monkeypatch.setattr(device, "unsupported", lambda precision, kind: None)
    assert device.settings(TrainConfig()).encoding == Encoding("bf16", 256, 4)
