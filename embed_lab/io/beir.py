"""Import a BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.

The corpus is streamed to data/corpus.jsonl; only the texts of judged documents are kept in
memory, so a corpus of millions of documents imports in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from embed_lab.io.records import (
    Example,
    ImportFailure,
    corpus_text,
    read_jsonl,
    string,
    text_id,
    tsv_rows,
)
from embed_lab.io.splits import CORPUS, Imported

QRELS_HEADER = ("query-id", "corpus-id", "score")


@dataclass(frozen=True)
class Judgment:
    doc_id: str
    score: int
    line: int


@dataclass(frozen=True)
class BeirOptions:
    train: str = "train"
    dev: str | None = None  # None: "dev" when there is one, else carved from train
    gold: str = "test"
    min_score: int = 1  # a judgment with score >= min_score is a positive; <= 0 a negative


def import_beir(source: Path, staging: Path, options: BeirOptions) -> Imported:
    qrels = _qrels_files(source, options)
    judged = {split: read_qrels(path) for split, path in qrels.items()}
    needed_docs: dict[str, tuple[Path, int]] = {}
    needed_queries: dict[str, tuple[Path, int]] = {}
    for split, queries in judged.items():
        for query_id, judgments in queries.items():
            needed_queries.setdefault(query_id, (qrels[split], judgments[0].line))
            for judgment in judgments:
                needed_docs.setdefault(judgment.doc_id, (qrels[split], judgment.line))
    documents, count = copy_corpus(source / "corpus.jsonl", staging / CORPUS, set(needed_docs))
    queries = read_queries(source / "queries.jsonl", set(needed_queries))
    _refuse_unknown(needed_docs, documents, "corpus-id", "corpus.jsonl")
    _refuse_unknown(needed_queries, queries, "query-id", "queries.jsonl")

    imported = Imported(splits={}, corpus_documents=count)
    for split, by_query in judged.items():
        examples = []
        without = 0
        for query_id, judgments in by_query.items():
            example = _example(query_id, queries[query_id], judgments, documents, options)
            if example.pos:
                examples.append(example)
            else:
                without += 1
        imported.splits[split] = examples
        if without:
            imported.notes.append(
                f"{split}: skipped {without:,} queries without a judgment >= {options.min_score} "
                f"({qrels[split].name})"
            )
    return imported


def _qrels_files(source: Path, options: BeirOptions) -> dict[str, Path]:
    if not source.is_dir():
        raise ImportFailure(source, "not a directory (expected a BEIR folder)")
    folder = source / "qrels"
    names = {"train": options.train, "dev": options.dev or "dev", "gold": options.gold}
    files = {split: folder / f"{name}.tsv" for split, name in names.items()}
    for split, option in (("train", "--train"), ("gold", "--gold")):
        if not files[split].is_file():
            raise ImportFailure(files[split], f"not found (name the {split} qrels with {option})")
    if not files["dev"].is_file():
        if options.dev is not None:
            raise ImportFailure(files["dev"], "not found (name the dev qrels with --dev)")
        del files["dev"]
    return files


def read_qrels(path: Path) -> dict[str, list[Judgment]]:
    """query-id -> judgments in file order. Tab-separated; the header line and CRLF are
    optional; a repeated (query, document) pair keeps its first judgment."""
    by_query: dict[str, list[Judgment]] = {}
    seen: set[tuple[str, str]] = set()
    for number, fields in tsv_rows(path):
        if number == 1 and tuple(field.lower() for field in fields) == QRELS_HEADER:
            continue
        if len(fields) != 3:
            raise ImportFailure(
                path,
                f"expected 3 tab-separated fields (query-id, corpus-id, score), got {len(fields)}",
                number,
            )
        query_id, doc_id, score = fields
        try:
            grade = int(score)
        except ValueError:
            raise ImportFailure(path, f'score "{score}" is not an integer', number) from None
        if not query_id or not doc_id:
            raise ImportFailure(path, "empty query-id or corpus-id", number)
        if (query_id, doc_id) not in seen:
            seen.add((query_id, doc_id))
            by_query.setdefault(query_id, []).append(Judgment(doc_id, grade, number))
    return by_query


def copy_corpus(source: Path, target: Path, needed: set[str]) -> tuple[dict[str, str], int]:
    """Stream source to target as {"_id", "title", "text"} lines (ids as strings); return the
    lab text of the `needed` documents and the number of documents."""
    texts: dict[str, str] = {}
    count = 0
    with target.open("wb") as out:
        for number, obj in read_jsonl(source):
            doc_id = text_id(obj.get("_id"), source, number, "_id")
            title = string(obj, "title", source, number, default="")
            text = string(obj, "text", source, number)
            out.write(orjson.dumps({"_id": doc_id, "title": title, "text": text}) + b"\n")
            count += 1
            if doc_id in needed:
                texts.setdefault(doc_id, corpus_text(title, text))
    return texts, count


def read_queries(path: Path, needed: set[str]) -> dict[str, str]:
    queries: dict[str, str] = {}
    for number, obj in read_jsonl(path):
        query_id = text_id(obj.get("_id"), path, number, "_id")
        if query_id in needed:
            queries.setdefault(query_id, string(obj, "text", path, number))
    return queries


def _refuse_unknown(
    needed: dict[str, tuple[Path, int]], found: dict[str, str], key: str, where: str
) -> None:
    for item, (path, line) in needed.items():
        if item not in found:
            raise ImportFailure(path, f'unknown {key} "{item}" (not in {where})', line)


def _example(
    query_id: str,
    query: str,
    judgments: list[Judgment],
    documents: dict[str, str],
    options: BeirOptions,
) -> Example:
    """Documents with the same text are one document in the lab: each text is listed once
    (a positive keeps its highest grade), and never as both positive and negative."""
    grades: dict[str, int] = {}
    ids: dict[str, list[str]] = {}
    for judgment in judgments:
        if judgment.score >= options.min_score:
            text = documents[judgment.doc_id]
            grades[text] = max(grades.get(text, judgment.score), judgment.score)
            ids.setdefault(text, []).append(judgment.doc_id)
    negatives = [documents[judgment.doc_id] for judgment in judgments if judgment.score <= 0]
    return Example(
        id=query_id,
        query=query,
        pos=list(grades),
        neg=[text for text in dict.fromkeys(negatives) if text not in grades],
        pos_grades=list(grades.values()) if any(g != 1 for g in grades.values()) else None,
        pos_doc_ids=ids,
    )
