"""Encoding that keeps an accelerator fed: batches are tokenised ahead of the model.

sentence-transformers' `encode` works one batch at a time: tokenise on the CPU, run the model,
copy the vectors back, and only then tokenise the next batch, so the GPU idles while the CPU
tokenises. Here threads tokenise the next batches (the tokenizer's Rust core releases the GIL)
while the model runs; batches travel in pinned memory and vectors come back without waiting,
so the only waits are at the end. Same prompts, task and truncation as `encode_query` and
`encode_document`; `tests/test_encode_ahead.py` checks that the vectors equal theirs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DOCUMENT_PROMPTS = ("document", "passage", "corpus")  # what encode_document looks for, in order
LOOKAHEAD = 2  # batches queued per thread: enough to hide a slow batch, little memory


def encode_ahead(
    model: SentenceTransformer,
    texts: Sequence[str],
    role: str,
    batch_size: int,
    threads: int,
    progress: Callable[[int], None] = lambda done: None,
) -> np.ndarray:
    """Vectors (float32, len(texts) x dim) of `texts` as model.encode_query (role "query") or
    model.encode_document would give them, `threads` tokenising ahead; `progress` hears how
    many texts each batch held. Give texts sorted by length, as encode does, to pad little."""
    import torch
    from sentence_transformers.util import truncate_embeddings

    task = "query" if role == "query" else "document"
    prompt = role_prompt(model, task)
    device = model.device
    pin = device.type == "cuda"
    vectors = torch.empty((len(texts), model.get_embedding_dimension() or 0), pin_memory=pin)

    def tokenise(batch: Sequence[str]) -> dict[str, Any]:
        features = model.preprocess(list(batch), prompt=prompt, task=task)
        return {name: value.pin_memory() if pin and torch.is_tensor(value) else value
                for name, value in features.items()}  # fmt: skip

    def run(start: int, tokenised: Future[dict[str, Any]]) -> None:
        features = {name: value.to(device, non_blocking=True) if torch.is_tensor(value) else value
                    for name, value in tokenised.result().items()}  # fmt: skip
        with torch.inference_mode():
            embeddings = model(features, task=task)["sentence_embedding"]
            embeddings = truncate_embeddings(embeddings, model.truncate_dim).float()
        vectors[start : start + len(embeddings)].copy_(embeddings, non_blocking=True)
        progress(len(embeddings))

    model.eval()
    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="tokenise") as pool:
        queued: deque[tuple[int, Future[dict[str, Any]]]] = deque()
        for start in range(0, len(texts), batch_size):
            queued.append((start, pool.submit(tokenise, texts[start : start + batch_size])))
            if len(queued) > LOOKAHEAD * max(1, threads):
                run(*queued.popleft())
        while queued:
            run(*queued.popleft())
    if pin:
        torch.cuda.synchronize(device)  # the last copies back have landed
    return vectors.numpy()


def role_prompt(model: SentenceTransformer, task: str) -> str | None:
    """The prompt encode_query / encode_document would prepend (model.prompts), or None."""
    names = ("query",) if task == "query" else DOCUMENT_PROMPTS
    for name in names:
        if name in model.prompts:
            return model.prompts[name]
    if model.default_prompt_name is not None:
        return model.prompts.get(model.default_prompt_name)
    return None
