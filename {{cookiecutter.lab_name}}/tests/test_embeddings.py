import os
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_TEXTS
from sentence_transformers import SentenceTransformer

from inventory.embeddings import ORPHAN_AGE, EmbeddingCache, model_key


def cache_files(folder: Path) -> list[Path]:
    """The vector files: one per shard, beside its .json index."""
    return sorted(folder.rglob("*.npy"))


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


@pytest.mark.parametrize("damage", ["truncate", "flip", "index", "extra"])
def test_a_damaged_cache_file_is_detected_and_recomputed(
    static_model, tmp_path, capsys, damage: str
) -> None:
    expected = EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS, "document", "corpus")
    [path] = cache_files(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 8]
    elif damage == "flip":
        data[len(data) - 100] ^= 0x01  # one bit of the stored vectors
    elif damage == "extra":
        data += bytes(64)
    else:  # the index no longer parses
        index = path.with_suffix(".json")
        index.write_text(index.read_text()[:-10])
    path.write_bytes(bytes(data))
    cache = EmbeddingCache(static_model, tmp_path)
    np.testing.assert_array_equal(cache.encode(SAMPLE_TEXTS, "document", "corpus"), expected)
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"embedding cache: {path} is damaged (")
    assert cache.encoded == len(SAMPLE_TEXTS)
    assert [p.name for p in cache_files(tmp_path)] != [path.name], "the damaged shard is gone"


def test_a_cached_corpus_is_memory_mapped_and_in_order_not_copied(static_model, tmp_path) -> None:
    EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS, "document", "corpus")
    cache = EmbeddingCache(static_model, tmp_path)
    vectors = cache.encode(SAMPLE_TEXTS, "document", "corpus")
    assert isinstance(vectors, np.memmap) and vectors.flags.writeable  # copy on write
    shuffled = cache.encode(SAMPLE_TEXTS[::-1], "document", "corpus")
    np.testing.assert_array_equal(shuffled, vectors[::-1])


def test_the_old_npz_format_is_removed_and_reencoded(static_model, tmp_path, capsys) -> None:
    old = tmp_path / model_key(static_model) / "0123456789abcdef0123456789abcdef.npz"
    old.parent.mkdir()
    np.savez(old, keys=np.zeros((1, 16), np.uint8), vectors=np.zeros((1, 16), np.float32))
    cache = EmbeddingCache(static_model, tmp_path)
    cache.encode(SAMPLE_TEXTS, "document", "corpus")
    assert not old.exists() and cache.encoded == len(SAMPLE_TEXTS)
    assert "removed 1 file(s) of the old .npz format" in capsys.readouterr().out


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


def test_a_shard_left_without_its_index_is_deleted_once_old(
    static_model, tmp_path, monkeypatch, capsys
) -> None:
    """A crash between a shard's two writes leaves an .npy that nothing reads: an old one goes,
    a fresh one may be another run's write in progress and stays, as does every indexed shard."""
    EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS, "document", "corpus")
    [shard] = cache_files(tmp_path)
    old, fresh = shard.with_name("0" * 32 + ".npy"), shard.with_name("f" * 32 + ".npy")
    for orphan in (old, fresh):
        orphan.write_bytes(shard.read_bytes())
    hour_ago = time.time() - ORPHAN_AGE - 60
    os.utime(old, (hour_ago, hour_ago))
    os.utime(shard, (hour_ago, hour_ago))
    monkeypatch.setenv("RANK", "1")  # a helper process of a distributed run deletes nothing
    EmbeddingCache(static_model, tmp_path).encode(SAMPLE_TEXTS, "document", "corpus")
    assert cache_files(tmp_path) == sorted([shard, old, fresh])
    monkeypatch.delenv("RANK")
    cache = EmbeddingCache(static_model, tmp_path)
    cache.encode(SAMPLE_TEXTS, "document", "corpus")
    assert cache.encoded == 0 and cache_files(tmp_path) == sorted([shard, fresh])
    assert "removed 1 shard(s) left without an index" in capsys.readouterr().out
