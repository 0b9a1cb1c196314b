"""Where encoding time goes, and what tokenising ahead (inventory/encode_ahead.py) buys.

For one model and one set of documents (NFCorpus's longest, or synthetic ~256-token ones), prints
documents/s (and process CPU seconds) of:
1. tokenisation alone (model.preprocess, in this process: what the library's encode waits for);
2. the model alone on batches tokenised beforehand (what an accelerator could give);
3. the library's encode (model.encode_document, one batch at a time: the lab before);
4. the lab's encode with 0, 1, 2, 4, ... threads tokenising ahead (0 is 3 through the lab).
The vectors of 4 are checked against 3 (max |difference|). If 3 is near 1, tokenisation bounds
the library and tokenising ahead (with enough threads) lifts it towards 2.
`--tiny-bert` swaps the model for a 1-layer BERT with the same tokenizer, so that on a CPU the
model is fast, as on a GPU, and the overlap shows. benchmarks/gpu_check.py runs this on a GPU.
Run: python benchmarks/bench_encode_ahead.py [--data-dir LAB_DATA] [--model PATH] [--docs 1024]
         [--batch-size 64] [--threads 0,1,2,4] [--precision fp32] [--tiny-bert]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_lab import bake_lab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a lab's data folder (default: synthetic)")
    parser.add_argument("--model", help="default: the packaged all-MiniLM-L6-v2")
    parser.add_argument("--docs", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", default="0,1,2,4")
    parser.add_argument("--precision", default="fp32", help="the lab's encoding precision")
    parser.add_argument("--tiny-bert", action="store_true", help="a 1-layer model, same tokenizer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        lab = bake_lab(Path(scratch))
        sys.path.insert(0, str(lab))
        from inventory.models import DEFAULT_MODEL, load_model
        from inventory.progress import quiet_libraries

        quiet_libraries()
        model = load_model(args.model or DEFAULT_MODEL, 256)
        if args.tiny_bert:
            model = tiny_bert(model, Path(scratch))
        texts = documents(args.data_dir, args.docs)
        threads = [int(count) for count in args.threads.split(",")]
        report(model, texts, args.batch_size, threads, args.precision)


def documents(data_dir: Path | None, count: int) -> list[str]:
    """The `count` longest gold documents of a lab's data, or synthetic ~256-token ones."""
    if data_dir is None:
        from gpu_check import WORDS, synthetic_documents

        return synthetic_documents(count, WORDS)
    from inventory import preprocess
    from inventory.datasets import load_splits
    from inventory.retrieval import build_task

    splits, _ = preprocess.clean_splits(load_splits(data_dir))
    task = build_task(splits.gold, "gold", splits.corpus)
    return sorted(task.documents, key=len, reverse=True)[:count]


def tiny_bert(model, folder: Path):
    """A 1-layer, 32-wide BERT with `model`'s tokenizer, mean pooled: a fast model."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=model.tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64)  # fmt: skip
    BertModel(config).save_pretrained(folder / "tiny")
    model.tokenizer.save_pretrained(folder / "tiny")
    transformer = Transformer(str(folder / "tiny"), max_seq_length=256)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[transformer, pooling], device=str(model.device))


def timed(work: Callable[[], object], count: int) -> tuple[float, float, object]:
    """Documents/s and process CPU seconds of `work` (the accelerator synchronised)."""
    import torch

    sync = torch.cuda.synchronize if torch.cuda.is_available() else lambda: None
    sync()
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    sync()
    return count / (time.perf_counter() - start), time.process_time() - cpu, result


def report(model, texts: list[str], batch_size: int, threads: list[int], precision: str) -> None:
    """Print the four measurements of the module docstring."""
    import numpy as np
    import torch
    from inventory.device import Encoding, encoding_precision
    from inventory.embeddings import encode
    from sentence_transformers.util import batch_to_device

    batches = [texts[start : start + batch_size] for start in range(0, len(texts), batch_size)]
    encode(model, texts[:batch_size], "document", "warm-up", Encoding(precision, batch_size))
    print(f"{len(texts)} documents, batch {batch_size}, {precision}, model on {model.device}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    rate, cpu, tokenised = timed(lambda: [model.preprocess(batch) for batch in batches], len(texts))
    print(f"1 tokenisation alone:          {rate:8,.0f} documents/s ({cpu:.1f} CPU s)")

    def forward_only() -> None:
        with torch.inference_mode(), encoding_precision(model, precision):
            for features in tokenised:
                model(batch_to_device(dict(features), model.device))

    rate, cpu, _ = timed(forward_only, len(texts))
    print(f"2 model alone (pre-tokenised): {rate:8,.0f} documents/s ({cpu:.1f} CPU s)")
    with encoding_precision(model, precision):
        rate, cpu, library = timed(
            lambda: model.encode_document(texts, batch_size=batch_size), len(texts)
        )
    print(f"3 library encode:             {rate:8,.0f} documents/s ({cpu:.1f} CPU s)")
    for count in threads:
        rate, cpu, found = timed(
            lambda count=count: encode(model, texts, "document", "timed",
                                       Encoding(precision, batch_size, count)),
            len(texts),
        )  # fmt: skip
        difference = float(np.abs(np.asarray(found) - library).max())
        print(f"4 lab encode, {count} threads ahead: {rate:8,.0f} documents/s ({cpu:.1f} CPU s),"
              f" max |difference| to 3: {difference:.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
