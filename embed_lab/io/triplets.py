"""Import (query, positive[, negative]) rows from TSV or JSONL, grouped by query."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from embed_lab.io.records import Grouper, ImportFailure, read_jsonl, string, tsv_rows
from embed_lab.io.sources import split_files
from embed_lab.io.splits import Imported

EXTENSIONS = (".tsv", ".jsonl")
HEADERS = {
    (query, "positive", *negative)
    for query in ("query", "anchor")
    for negative in ((), ("negative",))
}


def import_triplets(source: Path, names: dict[str, str | None]) -> Imported:
    imported = Imported(splits={})
    for split, path in split_files(source, names, EXTENSIONS).items():
        grouper = Grouper()
        rows = _jsonl_rows(path) if path.suffix == ".jsonl" else _tsv_triplets(path)
        for query, positive, negative in rows:
            grouper.add(query, [positive], [negative] if negative else [])
        imported.splits[split] = list(grouper.examples.values())
    return imported


def _tsv_triplets(path: Path) -> Iterator[tuple[str, str, str]]:
    for number, fields in tsv_rows(path):
        if number == 1 and tuple(field.lower() for field in fields) in HEADERS:
            continue
        if len(fields) not in (2, 3):
            raise ImportFailure(
                path,
                f"expected query, positive[, negative] separated by tabs, got {len(fields)} fields",
                number,
            )
        yield fields[0], fields[1], fields[2] if len(fields) == 3 else ""


def _jsonl_rows(path: Path) -> Iterator[tuple[str, str, str]]:
    for number, obj in read_jsonl(path):
        query_key = "anchor" if "anchor" in obj and "query" not in obj else "query"
        yield (
            string(obj, query_key, path, number),
            string(obj, "positive", path, number),
            string(obj, "negative", path, number, default=""),
        )
