"""Export a lab's splits: BEIR (corpus, queries, qrels per split) or sentence-transformers
parquet (anchor, positive[, negative] per split)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson

from embed_lab.io.records import Example, ImportFailure, name_queries, text_id
from embed_lab.io.splits import CORPUS, SPLITS
from embed_lab.template import load_contract, load_rows

T = TypeVar("T")
BEIR_NAMES = {"train": "train", "dev": "dev", "gold": "test"}
contract = load_contract()  # the lab's data contract: export reads what the lab would train on
rows = load_rows()  # the lab's inventory/rows.py: the rows the lab trains on


def read_lab_file(path: Path, parse: Callable[[Any], T]) -> Iterator[tuple[int, Any, T]]:
    """(line number, JSON value, `parse(value)`) per line of a lab data file, by the contract;
    the first line that breaks it is the lab's own one-line error (an ImportFailure)."""
    try:
        yield from contract.read_values(path, parse)
    except contract.FileProblem as problem:
        raise ImportFailure(problem.path, problem.reason, problem.line) from None


def read_lab_splits(data_dir: Path) -> dict[str, list[Example]]:
    """The lab's splits, with their ids and grades (what export needs of them)."""
    splits: dict[str, list[Example]] = {}
    for split in SPLITS:
        path = data_dir / f"{split}.jsonl"
        examples = []
        for number, value, (query, pos, neg) in read_lab_file(path, contract.split_row):
            grades, given_id = value.get("pos_grades"), value.get("id")
            examples.append(
                Example(
                    id=None if given_id is None else text_id(given_id, path, number, "id"),
                    query=query,
                    pos=list(pos),
                    neg=list(neg),
                    pos_grades=grades if isinstance(grades, list) else None,
                )
            )
        if not examples:
            raise ImportFailure(path, "the split is empty (no records)")
        splits[split] = examples
    return splits


def export_beir(data_dir: Path, out: Path) -> list[str]:
    """Write out/corpus.jsonl (data/corpus.jsonl, then passages found nowhere else),
    out/queries.jsonl and out/qrels/{train,dev,test}.tsv (positives: their grade or 1;
    negatives: 0). Returns what was written, one line per file."""
    splits = read_lab_splits(data_dir)
    texts = {
        text: "" for examples in splits.values() for ex in examples for text in ex.pos + ex.neg
    }
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / CORPUS).open("wb") as corpus:
        documents = 0
        if (data_dir / CORPUS).is_file():
            for _, value, (doc_id, document) in read_lab_file(data_dir / CORPUS,
                                                              contract.corpus_row):  # fmt: skip
                title, text = value.get("title") or "", value["text"]
                corpus.write(orjson.dumps({"_id": doc_id, "title": title, "text": text}) + b"\n")
                documents += 1
                if texts.get(document) == "":
                    texts[document] = doc_id
        for text, doc_id in texts.items():
            if not doc_id:
                texts[text] = "emb-" + hashlib.sha1(text.encode()).hexdigest()[:16]
                corpus.write(orjson.dumps({"_id": texts[text], "title": "", "text": text}) + b"\n")
                documents += 1
    queries = _write_queries(splits, out / "queries.jsonl")
    written = [f"corpus.jsonl: {documents:,} documents", f"queries.jsonl: {queries:,} queries"]
    for split, examples in splits.items():
        path = out / "qrels" / f"{BEIR_NAMES[split]}.tsv"
        with path.open("w", encoding="utf-8", newline="") as qrels:
            qrels.write("query-id\tcorpus-id\tscore\n")
            rows = 0
            for example in examples:
                grades = example.pos_grades or [1] * len(example.pos)
                judged = [
                    *zip(example.pos, grades, strict=False),
                    *((text, 0) for text in example.neg),
                ]
                for text, grade in judged:
                    qrels.write(f"{example.id}\t{texts[text]}\t{grade}\n")
                    rows += 1
        written.append(f"qrels/{path.name}: {rows:,} judgments")
    return written


def _write_queries(splits: dict[str, list[Example]], path: Path) -> int:
    """Every query once, by id; examples without an id get one (q1, q2, ...)."""
    queries: dict[str, str] = {}
    name_queries(splits.values())
    for split, examples in splits.items():
        for example in examples:
            if queries.setdefault(example.id, example.query) != example.query:
                raise ImportFailure(
                    f"{split}.jsonl", f'id "{example.id}" names two different queries'
                )
    with path.open("wb") as file:
        for query_id, text in queries.items():
            file.write(orjson.dumps({"_id": query_id, "text": text}) + b"\n")
    return len(queries)


def export_st(data_dir: Path, out: Path) -> list[str]:
    """out/{train,dev,gold}.parquet with the columns the lab trains on: one row per positive,
    a negative column only when every query has one (cycling through its negatives): the rows the
    lab trains on, from the lab's own inventory/rows.py."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportFailure(out, "needs the pyarrow package: pip install 'embed-lab[io]'") from None
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, examples in read_lab_splits(data_dir).items():
        columns = rows.training_columns(examples)
        pq.write_table(pa.table(columns), out / f"{split}.parquet")
        written.append(f"{split}.parquet: {len(columns['anchor']):,} rows ({', '.join(columns)})")
    return written
