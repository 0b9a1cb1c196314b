"""The GPU check of issue #20, one command: encoding speed and lab overhead on this device.

1. Evaluation encoding, documents/s, on synthetic ~256-token documents: today's default (fp32,
   batch 32: model.encode_document as the lab called it) against the lab's new default on this
   device (inventory/device.py: `--precision auto`, `--encode-batch-size` and
   `--dataloader-workers` unset, so threads tokenise ahead). Target >= 5x. The minimum cosine of
   the new vectors to the fp32 ones is printed beside it. Then, at the default batch and at 1024,
   benchmarks/bench_encode_ahead.py's breakdown: tokenisation alone, the model alone, the
   library's encode, and the lab's with 0, 2, 4 and 8 threads tokenising ahead.
2. The lab's exp_01_baseline (all defaults) against benchmarks/reference_baseline.py (a
   hand-written sentence-transformers script: the same training and gold evaluation), on the
   same synthetic data, each as its own process, wall seconds. Target lab / reference <= 1.10.
   The lab's manifest phases (phases_s) are printed so the difference can be placed.

No network: the model comes by path. The lab is baked from this checkout (benchmarks/bench_lab.py:
the template copied where cookiecutter is not installed). --tiny runs small sizes, for a CPU, to
try the script before GPU time.
Run: python benchmarks/gpu_check.py --model PATH [--tiny] [--docs N] [--train N] [--skip-lab]
"""

from __future__ import annotations

import argparse
import copy as copy_module
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_lab import REPO_ROOT, bake_lab

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
WORDS = 120  # words per synthetic document: about 250 WordPiece tokens
REFERENCE_TRAINING = ("--batch-size", "16", "--learning-rate", "5e-5")  # reference_baseline's


def words(rng: random.Random, count: int, vocabulary: list[str]) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(count))


def synthetic_documents(count: int, length: int, seed: int = 0) -> list[str]:
    """`count` documents of `length` words (about as many WordPiece tokens) from a word list."""
    rng = random.Random(seed)
    vocabulary = [f"{a}{b}" for a in ("pro", "ana", "cel", "gen", "vir", "lum", "tox", "cor")
                  for b in ("tein", "lysis", "lular", "ome", "al", "ine", "ic", "ex")]  # fmt: skip
    vocabulary += ["the", "of", "in", "and", "a", "to", "is", "with", "for", "patients"]
    return [words(rng, length, vocabulary) for _ in range(count)]


def write_data(folder: Path, train: int, dev: int, gold: int, negatives: int) -> None:
    """train/dev/gold JSONL: each query is 8 words of its positive; gold and dev records carry
    `negatives` other documents each (the gold corpus), train records one negative."""
    folder.mkdir(parents=True)
    total = train + dev + gold
    documents = synthetic_documents(total + (dev + gold) * negatives, WORDS, seed=1)
    rng = random.Random(2)
    extra = iter(documents[total:])

    def record(index: int, count: int) -> dict:
        document = documents[index]
        start = rng.randrange(0, WORDS - 10)
        query = " ".join(document.split()[start : start + 8])
        negs = [next(extra) for _ in range(count)] if count else [documents[(index + 1) % total]]
        return {"query": f"{query} {index}", "pos": [document], "neg": negs}

    splits = {"train": range(train), "dev": range(train, train + dev),
              "gold": range(train + dev, total)}  # fmt: skip
    for split, indices in splits.items():
        count = 0 if split == "train" else negatives
        lines = [json.dumps(record(index, count)) for index in indices]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def encoding_check(lab: Path, model_path: str, documents: int) -> None:
    sys.path.insert(0, str(lab))
    import numpy as np
    import torch
    from inventory import device
    from inventory.config import TrainConfig
    from inventory.device import Encoding
    from inventory.embeddings import encode
    from inventory.models import load_model

    model = load_model(model_path, 256)
    chosen = device.settings(TrainConfig())  # what a run with default flags uses here
    texts = synthetic_documents(documents, WORDS)
    tokens = len(model.tokenizer(texts[0])["input_ids"])
    print(f"device: {device.device_kind()} "
          f"({torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'}); "
          f"{documents} synthetic documents, the first of {tokens} tokens")  # fmt: skip

    def timed(model, encoding: Encoding) -> tuple[float, np.ndarray]:
        encode(model, texts[: min(256, documents)], "document", "warm-up", encoding)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        vectors = encode(model, texts, "document", "timed", encoding)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return documents / (time.perf_counter() - start), vectors

    before, reference = timed(model, Encoding("fp32", 32))
    after, vectors = timed(model, chosen.encoding)
    cosine = (vectors * reference).sum(1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
    )
    print(f"encoding, today's default (fp32, batch 32): {before:,.0f} documents/s")
    print(f"encoding, new default ({chosen.encoding.precision}, batch "
          f"{chosen.encoding.batch_size}): {after:,.0f} documents/s = {after / before:.2f}x "
          f"(target >= 5x); min cosine to fp32 {cosine.min():.5f}")  # fmt: skip
    if torch.cuda.is_available():  # for comparison: bf16 weights (a copy) instead of autocast
        copy = copy_module.deepcopy(model).to(torch.bfloat16)
        rate, _ = timed(copy, Encoding("fp32", chosen.encoding.batch_size))
        print(f"encoding, a bf16 copy of the weights (not what the lab does), batch "
              f"{chosen.encoding.batch_size}: {rate:,.0f} documents/s")  # fmt: skip
        del copy
    print(f"training precision auto picks here: {chosen.train_precision}; "
          f"dataloader workers {chosen.dataloader_workers}")  # fmt: skip
    from bench_encode_ahead import report  # where the time goes, and the threads tokenising ahead

    for batch in sorted({chosen.encoding.batch_size, 1024}):
        report(model, texts[: min(documents, 8192)], batch, [0, 2, 4, 8],
               chosen.encoding.precision)  # fmt: skip
    model.to("cpu")  # the GPU's memory to the lab check's processes
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def timed_process(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **OFFLINE}, capture_output=True,
                          text=True, check=False)  # fmt: skip
    return time.perf_counter() - start, done


def lab_check(lab: Path, model_path: str, data: Path, scratch: Path, epochs: int) -> None:
    reference = [sys.executable, str(REPO_ROOT / "benchmarks" / "reference_baseline.py"),
                 str(data), str(scratch / "reference"), "--base-model", model_path,
                 "--epochs", str(epochs)]  # fmt: skip
    experiment = [sys.executable, "experiments/exp_01_baseline.py", "--base-model", model_path,
                  "--data-dir", str(data), "--output-dir", str(scratch / "results"),
                  "--epochs", str(epochs), *REFERENCE_TRAINING]  # fmt: skip
    seconds: dict[str, float] = {}
    for name, command in (("reference", reference), ("lab", experiment)):
        seconds[name], done = timed_process(command, lab)
        last = done.stdout.strip().splitlines()[-1:] or done.stderr.strip().splitlines()[-1:]
        print(f"{name}: {seconds[name]:.1f} s wall, exit {done.returncode}: {' '.join(last)}")
        if done.returncode != 0:
            print(done.stderr[-2000:])
            return
    manifest = json.loads((scratch / "results" / "manifest.json").read_text(encoding="utf-8"))
    print(f"lab phases_s: {manifest.get('phases_s')}; lab precision {manifest.get('precision')}, "
          f"encode batch {manifest.get('encode_batch_size')}, workers "
          f"{manifest.get('dataloader_workers')}")  # fmt: skip
    print(
        f"lab / reference: {seconds['lab'] / seconds['reference']:.2f}x (target <= 1.10; "
        "each a fresh process: model loading and imports included on both sides)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a sentence-transformers model folder")
    parser.add_argument("--tiny", action="store_true", help="small sizes, for a CPU")
    parser.add_argument("--docs", type=int, help="documents encoded (default 20000; tiny 128)")
    parser.add_argument("--train", type=int, help="train records (default 3200; tiny 64)")
    parser.add_argument("--skip-lab", action="store_true", help="only the encoding figures")
    args = parser.parse_args()
    os.environ.update(OFFLINE)
    documents = args.docs or (128 if args.tiny else 20000)
    train = args.train or (64 if args.tiny else 3200)
    dev, gold, negatives = (8, 16, 3) if args.tiny else (30, 300, 10)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        lab = bake_lab(scratch)
        started = time.perf_counter()
        encoding_check(lab, args.model, documents)
        print(f"(encoding check: {time.perf_counter() - started:.0f} s)")
        if not args.skip_lab:
            write_data(scratch / "data", train, dev, gold, negatives)
            print(f"lab check data: {train} train, {dev} dev and {gold} gold queries, gold "
                  f"corpus {gold * (negatives + 1)} synthetic {WORDS}-word documents (dev is "
                  "small: the reference evaluates it 10 times, the lab 4)")  # fmt: skip
            lab_check(lab, args.model, scratch / "data", scratch, epochs=1)


if __name__ == "__main__":
    main()
