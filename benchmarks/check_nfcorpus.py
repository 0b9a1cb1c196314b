"""Convert BEIR NFCorpus to lab splits in a temporary directory and run `emb check` on it.

    python benchmarks/check_nfcorpus.py [--nfcorpus ../shared/data/nfcorpus] [--near-dup]

train/dev/gold come from qrels train/dev/test: one line per query, `pos` holds the texts of its
documents with score > 0 (the contract's `document_text(title, text)`, exactly the text the lab
gives that document in corpus.jsonl), `neg` is left out. corpus.jsonl is NFCorpus's own, copied
as it is. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import orjson

from embed_lab.template import load_contract

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NFCORPUS = REPO.parent / "shared" / "data" / "nfcorpus"
SPLITS = {"train": "train", "dev": "dev", "gold": "test"}


def read_jsonl(path: Path) -> list[dict]:
    with path.open("rb") as file:
        return [orjson.loads(line) for line in file if line.strip()]


def convert(nfcorpus: Path, out: Path) -> dict[str, int]:
    """Write out/{train,dev,gold}.jsonl and out/corpus.jsonl; return the rows per split."""
    document_text = load_contract().document_text
    documents = {
        doc["_id"]: document_text(doc.get("title"), doc["text"])
        for doc in read_jsonl(nfcorpus / "corpus.jsonl")
    }
    shutil.copyfile(nfcorpus / "corpus.jsonl", out / "corpus.jsonl")
    queries = {query["_id"]: query["text"] for query in read_jsonl(nfcorpus / "queries.jsonl")}
    rows: dict[str, int] = {}
    for split, qrels_name in SPLITS.items():
        positives: dict[str, list[str]] = defaultdict(list)  # keeps first-seen query order
        with (nfcorpus / "qrels" / f"{qrels_name}.tsv").open(newline="") as file:
            for record in csv.DictReader(file, delimiter="\t"):
                if int(record["score"]) > 0:
                    positives[record["query-id"]].append(documents[record["corpus-id"]])
        with (out / f"{split}.jsonl").open("wb") as file:
            for query_id, texts in positives.items():
                row = {"id": query_id, "query": queries[query_id], "pos": texts}
                file.write(orjson.dumps(row) + b"\n")
        rows[split] = len(positives)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nfcorpus", type=Path, default=DEFAULT_NFCORPUS)
    parser.add_argument("--near-dup", action="store_true", help="also look for near-duplicates")
    args = parser.parse_args()
    if not (args.nfcorpus / "corpus.jsonl").is_file():
        sys.exit(f"NFCorpus not found at {args.nfcorpus} (expected corpus.jsonl there)")
    with tempfile.TemporaryDirectory(prefix="nfcorpus-lab-") as tmp:
        directory = Path(tmp)
        rows = convert(args.nfcorpus, directory)
        print(f"converted NFCorpus: {rows}")
        command = [sys.executable, "-c", "from embed_lab.cli import main; main()", "check"]
        command += [str(directory)] + (["--near-dup"] if args.near_dup else [])
        started = time.perf_counter()
        result = subprocess.run(command, env={**os.environ, "COLUMNS": "120"})
        print(f"emb check exited {result.returncode} in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
