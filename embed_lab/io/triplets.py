"""Import (query, positive[, negative]) rows from TSV or JSONL, grouped by query."""

from __future__ import annotations

from pathlib import Path

from embed_lab.io.beir import tsv_rows
from embed_lab.io.records import Grouper, ImportFailure, read_jsonl, string
from embed_lab.io.sources import split_files
from embed_lab.io.splits import Imported

EXTENSIONS = (".tsv", ".jsonl")
HEADERS = {("query", "positive", "negative"), ("anchor", "positive", "negative")}


def import_triplets(source: Path, names: dict[str, str | None]) -> Imported:
    imported = Imported(splits={})
    for split, path in split_files(source, names, EXTENSIONS).items():
        grouper = Grouper()
        rows = _jsonl_rows(path) if path.suffix == ".jsonl" else _tsv_triplets(path)
        for query, positive, negative in rows:
            grouper.add(query, [positive], [negative] if negative else [])
        imported.splits[split] = list(grouper.examples.values())
    return imported


def _tsv_triplets(path: Path):
    for number, fields in tsv_rows(path):
        if number == 1 and tuple(field.lower() for field in fields) in HEADERS | {
            header[:2] for header in HEADERS
        }:
            continue
        if len(fields) not in (2, 3):
            raise ImportFailure(
                path,
                f"expected query, positive[, negative] separated by tabs, got {len(fields)} fields",
                number,
            )
        yield fields[0], fields[1], fields[2] if len(fields) == 3 else ""


def _jsonl_rows(path: Path):
    for number, obj in read_jsonl(path):
        query_key = "anchor" if "anchor" in obj and "query" not in obj else "query"
        yield (
            string(obj, query_key, path, number),
            string(obj, "positive", path, number),
            string(obj, "negative", path, number, default=""),
        )
