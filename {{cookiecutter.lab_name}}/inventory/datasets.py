"""The lab's data: one schema, loading with precise errors, conversion for the trainer.

Each split (data/train.jsonl, data/dev.jsonl, data/gold.jsonl) holds one JSON object per line in
FlagEmbedding format: {"query": str, "pos": [str, ...], "neg": [str, ...]}. "neg" is optional and
other keys (such as "id") are ignored. The optional data/corpus.jsonl holds BEIR corpus lines
{"_id": str, "title": str, "text": str} that are added to the retrieval corpus as distractors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets import Dataset

from inventory.errors import LabError

SPLITS = ("train", "dev", "gold")
CORPUS_FILE = "corpus.jsonl"


class DataError(LabError):
    """A data file that does not follow the schema; the message names the file and the line."""

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.reason = path, line, reason


@dataclass(frozen=True)
class Record:
    """One query with its relevant (pos) and non-relevant (neg) passages."""

    query: str
    pos: tuple[str, ...]
    neg: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """One extra retrieval document from data/corpus.jsonl."""

    id: str
    text: str


@dataclass(frozen=True)
class Splits:
    train: list[Record]
    dev: list[Record]
    gold: list[Record]
    corpus: list[Document]


def load_splits(data_dir: Path) -> Splits:
    """Read train/dev/gold (required) and corpus.jsonl (optional) from `data_dir`."""
    if not data_dir.is_dir():
        raise LabError(f"data directory not found: {data_dir}")
    train, dev, gold = (read_records(data_dir / f"{split}.jsonl") for split in SPLITS)
    corpus_path = data_dir / CORPUS_FILE
    corpus = read_corpus(corpus_path) if corpus_path.exists() else []
    return Splits(train=train, dev=dev, gold=gold, corpus=corpus)


def read_records(path: Path) -> list[Record]:
    """Read one split; any line that breaks the schema raises `DataError`."""
    records = [_record(obj, path, line) for line, obj in _json_lines(path)]
    if not records:
        raise DataError(path, "the split is empty (no records)")
    return records


def read_corpus(path: Path) -> list[Document]:
    """Read BEIR corpus lines; the title, when present, is put in front of the text."""
    documents = []
    for line, obj in _json_lines(path):
        doc_id = _field(obj, "_id", str, path, line)
        title = _field(obj, "title", str, path, line, default="")
        text = _field(obj, "text", str, path, line)
        documents.append(Document(id=doc_id, text=f"{title} {text}" if title else text))
    return documents


def to_training_dataset(records: list[Record]) -> Dataset:
    """Columns (anchor, positive[, negative]) by position: one row per positive passage.

    A row's negative is the record's hard negative at the same position (cycling). The negative
    column is only added when every record has a negative, because the columns must be complete.
    """
    with_negatives = all(record.neg for record in records)
    rows: dict[str, list[str]] = {"anchor": [], "positive": []}
    if with_negatives:
        rows["negative"] = []
    for record in records:
        for index, positive in enumerate(record.pos):
            rows["anchor"].append(record.query)
            rows["positive"].append(positive)
            if with_negatives:
                rows["negative"].append(record.neg[index % len(record.neg)])
    return Dataset.from_dict(rows)


def _json_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DataError(path, "file not found")
    objects = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DataError(path, f"not valid UTF-8 ({error.reason})", number) from None
        if not text.strip():
            continue  # blank lines (such as a trailing one) hold no record
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(path, f"malformed JSON ({error.msg})", number) from None
        if not isinstance(obj, dict):
            raise DataError(path, f"expected a JSON object, got {type(obj).__name__}", number)
        objects.append((number, obj))
    return objects


def _record(obj: dict[str, Any], path: Path, line: int) -> Record:
    query = _field(obj, "query", str, path, line)
    pos = _texts(obj, "pos", path, line, required=True)
    neg = _texts(obj, "neg", path, line, required=False)
    return Record(query=query, pos=pos, neg=neg)


def _field(
    obj: dict[str, Any], key: str, kind: type, path: Path, line: int, default: Any = None
) -> Any:
    if key not in obj:
        if default is not None:
            return default
        raise DataError(path, f'missing field "{key}"', line)
    value = obj[key]
    if not isinstance(value, kind):
        raise DataError(
            path, f'"{key}" must be a {kind.__name__}, got {type(value).__name__}', line
        )
    return value


def _texts(obj: dict[str, Any], key: str, path: Path, line: int, required: bool) -> tuple[str, ...]:
    if key not in obj and not required:
        return ()
    value = _field(obj, key, list, path, line)
    if not all(isinstance(item, str) for item in value):
        raise DataError(path, f'"{key}" must be a list of strings', line)
    if required and not value:
        raise DataError(path, f'"{key}" must hold at least one passage', line)
    return tuple(value)
