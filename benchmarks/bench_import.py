"""Benchmark `emb import beir` on a generated BEIR folder with a 1,000,000-document corpus.

    nice python benchmarks/bench_import.py                         # 1,000,000 documents
    python benchmarks/bench_import.py --documents 20000 --queries 2000   # smoke run

Writes a seeded BEIR folder (corpus.jsonl with titles and ~400-character texts, queries.jsonl,
qrels/train.tsv with a header and CRLF, qrels/test.tsv graded, no dev: carved from train) into
a temporary directory, runs `emb import beir` on it as a subprocess (wall time and peak RSS of
that process via os.wait4; the figures include the `emb check` run that ends the import), checks
the counts it reports, and compares the peak with the 2 GiB target.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson
from bench_check import measure

TARGET_MIB = 2048
WORDS = [f"{stem}{suffix}" for stem in ("lor", "ips", "dol", "sit", "amet", "cons", "adip", "elit",
         "sed", "eius", "temp", "inci", "labo", "magn", "aliq", "enim", "mini", "veni", "quis",
         "nost") for suffix in ("a", "um", "is", "or", "ent", "ibus", "ae", "o")]  # fmt: skip


def generate(folder: Path, documents: int, queries: int, seed: int) -> dict[str, int]:
    """Write the BEIR folder; return the number of queries per qrels file."""
    rng = random.Random(seed)
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("wb") as corpus:
        for number in range(documents):
            words = rng.choices(WORDS, k=60)
            line = {"_id": f"doc{number}", "title": " ".join(words[:5]), "text": " ".join(words)}
            corpus.write(orjson.dumps(line) + b"\n")
    with (folder / "queries.jsonl").open("wb") as file:
        for number in range(queries):
            text = f"query {number} " + " ".join(rng.choices(WORDS, k=6))
            file.write(orjson.dumps({"_id": f"q{number}", "text": text}) + b"\n")
    test_queries = queries // 10
    with (folder / "qrels" / "train.tsv").open("w", newline="") as train:
        train.write("query-id\tcorpus-id\tscore\r\n")
        for number in range(test_queries, queries):
            for doc in rng.sample(range(documents), 3):
                train.write(f"q{number}\tdoc{doc}\t1\r\n")
    with (folder / "qrels" / "test.tsv").open("w") as test:
        test.write("query-id\tcorpus-id\tscore\n")
        for number in range(test_queries):
            for doc in rng.sample(range(documents), 5):
                test.write(f"q{number}\tdoc{doc}\t{rng.choice((1, 2))}\n")
    return {"train+dev": queries - test_queries, "gold": test_queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        source, data = Path(tmp) / "beir", Path(tmp) / "data"
        started = time.perf_counter()
        expected = generate(source, args.documents, args.queries, args.seed)
        size = (source / "corpus.jsonl").stat().st_size / (1 << 20)
        print(
            f"generated {args.documents:,} documents ({size:,.0f} MiB), {args.queries:,} queries "
            f"in {time.perf_counter() - started:.1f} s"
        )
        command = [sys.executable, "-c", "from embed_lab.cli import main; main()", "import"]
        command += ["beir", str(source), "--data-dir", str(data)]
        run = measure(command)
        output = run.stdout.decode()
        print(output[: output.index("Splits")] if "Splits" in output else output)
        assert f"corpus.jsonl: {args.documents:,} documents" in output, output[-2000:]
        assert f"gold: {expected['gold']:,} queries" in output, output[-2000:]
        copied = (data / "corpus.jsonl").stat().st_size / (1 << 20)
        verdict = "met" if run.peak_mib < TARGET_MIB else "MISSED"
        print(
            f"emb import beir: {run.wall_s:.1f} s wall, peak RSS {run.peak_mib:,.0f} MiB "
            f"(target < {TARGET_MIB:,} MiB: {verdict}), exit {run.exit_code} (emb check's "
            f"status), data/corpus.jsonl {copied:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
