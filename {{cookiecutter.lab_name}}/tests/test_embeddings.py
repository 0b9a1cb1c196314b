from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_TEXTS
from sentence_transformers import SentenceTransformer

from inventory.embeddings import EmbeddingCache, model_key


def cache_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.npz"))


def test_a_rerun_encodes_nothing_and_a_changed_text_only_itself(static_model, tmp_path) -> None:
    first = EmbeddingCache(static_model, tmp_path)
    vectors = first.encode(SAMPLE_TEXTS, "document", "corpus")
    assert first.encoded == len(SAMPLE_TEXTS) and len(cache_files(tmp_path)) == 1

    again = EmbeddingCache(static_model, tmp_path)
    np.testing.assert_array_equal(again.encode(SAMPLE_TEXTS, "document", "corpus"), vectors)
    assert again.encoded == 0

    edited = [*SAMPLE_TEXTS[:-1], "coffee tastes bitter"]
    third = EmbeddingCache(static_model, tmp_path)
    third.encode(edited, "document", "corpus")
    assert third.encoded == 1
    assert (
        EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS[:1], "query", "q").shape[0] == 1
    )


def test_another_model_or_max_seq_length_misses(static_model, tmp_path, monkeypatch) -> None:
    EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS, "document", "corpus")
    other = SentenceTransformer(modules=[type(static_model[0])(
        static_model[0].tokenizer, embedding_weights=static_model[0].embedding.weight.detach() + 1
    )])  # fmt: skip
    assert model_key(other) != model_key(static_model)
    assert EmbeddingCache(other, tmp_path).encode(SAMPLE_TEXTS, "document", "c").shape == (12, 16)
    key = model_key(static_model)
    monkeypatch.setattr(SentenceTransformer, "max_seq_length", 64)
    assert model_key(static_model) != key
    shorter = EmbeddingCache(static_model, tmp_path)
    shorter.encode(SAMPLE_TEXTS, "document", "corpus")
    assert shorter.encoded == len(SAMPLE_TEXTS)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_cache_file_is_detected_and_recomputed(
    static_model, tmp_path, capsys, damage: str
) -> None:
    expected = EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS, "document", "corpus")
    [path] = cache_files(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF  # inside the stored vectors
    path.write_bytes(bytes(data))
    cache = EmbeddingCache(static_model, tmp_path)
    assert "is damaged" in capsys.readouterr().out
    np.testing.assert_array_equal(cache.encode(SAMPLE_TEXTS, "document", "corpus"), expected)
    assert cache.encoded == len(SAMPLE_TEXTS)


def test_only_the_main_process_writes(static_model, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RANK", "1")
    EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS, "document", "corpus")
    assert cache_files(tmp_path) == []


def test_many_small_writes_are_merged(static_model, tmp_path) -> None:
    for text in SAMPLE_TEXTS:
        EmbeddingCache(static_model, tmp_path).encode([text], "document", "corpus")
    assert len(cache_files(tmp_path)) < len(SAMPLE_TEXTS)
    cache = EmbeddingCache(static_model, tmp_path)
    cache.encode(SAMPLE_TEXTS, "document", "corpus")
    assert cache.encoded == 0
