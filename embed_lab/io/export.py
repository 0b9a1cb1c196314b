"""Export a lab's splits: BEIR (corpus, queries, qrels per split) or sentence-transformers
parquet (anchor, positive[, negative] per split)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

from embed_lab.io.records import (
    Example,
    ImportFailure,
    corpus_text,
    name_queries,
    read_jsonl,
    string,
    strings,
    text_id,
)
from embed_lab.io.splits import CORPUS, SPLITS

BEIR_NAMES = {"train": "train", "dev": "dev", "gold": "test"}


def read_lab_splits(data_dir: Path) -> dict[str, list[Example]]:
    """The lab's splits, with their ids and grades (what export needs of them)."""
    splits: dict[str, list[Example]] = {}
    for split in SPLITS:
        path = data_dir / f"{split}.jsonl"
        examples = []
        for number, obj in read_jsonl(path):
            grades = obj.get("pos_grades")
            examples.append(
                Example(
                    id=text_id(obj["id"], path, number, "id")
                    if obj.get("id") is not None
                    else None,
                    query=string(obj, "query", path, number),
                    pos=strings(obj.get("pos"), "pos", path, number),
                    neg=strings(obj.get("neg"), "neg", path, number),
                    pos_grades=grades if isinstance(grades, list) else None,
                )
            )
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
            for number, obj in read_jsonl(data_dir / CORPUS):
                doc_id = text_id(obj.get("_id"), data_dir / CORPUS, number, "_id")
                title = string(obj, "title", data_dir / CORPUS, number, default="")
                text = string(obj, "text", data_dir / CORPUS, number)
                corpus.write(orjson.dumps({"_id": doc_id, "title": title, "text": text}) + b"\n")
                documents += 1
                if texts.get(corpus_text(title, text)) == "":
                    texts[corpus_text(title, text)] = doc_id
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
    a negative column only when every query has one (cycling through its negatives). Mirrors
    `to_training_dataset` in the lab's inventory/datasets.py (the lab cannot be imported here)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportFailure(out, "needs the pyarrow package: pip install 'embed-lab[io]'") from None
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, examples in read_lab_splits(data_dir).items():
        with_negatives = bool(examples) and all(example.neg for example in examples)
        columns: dict[str, list[str]] = {"anchor": [], "positive": []}
        if with_negatives:
            columns["negative"] = []
        for example in examples:
            for index, positive in enumerate(example.pos):
                columns["anchor"].append(example.query)
                columns["positive"].append(positive)
                if with_negatives:
                    columns["negative"].append(example.neg[index % len(example.neg)])
        pq.write_table(pa.table(columns), out / f"{split}.parquet")
        written.append(f"{split}.parquet: {len(columns['anchor']):,} rows ({', '.join(columns)})")
    return written
