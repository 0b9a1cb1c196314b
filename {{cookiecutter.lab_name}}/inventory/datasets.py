"""The lab's data: loading with precise errors, conversion for the trainer.

Each split (data/train.jsonl, data/dev.jsonl, data/gold.jsonl) holds one JSON object per line in
FlagEmbedding format: {"query": str, "pos": [str, ...], "neg": [str, ...]}. The optional
data/corpus.jsonl holds BEIR corpus lines {"_id": str, "title": str, "text": str} that are added
to the retrieval corpus as distractors. What a valid line is lives in inventory/contract.py,
which `emb check` applies too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from inventory.contract import (
    CORPUS_FILE,
    SPLITS,
    ContractError,
    corpus_row,
    decode_line,
    is_blank_line,
    split_row_with_ids,
    strip_bom,
)
from inventory.errors import LabError

if TYPE_CHECKING:
    from datasets import Dataset

T = TypeVar("T")


class DataError(LabError):
    """A data file that breaks the contract; the message names the file and the line."""

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
    # corpus ids of further positives left out of pos (an import's --max-positives): only
    # mining reads them, so that it never picks one as a negative
    more_pos_ids: tuple[str, ...] = field(default=(), compare=False)


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
    """Read one split; any line that breaks the contract raises `DataError`."""
    records = [
        Record(query, tuple(pos), tuple(neg), tuple(ids))
        for query, pos, neg, ids in _rows(path, split_row_with_ids)
    ]
    if not records:
        raise DataError(path, "the split is empty (no records)")
    return records


def read_corpus(path: Path) -> list[Document]:
    """Read BEIR corpus lines; the title, when present, is put in front of the text."""
    return [Document(id=doc_id, text=text) for doc_id, text in _rows(path, corpus_row)]


def to_training_dataset(records: list[Record]) -> Dataset:
    """Columns (anchor, positive[, negative]) by position: one row per positive passage.

    A row's negative is the record's hard negative at the same position (cycling). The negative
    column is only added when every record has a negative, because the columns must be complete.
    """
    from datasets import Dataset

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


def _rows(path: Path, parse: Callable[[Any], T]) -> Iterator[T]:
    """`parse` applied to the JSON value of every non-blank line, as the contract reads them."""
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        file = path.open("rb")
    except OSError as error:
        raise DataError(path, f"cannot be read ({error.strerror or error})") from None
    with file:
        for number, raw in enumerate(file, start=1):
            line = strip_bom(raw) if number == 1 else raw
            if is_blank_line(line):
                continue
            try:
                row = parse(decode_line(line))
            except ContractError as error:
                raise DataError(path, str(error), number) from None
            yield row
