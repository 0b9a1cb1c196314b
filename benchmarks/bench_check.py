"""Benchmark `emb check` on generated splits with planted defects of known counts.

    python benchmarks/bench_check.py     # 1,000,000 train + 50,000 dev/gold, 1,000,000 documents
    python benchmarks/bench_check.py --train-rows 20000 --eval-rows 2000 --corpus-docs 20000

Writes the splits and corpus.jsonl into a temporary directory (seeded, so every run is the
same; --keep DIR writes them there once and reuses them), runs `emb check --json` as a
subprocess (wall time, peak RSS via os.wait4) on the splits alone, then with the corpus, asserts
it reports exactly the planted counts, then times a straightforward pandas implementation of
the same exact checks on the splits the same way and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

PLANTED_FRACTION = {
    "train_duplicate_queries": 0.0005,  # same query (a variant), new positive
    "train_duplicate_pairs": 0.0003,  # same query and positive (variants)
    "train_false_negatives": 0.0002,  # a negative that is the row's own positive
    "query_leaks": 0.004,  # of an eval split's rows: a query from an earlier split
    "pair_leaks": 0.001,  # of an eval split's rows: a (query, positive) from an earlier split
    "shared_documents": 0.002,  # of an eval split's rows: a negative from an earlier split
    "corpus_duplicate_ids": 0.0002,  # a new document under an earlier document's _id
    "corpus_duplicate_texts": 0.0005,  # an earlier document's title and text (a variant), new _id
    "corpus_empty_documents": 0.0001,  # blank title and text
}
NEAR_MISSES = 200  # rows whose query differs from an earlier one by an accent: never a match


def variant(text: str, rng: random.Random) -> str:
    """The same text after normalisation: case, whitespace or full-width changes."""
    choice = rng.randrange(4)
    if choice == 0:
        return text.upper()
    if choice == 1:
        return "  " + "\t ".join(text.split()) + " \n"
    if choice == 2:  # full-width Latin letters and digits fold back under NFKC
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return text.title()


@dataclass
class Planted:
    duplicate_queries: int = 0
    duplicate_pairs: int = 0
    false_negatives: int = 0
    query_leaks: dict[tuple[str, str], int] | None = None
    pair_leaks: dict[tuple[str, str], int] | None = None
    shared_documents: dict[tuple[str, str], int] | None = None
    corpus_duplicate_ids: int = 0
    corpus_duplicate_texts: int = 0
    corpus_empty_documents: int = 0


class TextMaker:
    """Random word texts, made unique by a per-text serial (so only planted texts repeat)."""

    def __init__(self, seed: int, vocabulary: int = 20_000) -> None:
        import numpy as np

        self.rng = np.random.default_rng(seed)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        lengths = self.rng.integers(3, 10, vocabulary)
        self.words = ["".join(self.rng.choice(letters, n)) for n in lengths]
        self.serial = 0

    def texts(self, count: int, words: int) -> list[str]:
        indices = self.rng.integers(0, len(self.words), (count, words)).tolist()
        vocabulary = self.words
        out = []
        for row in indices:
            self.serial += 1
            out.append(" ".join([vocabulary[i] for i in row]) + f" x{self.serial:x}")
        return out


class CleanRows:
    """Row numbers of a split not yet modified or copied, handed out at random, each once.

    Planting only touches clean rows, so no planted defect overlaps another and every
    expected count is exact.
    """

    def __init__(self, size: int, rng: random.Random) -> None:
        self._order = rng.sample(range(size), size)

    def take(self) -> int:
        return self._order.pop()


def generate(
    directory: Path,
    train_rows: int,
    eval_rows: int,
    doc_words: int,
    corpus_docs: int = 0,
    seed: int = 13,
) -> Planted:
    """Write train/dev/gold.jsonl (and corpus.jsonl) into directory; return the planted counts."""
    rng = random.Random(seed)
    maker = TextMaker(seed)
    sizes = {"train": train_rows, "dev": eval_rows, "gold": eval_rows}
    planted = Planted(query_leaks={}, pair_leaks={}, shared_documents={})
    rows_of: dict[str, list[dict]] = {}
    clean_of: dict[str, CleanRows] = {}

    for split, size in sizes.items():
        queries = maker.texts(size, 8)
        positives = maker.texts(size, doc_words)
        negatives = maker.texts(size, doc_words)
        rows = [
            {"id": f"{split}-{i}", "query": q, "pos": [p], "neg": [n]}
            for i, (q, p, n) in enumerate(zip(queries, positives, negatives, strict=True))
        ]
        clean = clean_of[split] = CleanRows(size, rng)
        if split == "train":
            planted.duplicate_queries = round(size * PLANTED_FRACTION["train_duplicate_queries"])
            for _ in range(planted.duplicate_queries):
                source, target = rows[clean.take()], rows[clean.take()]
                target["query"] = variant(source["query"], rng)
            planted.duplicate_pairs = round(size * PLANTED_FRACTION["train_duplicate_pairs"])
            for _ in range(planted.duplicate_pairs):
                source, target = rows[clean.take()], rows[clean.take()]
                target["query"] = variant(source["query"], rng)
                target["pos"] = [variant(source["pos"][0], rng)]
            planted.false_negatives = round(size * PLANTED_FRACTION["train_false_negatives"])
            for _ in range(planted.false_negatives):
                target = rows[clean.take()]
                target["neg"].append(variant(target["pos"][0], rng))
            for _ in range(min(NEAR_MISSES, size // 100)):
                source, target = rows[clean.take()], rows[clean.take()]
                accented = source["query"].replace("a", "á").replace("e", "é")
                if accented != source["query"]:
                    target["query"] = accented
        for earlier, earlier_rows in rows_of.items():
            earlier_clean = clean_of[earlier]
            key = (earlier, split)
            query_leaks = round(size * PLANTED_FRACTION["query_leaks"])
            pair_leaks = round(size * PLANTED_FRACTION["pair_leaks"])
            shared = round(size * PLANTED_FRACTION["shared_documents"])
            for _ in range(query_leaks):
                source, target = earlier_rows[earlier_clean.take()], rows[clean.take()]
                target["query"] = variant(source["query"], rng)
            for _ in range(pair_leaks):
                source, target = earlier_rows[earlier_clean.take()], rows[clean.take()]
                target["query"] = variant(source["query"], rng)
                target["pos"] = [variant(source["pos"][0], rng)]
            for _ in range(shared):
                source, target = earlier_rows[earlier_clean.take()], rows[clean.take()]
                target["neg"] = [variant(source["neg"][0], rng)]
            planted.query_leaks[key] = query_leaks + pair_leaks
            planted.pair_leaks[key] = pair_leaks
            planted.shared_documents[key] = pair_leaks + shared
        rows_of[split] = rows
        with (directory / f"{split}.jsonl").open("wb") as file:
            file.writelines(orjson.dumps(row) + b"\n" for row in rows)
    if corpus_docs:
        write_corpus(directory / "corpus.jsonl", corpus_docs, doc_words, maker, rng, planted)
    return planted


def write_corpus(
    path: Path, size: int, doc_words: int, maker: TextMaker, rng: random.Random, planted: Planted
) -> None:
    """BEIR corpus lines with planted repeated ids, repeated texts and empty documents."""
    titles, texts = maker.texts(size, 3), maker.texts(size, doc_words)
    docs = [
        {"_id": f"doc-{i}", "title": title, "text": text}
        for i, (title, text) in enumerate(zip(titles, texts, strict=True))
    ]
    clean = CleanRows(size, rng)
    planted.corpus_duplicate_ids = round(size * PLANTED_FRACTION["corpus_duplicate_ids"])
    for _ in range(planted.corpus_duplicate_ids):
        source, target = docs[clean.take()], docs[clean.take()]
        target["_id"] = source["_id"]
    planted.corpus_duplicate_texts = round(size * PLANTED_FRACTION["corpus_duplicate_texts"])
    for _ in range(planted.corpus_duplicate_texts):
        source, target = docs[clean.take()], docs[clean.take()]
        target["title"], target["text"] = source["title"], variant(source["text"], rng)
    planted.corpus_empty_documents = round(size * PLANTED_FRACTION["corpus_empty_documents"])
    for _ in range(planted.corpus_empty_documents):
        target = docs[clean.take()]
        target["title"], target["text"] = "", " "
    with path.open("wb") as file:
        file.writelines(orjson.dumps(doc) + b"\n" for doc in docs)


def pandas_check(directory: Path) -> dict[str, int]:
    """The same exact checks, written the obvious pandas way (the baseline)."""
    import pandas as pd

    from embed_lab.check.normalize import normalize_text

    queries, pairs, negative_pairs, documents = {}, {}, {}, {}
    counts: dict[str, int] = {}
    for split in ("train", "dev", "gold"):
        frame = pd.read_json(directory / f"{split}.jsonl", lines=True)
        frame["q"] = frame["query"].map(normalize_text)
        positives = frame[["q", "pos"]].explode("pos")
        positives["d"] = positives["pos"].map(normalize_text)
        negatives = frame[["q", "neg"]].explode("neg").dropna()
        negatives["d"] = negatives["neg"].map(normalize_text)
        counts[f"duplicate-query {split}"] = int(frame["q"].duplicated().sum())
        counts[f"duplicate-pair {split}"] = int(positives.duplicated(["q", "d"]).sum())
        counts[f"false-negative {split}"] = len(
            positives[["q", "d"]].drop_duplicates().merge(negatives[["q", "d"]].drop_duplicates())
        )
        queries[split] = frame[["q"]].drop_duplicates()
        pairs[split] = positives[["q", "d"]].drop_duplicates()
        negative_pairs[split] = negatives[["q", "d"]].drop_duplicates()
        documents[split] = pd.concat([positives[["d"]], negatives[["d"]]]).drop_duplicates()
    for earlier, later in (("train", "dev"), ("train", "gold"), ("dev", "gold")):
        where = f"{earlier}→{later}"
        counts[f"query-leak {where}"] = len(queries[earlier].merge(queries[later]))
        counts[f"pair-leak {where}"] = len(pairs[earlier].merge(pairs[later]))
        counts[f"shared-document {where}"] = len(documents[earlier].merge(documents[later]))
    return {key: value for key, value in counts.items() if value}


def expected_counts(planted: Planted) -> dict[str, int]:
    counts = {
        "duplicate-query train": planted.duplicate_queries + planted.duplicate_pairs,
        "duplicate-pair train": planted.duplicate_pairs,
        "false-negative train": planted.false_negatives,
        "duplicate-id corpus": planted.corpus_duplicate_ids,
        "duplicate-document corpus": planted.corpus_duplicate_texts,
        "empty-document corpus": planted.corpus_empty_documents,
    }
    for kind, per_pair in (
        ("query-leak", planted.query_leaks),
        ("pair-leak", planted.pair_leaks),
        ("shared-document", planted.shared_documents),
    ):
        assert per_pair is not None
        for (earlier, later), count in per_pair.items():
            counts[f"{kind} {earlier}→{later}"] = count
    return {key: value for key, value in counts.items() if value}


@dataclass
class Measured:
    wall_s: float
    cpu_s: float  # user + system, its reaped worker processes included: steadier under load
    peak_mib: float
    exit_code: int
    stdout: bytes


def measure(command: list[str]) -> Measured:
    """Run command; wall and CPU time, and the peak RSS of that very process (os.wait4)."""
    with tempfile.TemporaryFile() as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        output = stdout.read()
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = usage.ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1 << 10)
    return Measured(wall, usage.ru_utime + usage.ru_stime, peak, process.returncode, output)


def checker_counts(report: dict) -> dict[str, int]:
    return {
        f"{finding['kind']} {'→'.join(finding['splits'])}": finding["count"]
        for finding in report["findings"]
    }


def emb_check(directory: Path, label: str) -> tuple[Measured, dict[str, int]]:
    cli = "from embed_lab.cli import main; main()"
    checked = measure([sys.executable, "-c", cli, "check", str(directory), "--json"])
    found = checker_counts(json.loads(checked.stdout))
    print(
        f"emb check {label}: {checked.wall_s:.2f} s wall, {checked.cpu_s:.2f} s CPU, "
        f"{checked.peak_mib:,.0f} MiB peak RSS, exit {checked.exit_code}"
    )
    return checked, found


def prepare(directory: Path, args: argparse.Namespace) -> dict[str, int]:
    """Generate the data into directory (unless an earlier --keep run did); the planted counts."""
    expected_file = directory / "expected.json"
    if expected_file.is_file():
        print(f"reusing the data in {directory}")
        return json.loads(expected_file.read_text())
    started = time.perf_counter()
    # Generated in a child process: on Linux a child's peak RSS starts from its parent's
    # (exec keeps the high-water mark), so this process must stay small.
    generator = subprocess.run(
        [sys.executable, __file__, "--generate-only", str(directory)]
        + ["--train-rows", str(args.train_rows), "--eval-rows", str(args.eval_rows)]
        + ["--doc-words", str(args.doc_words), "--corpus-docs", str(args.corpus_docs)],
        check=True,
        capture_output=True,
    )
    expected_file.write_bytes(generator.stdout)
    print(
        f"generated train={args.train_rows:,} dev=gold={args.eval_rows:,} rows, "
        f"corpus={args.corpus_docs:,} documents in {time.perf_counter() - started:.1f} s"
    )
    return json.loads(generator.stdout)


def run(directory: Path, args: argparse.Namespace) -> None:
    expected = prepare(directory, args)
    corpus = directory / "corpus.jsonl"
    mib = {path.name: path.stat().st_size / (1 << 20) for path in directory.glob("*.jsonl")}
    print("sizes: " + ", ".join(f"{name} {size:,.0f} MiB" for name, size in sorted(mib.items())))

    aside = corpus.with_name("corpus.jsonl.aside")
    if corpus.exists():
        corpus.rename(aside)
    try:
        checked, found = emb_check(directory, "(splits)")
    finally:
        if aside.exists():
            aside.rename(corpus)
    split_expected = {key: value for key, value in expected.items() if "corpus" not in key}
    assert found == split_expected, f"emb check found {found}, planted {split_expected}"
    assert checked.exit_code == 1
    print(f"  found exactly the planted counts: {found}")
    if corpus.exists():
        with_corpus, found = emb_check(directory, "(splits + corpus)")
        assert found == expected, f"emb check found {found}, planted {expected}"
        corpus_found = {key: value for key, value in found.items() if "corpus" in key}
        print(f"  found exactly the planted counts, and in the corpus: {corpus_found}")

    if not args.no_pandas:
        baseline = measure([sys.executable, __file__, "--pandas-only", str(directory)])
        pandas_found = json.loads(baseline.stdout)
        print(
            f"pandas (splits): {baseline.wall_s:.2f} s wall, {baseline.cpu_s:.2f} s CPU, "
            f"{baseline.peak_mib:,.0f} MiB peak RSS"
        )
        assert pandas_found == split_expected, f"pandas found {pandas_found}"
        print(
            f"  ratio pandas/emb check: {baseline.wall_s / checked.wall_s:.1f}x time, "
            f"{baseline.peak_mib / checked.peak_mib:.1f}x memory"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=1_000_000)
    parser.add_argument("--eval-rows", type=int, default=50_000)
    parser.add_argument("--corpus-docs", type=int, default=1_000_000, help="0: no corpus.jsonl")
    parser.add_argument("--doc-words", type=int, default=30, help="words per text")
    parser.add_argument("--keep", type=Path, help="generate into DIR once, reuse it later")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    parser.add_argument("--pandas-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pandas_only:
        print(json.dumps(pandas_check(args.pandas_only)))
        return
    if args.generate_only:
        planted = generate(
            args.generate_only, args.train_rows, args.eval_rows, args.doc_words, args.corpus_docs
        )
        print(json.dumps(expected_counts(planted)))
        return
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        run(Path(tmp), args)


if __name__ == "__main__":
    main()
