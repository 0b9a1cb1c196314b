"""Encoding that keeps an accelerator fed: batches are tokenised ahead of the model.

sentence-transformers' `encode` works one batch at a time: tokenise on the CPU, run the model,
copy the vectors back, and only then tokenise the next batch, so the GPU idles while the CPU
tokenises. Here threads tokenise the next batches (the tokenizer's Rust core releases the GIL)
while the model runs; batches travel in pinned memory, and vectors stay on the GPU until a block
of them is copied back at once, the only time the CPU waits for the GPU. Same prompts, task and
truncation as `encode_query` and `encode_document`: tests/test_encode_ahead.py checks that the
vectors equal theirs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DOCUMENT_PROMPTS = ("document", "passage", "corpus")  # what encode_document looks for, in order
LOOKAHEAD = 2  # batches queued per thread: enough to hide a slow batch, little memory
GPU_ROWS = 8192  # vectors kept on a GPU before one copy back (12 MB at 384 dims)


def encode_ahead(
    model: SentenceTransformer, texts: Sequence[str], role: str, batch_size: int, threads: int
) -> Iterator[tuple[int, np.ndarray]]:
    """(start, vectors) blocks, in order, of `texts` encoded as model.encode_query (role
    "query") or model.encode_document would encode them (float32), `threads` tokenising ahead.
    Give texts sorted by length, as encode does, so that batches pad little. On a GPU a block
    holds up to GPU_ROWS vectors: copying back waits for the GPU, so it is done rarely."""
    import torch
    from sentence_transformers.util import truncate_embeddings

    task = "query" if role == "query" else "document"
    prompt = role_prompt(model, task)
    device = model.device
    gpu = device.type == "cuda"

    def tokenise(batch: Sequence[str]) -> dict[str, Any]:
        features = model.preprocess(list(batch), prompt=prompt, task=task)
        return {name: value.pin_memory() if gpu and torch.is_tensor(value) else value
                for name, value in features.items()}  # fmt: skip

    def embed(tokenised: Future[dict[str, Any]]) -> torch.Tensor:
        features = {name: value.to(device, non_blocking=True) if torch.is_tensor(value) else value
                    for name, value in tokenised.result().items()}  # fmt: skip
        with torch.inference_mode():
            embeddings = model(features, task=task)["sentence_embedding"]
            return truncate_embeddings(embeddings, model.truncate_dim).float()

    model.eval()
    threads = max(1, threads)
    depth = LOOKAHEAD * threads
    batches = (texts[start : start + batch_size] for start in range(0, len(texts), batch_size))
    with ThreadPoolExecutor(threads, thread_name_prefix="tokenise") as pool:
        queued = deque(pool.submit(tokenise, batch) for batch in islice(batches, depth))
        done, held = 0, []  # texts handed out; vectors still on the device
        while queued:
            tokenised = queued.popleft()
            if (batch := next(batches, None)) is not None:
                queued.append(pool.submit(tokenise, batch))  # keeps every thread busy
            held.append(embed(tokenised))
            rows = sum(len(vectors) for vectors in held)
            if rows >= GPU_ROWS or not gpu or not queued:
                yield done, torch.cat(held).cpu().numpy()
                done, held = done + rows, []


def role_prompt(model: SentenceTransformer, task: str) -> str | None:
    """The prompt encode_query / encode_document would prepend (model.prompts), or None."""
    names = ("query",) if task == "query" else DOCUMENT_PROMPTS
    for name in names:
        if name in model.prompts:
            return model.prompts[name]
    if model.default_prompt_name is not None:
        return model.prompts.get(model.default_prompt_name)
    return None
