"""Embeddings computed once: a cache by model and text, on disk for the base model.

The key of a model is a hash of its weights as loaded, its modules (pooling, normalisation, ...)
and max_seq_length, so a fine-tuned model, another checkpoint or another max_seq_length never
reads the base model's vectors. Each text is found by a hash of its role ("query"/"document") and
its text, so a changed corpus re-encodes only the texts that changed. Files are .npz (zip with
CRC-32 checks): a truncated or damaged file is reported, deleted and recomputed, never used.
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inventory.config import LAB_ROOT
from inventory.device import FP32, Encoding, encoding_precision
from inventory.files import reason, write_errno
from inventory.progress import bar
from inventory.runs import heartbeat

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

CACHE_DIR = LAB_ROOT / ".cache" / "embeddings"  # git-ignored
BLOCK = 256  # texts per model.encode call: the progress bar moves once per block
MAX_FILES = 8  # more cache files than this are merged into one


def model_key(model: SentenceTransformer, precision: str = "fp32") -> str:
    """A hash of what decides the vectors: weights, modules, max_seq_length and the encoding
    precision (bf16 vectors never serve an fp32 run, nor the reverse)."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in model.state_dict().items():
        data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(memoryview(data))
    digest.update(repr(model).encode())  # the modules and their settings (normalisation, pooling)
    digest.update(f"max_seq_length={model.max_seq_length}".encode())
    if precision != "fp32":  # fp32 keys as before the precision was in the key: caches stay valid
        digest.update(f"precision={precision}".encode())
    return digest.hexdigest()


def is_main_process() -> bool:
    """Only one process of a distributed run (torchrun sets RANK) writes the cache."""
    return os.environ.get("RANK", "0") == "0"


class EmbeddingCache:
    """Vectors of one model by text; in memory, and also on disk when `folder` is given.
    `encoding`: the precision (part of the key) and batch size the model encodes with."""

    def __init__(
        self, model: SentenceTransformer, folder: Path | None = None, encoding: Encoding = FP32
    ) -> None:
        self.model = model
        self.encoding = encoding
        key = model_key(model, encoding.precision)
        self.folder = folder / key if folder is not None else None
        self.vectors: dict[bytes, np.ndarray] = {}
        self.encoded = 0  # texts this cache had to encode (the others were found)
        if self.folder is not None and self.folder.is_dir():
            for path in sorted(self.folder.glob("*.npz")):
                self._load(path)

    def encode(self, texts: Sequence[str], role: str, desc: str) -> np.ndarray:
        """Vectors for `texts` (role "query" or "document"), encoding only what is missing."""
        keys = [
            hashlib.blake2b(f"{role}\0{text}".encode(), digest_size=16).digest() for text in texts
        ]
        missing = {
            key: text for key, text in zip(keys, texts, strict=True) if key not in self.vectors
        }
        if missing:
            vectors = encode(self.model, list(missing.values()), role, desc, self.encoding)
            new = dict(zip(missing, vectors, strict=True))
            self.vectors.update(new)
            self.encoded += len(new)
            if self.folder is not None and is_main_process():
                self._save(new)
        if not keys:
            return np.zeros((0, self.model.get_embedding_dimension() or 0), dtype=np.float32)
        return np.stack([self.vectors[key] for key in keys])

    def _load(self, path: Path) -> None:
        try:
            with np.load(path) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            print(f"embedding cache: {path} is damaged ({error}); recomputing its vectors")
            path.unlink(missing_ok=True)
            return
        dimension = self.model.get_embedding_dimension()
        if keys.ndim != 2 or keys.shape[1] != 16 or vectors.shape != (len(keys), dimension):
            print(f"embedding cache: {path} does not fit this model; recomputing its vectors")
            path.unlink(missing_ok=True)
            return
        self.vectors.update(zip((bytes(key) for key in keys), vectors, strict=True))

    def _save(self, new: dict[bytes, np.ndarray]) -> None:
        """Add `new` to the folder; a write that fails is a warning, as the cache only saves
        time: the run goes on, and this cache stops writing."""
        assert self.folder is not None
        try:
            self._write(new, self.folder)
        except OSError as error:
            why = reason(code) if (code := write_errno(error)) else str(error)
            print(f"warning: embedding cache not saved in {self.folder} ({why}); the run goes "
                  "on without it", file=sys.stderr)  # fmt: skip
            self.folder = None

    def _write(self, new: dict[bytes, np.ndarray], folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        old = sorted(folder.glob("*.npz"))
        if len(old) >= MAX_FILES:  # merge: rewrite everything known into one file
            new, old = self.vectors, old
        else:
            old = []
        keys = np.frombuffer(b"".join(new), dtype=np.uint8).reshape(len(new), 16)
        path = folder / f"{uuid.uuid4().hex}.npz"
        partial = path.with_suffix(".partial")
        try:
            with partial.open("wb") as handle:
                np.savez(handle, keys=keys, vectors=np.stack(list(new.values())))
            partial.replace(path)  # a reader sees the whole file or none of it
        finally:
            partial.unlink(missing_ok=True)
        for stale in old:
            stale.unlink(missing_ok=True)


def encode(
    model: SentenceTransformer, texts: list[str], role: str, desc: str,
    encoding: Encoding = FP32,
) -> np.ndarray:  # fmt: skip
    """model.encode_query / encode_document, longest texts first, with a progress bar; in
    `encoding`'s precision (the weights untouched), the vectors float32."""
    encode_fn = model.encode_query if role == "query" else model.encode_document
    order = sorted(range(len(texts)), key=lambda index: -len(texts[index]))
    vectors = np.zeros((len(texts), model.get_embedding_dimension() or 0), np.float32)
    progress = bar(len(texts), desc, unit="text")
    step = max(BLOCK, encoding.batch_size)
    for start in range(0, len(texts), step):
        block = order[start : start + step]
        with encoding_precision(model, encoding.precision):
            found = encode_fn(
                [texts[i] for i in block], batch_size=encoding.batch_size, convert_to_numpy=True
            )
        vectors[block] = found
        progress.update(len(block))
        heartbeat()  # a large corpus keeps its run heard from
    progress.close()
    return vectors
