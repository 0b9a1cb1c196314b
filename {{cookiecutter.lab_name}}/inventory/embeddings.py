"""Embeddings computed once: a cache by model and text, on disk for the base model.

The key of a model is a hash of its weights as loaded, its modules (pooling, normalisation, ...)
and max_seq_length, so a fine-tuned model, another checkpoint or another max_seq_length never
reads the base model's vectors. Each text is found by a hash of its role ("query"/"document") and
its text, so a changed corpus re-encodes only the texts that changed.

On disk a model's folder holds shards, each the vectors of the texts encoded together: `<id>.npy`,
one float32 array (texts, dim) that is memory-mapped when read (a million-document corpus is not
copied into memory), and `<id>.json`, its index: the text hashes in row order, the shape and a
CRC-32 of hashes and vectors. Both are written atomically (inventory/files.py), the index last, so
a shard without an index is incomplete and never read (and deleted once an hour old). A shard
whose size, shape or checksum disagrees is reported in one line, deleted and recomputed, never
used. The old format (one .npz per write) is not read: its files are deleted on sight, and their
texts are encoded once more.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from inventory import distributed
from inventory.config import LAB_ROOT
from inventory.device import FP32, Encoding, encoding_precision
from inventory.encode_ahead import encode_ahead
from inventory.files import reason, write_errno, write_stream
from inventory.progress import bar
from inventory.runs import heartbeat

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

CACHE_DIR = LAB_ROOT / ".cache" / "embeddings"  # git-ignored
BLOCK = 256  # texts per model.encode call (per process): the progress bar moves once per block
MAX_FILES = 8  # more shards than this are merged into one
FORMAT = 2  # 1 was one .npz per write
KEY_BYTES = 16
CRC_BLOCK = 1 << 26  # bytes checksummed at once
# A shard's .npy is last changed just before its index is written (fsync, rename, then a JSON of
# its keys): seconds, minutes on a slow network disk. Another run of the lab may be in that gap now,
# so an .npy without an index is a crash's leftover only once unchanged for an hour (a writer
# stalled longer loses just that shard: its index alone reads as damaged and is recomputed).
ORPHAN_AGE = 3600.0  # seconds


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
    `encoding`: the precision (part of the key) and batch size the model encodes with.

    The folder is read on first use, so processes of a distributed run that only help encode
    never read it.
    """

    def __init__(
        self, model: SentenceTransformer, folder: Path | None = None, encoding: Encoding = FP32
    ) -> None:
        self.model = model
        self.encoding = encoding
        key = model_key(model, encoding.precision)
        self.folder = folder / key if folder is not None else None
        self.dimension = model.get_embedding_dimension() or 0
        self.shards: list[np.ndarray] = []  # (texts, dim) float32 each, memory-mapped if read
        self.starts = np.zeros(1, dtype=np.int64)  # the first position of each shard, then the end
        self.position: dict[bytes, int] = {}  # text hash -> position across the shards
        self.paths: list[Path] = []  # the shards on disk that this cache read or wrote
        self.encoded = 0  # texts this cache had to encode (the others were found)
        self.loaded = self.folder is None

    def encode(self, texts: Sequence[str], role: str, desc: str) -> np.ndarray:
        """Vectors for `texts` (role "query" or "document"), encoding only what is missing.

        Texts stored together, in order, come back as a view of the cache's array (no copy of a
        large corpus): copy the result before changing it in place."""
        if not self.loaded:
            self._load()
        keys = [text_key(text, role) for text in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True)
                   if key not in self.position}  # fmt: skip
        if missing:
            vectors = encode(self.model, list(missing.values()), role, desc, self.encoding)
            new_keys = list(missing)
            self._add(new_keys, vectors)
            self.encoded += len(new_keys)
            if self.folder is not None and is_main_process():
                self._save(new_keys, vectors)
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._gather(np.fromiter((self.position[key] for key in keys), np.int64, len(keys)))

    def _add(self, keys: list[bytes], vectors: np.ndarray, path: Path | None = None) -> None:
        start = int(self.starts[-1])
        self.position.update(zip(keys, range(start, start + len(keys)), strict=True))
        self.shards.append(vectors)
        self.starts = np.append(self.starts, start + len(keys))
        if path is not None:
            self.paths.append(path)

    def _gather(self, positions: np.ndarray) -> np.ndarray:
        shard_of = np.searchsorted(self.starts, positions, side="right") - 1
        first, last = int(shard_of[0]), int(shard_of[-1])
        rows = positions - self.starts[shard_of]
        if first == last and np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
            return self.shards[first][rows[0] : rows[0] + len(rows)]  # one shard, in order
        result = np.empty((len(positions), self.dimension), dtype=np.float32)
        for shard in np.unique(shard_of):
            wanted = np.flatnonzero(shard_of == shard)
            order = wanted[np.argsort(rows[wanted])]  # read the shard front to back
            result[order] = self.shards[shard][rows[order]]
        return result

    def _load(self) -> None:
        """Read every shard of the folder (memory-mapped) and drop files of the old format."""
        assert self.folder is not None
        self.loaded = True
        if is_main_process():
            drop_old_format(self.folder.parent)
        if not self.folder.is_dir():
            return
        if is_main_process():
            drop_orphans(self.folder)
        for index in sorted(self.folder.glob("*.json")):
            try:
                keys, vectors = read_shard(index, self.dimension)
            except (OSError, ValueError, KeyError, TypeError) as error:
                print(f"embedding cache: {index.with_suffix('.npy')} is damaged ({error}); "
                      "recomputing its vectors")  # fmt: skip
                if is_main_process():
                    index.unlink(missing_ok=True)
                    index.with_suffix(".npy").unlink(missing_ok=True)
                continue
            self._add(keys, vectors, index)

    def _save(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Add a shard to the folder; a write that fails is a warning, as the cache only saves
        time: the run goes on, and this cache stops writing."""
        assert self.folder is not None
        try:
            if len(self.paths) >= MAX_FILES:  # merge: everything known into one shard
                old, self.paths = self.paths, []
                every = sorted(self.position, key=self.position.__getitem__)
                positions = np.array([self.position[key] for key in every], dtype=np.int64)
                step = max(1, CRC_BLOCK // (4 * self.dimension))
                blocks = (self._gather(positions[start : start + step])
                          for start in range(0, len(positions), step))  # fmt: skip
                self.paths.append(write_shard(self.folder, every, blocks, self.dimension))
                for index in old:
                    index.with_suffix(".npy").unlink(missing_ok=True)
                    index.unlink(missing_ok=True)
            else:
                self.paths.append(write_shard(self.folder, keys, [vectors], self.dimension))
        except OSError as error:
            why = reason(code) if (code := write_errno(error)) else str(error)
            print(f"warning: embedding cache not saved in {self.folder} ({why}); the run goes "
                  "on without it", file=sys.stderr)  # fmt: skip
            self.folder = None


def text_key(text: str, role: str) -> bytes:
    """The hash a text is found by: its role and the text."""
    return hashlib.blake2b(f"{role}\0{text}".encode(), digest_size=KEY_BYTES).digest()


def write_shard(
    folder: Path, keys: list[bytes], blocks: Iterable[np.ndarray], dimension: int
) -> Path:
    """Write the vectors of `keys` (`blocks` stacked in order) as `<id>.npy`, then the index
    `<id>.json`; returns the index's path. Streamed block by block: a merge needs little memory."""
    joined = b"".join(keys)
    crc = zlib.crc32(joined)

    def fill(file: BinaryIO) -> None:
        nonlocal crc
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                  "fortran_order": False, "shape": (len(keys), dimension)}  # fmt: skip
        np.lib.format.write_array_header_1_0(file, header)
        for block in blocks:
            data = memoryview(np.ascontiguousarray(block, dtype=np.float32)).cast("B")
            crc = zlib.crc32(data, crc)
            file.write(data)

    name = uuid.uuid4().hex
    write_stream(folder / f"{name}.npy", fill)
    index = {"format": FORMAT, "rows": len(keys), "dim": dimension, "dtype": "float32",
             "crc32": crc, "keys": joined.hex()}  # fmt: skip
    text = json.dumps(index).encode()
    return write_stream(folder / f"{name}.json", lambda file: file.write(text))


def read_shard(index_path: Path, dimension: int) -> tuple[list[bytes], np.ndarray]:
    """The text hashes and memory-mapped vectors of one shard, checked: ValueError (or OSError)
    when its size, shape or checksum disagrees with its index."""
    index = json.loads(index_path.read_text(encoding="utf-8"))
    if index.get("format") != FORMAT:
        raise ValueError(f"format {index.get('format')}, expected {FORMAT}")
    joined = bytes.fromhex(index["keys"])
    rows = index["rows"]
    if len(joined) != rows * KEY_BYTES or index["dim"] != dimension:
        raise ValueError(f"{rows} rows of dim {index['dim']} do not fit {len(joined)} key bytes "
                         f"and this model's dim {dimension}")  # fmt: skip
    path = index_path.with_suffix(".npy")
    vectors = np.load(path, mmap_mode="c")  # copy on write: callers may scale in place
    if vectors.shape != (rows, dimension) or vectors.dtype != np.float32:
        raise ValueError(f"shape {vectors.shape} {vectors.dtype}, index says ({rows}, {dimension})")
    if path.stat().st_size != vectors.offset + vectors.nbytes:
        raise ValueError(f"{path.stat().st_size} bytes, expected {vectors.offset + vectors.nbytes}")
    crc = zlib.crc32(joined)
    flat = memoryview(vectors.reshape(-1)).cast("B") if rows else memoryview(b"")
    for start in range(0, len(flat), CRC_BLOCK):
        crc = zlib.crc32(flat[start : start + CRC_BLOCK], crc)
    if crc != index["crc32"]:
        raise ValueError("checksum mismatch")
    keys = [joined[start : start + KEY_BYTES] for start in range(0, len(joined), KEY_BYTES)]
    return keys, vectors


def drop_old_format(cache_dir: Path) -> None:
    """Delete the .npz files of the old format (keys and vectors per write) in every model's
    folder under `cache_dir`, saying so once: their texts are encoded again when needed."""
    old = [path for path in cache_dir.glob("*/*.npz") if len(path.parent.name) == 32]
    for path in old:
        path.unlink(missing_ok=True)
    if old:
        print(f"embedding cache: removed {len(old)} file(s) of the old .npz format in {cache_dir} "
              "(their texts are encoded again once)")  # fmt: skip


def drop_orphans(folder: Path) -> None:
    """Delete the `<id>.npy` files in `folder` that have no index `<id>.json` and are older than
    ORPHAN_AGE (a crash between the two writes), saying so once: they are never read."""
    cutoff, removed = time.time() - ORPHAN_AGE, []
    for path in folder.glob("*.npy"):
        try:
            stat = path.stat()
            if stat.st_mtime < cutoff and not path.with_suffix(".json").exists():
                path.unlink()
                removed.append(stat.st_size)
        except OSError:  # gone already, or not ours to delete: the cache only saves time
            continue
    if removed:
        print(f"embedding cache: removed {len(removed)} shard(s) left without an index by an "
              f"interrupted run ({sum(removed) / 2**20:.1f} MiB) in {folder}")  # fmt: skip


def encode(
    model: SentenceTransformer, texts: list[str], role: str, desc: str,
    encoding: Encoding = FP32,
) -> np.ndarray:  # fmt: skip
    """model.encode_query / encode_document, longest texts first, with a progress bar; in
    `encoding`'s precision (the weights untouched), the vectors float32. With
    `encoding.threads`, batches are tokenised ahead of the model (inventory/encode_ahead.py),
    except under torchrun, where the ranks share the texts the library's way (distributed.py)."""
    order = sorted(range(len(texts)), key=lambda index: -len(texts[index]))
    vectors = np.zeros((len(texts), model.get_embedding_dimension() or 0), np.float32)
    progress = bar(len(texts), desc, unit="text")

    def advance(count: int) -> None:
        progress.update(count)
        heartbeat()  # a large corpus keeps its run heard from

    with encoding_precision(model, encoding.precision):
        if encoding.threads and distributed.world_size() == 1:
            longest_first = [texts[i] for i in order]
            size, threads = encoding.batch_size, encoding.threads
            for start, block in encode_ahead(model, longest_first, role, size, threads):
                vectors[order[start : start + len(block)]] = block
                advance(len(block))
        else:
            encode_fn = model.encode_query if role == "query" else model.encode_document
            step = max(BLOCK, encoding.batch_size) * distributed.world_size()  # one per process
            for start in range(0, len(texts), step):
                block = order[start : start + step]
                vectors[block] = encode_fn(
                    [texts[i] for i in block], batch_size=encoding.batch_size, convert_to_numpy=True
                )
                advance(len(block))
    progress.close()
    return vectors
