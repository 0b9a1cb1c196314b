"""The lab's data: loading with precise errors, conversion for the trainer.

Each split (data/train.jsonl, data/dev.jsonl, data/gold.jsonl) holds one JSON object per line in
FlagEmbedding format: {"query": str, "pos": [str, ...], "neg": [str, ...]}. The optional
data/corpus.jsonl holds BEIR corpus lines {"_id": str, "title": str, "text": str} that are added
to the retrieval corpus as distractors. A line may grade its positives ("pos_grades": [int, ...],
e.g. BEIR's graded qrels): gold and dev are then scored with graded relevance (retrieval.py).
What a valid line is lives in inventory/contract.py, which `emb check` applies too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from inventory.contract import (
    CORPUS_FILE,
    SPLITS,
    FileProblem,
    corpus_row,
    pos_grades,
    read_values,
    split_row_with_ids,
)
from inventory.errors import LabError
from inventory.rows import training_columns

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
    # graded relevance, one grade (1 or more) per positive; None: every positive is grade 1
    pos_grades: tuple[int, ...] | None = field(default=None, compare=False)

    @property
    def grades(self) -> tuple[int, ...]:
        """The grade of each positive (1 for all of them when the line gives none)."""
        return self.pos_grades if self.pos_grades is not None else (1,) * len(self.pos)


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
        Record(query, tuple(pos), tuple(neg), tuple(ids), None if grades is None else tuple(grades))
        for query, pos, neg, ids, grades in _rows(path, _split_row_with_grades)
    ]
    if not records:
        raise DataError(path, "the split is empty (no records)")
    return records


def _split_row_with_grades(value: Any) -> tuple[str, list[str], list[str], list[str], Any]:
    return (*split_row_with_ids(value), pos_grades(value))


def read_corpus(path: Path) -> list[Document]:
    """Read BEIR corpus lines; the title, when present, is put in front of the text."""
    return [Document(id=doc_id, text=text) for doc_id, text in _rows(path, corpus_row)]


def to_training_dataset(records: list[Record]) -> Dataset:
    """Columns (anchor, positive[, negative]) by position: one row per positive passage.

    A row's negative is the record's hard negative at the same position (cycling). The negative
    column is only added when every record has a negative, because the columns must be complete
    (inventory/rows.py).
    """
    from datasets import Dataset

    return Dataset.from_dict(training_columns(records))


def _rows(path: Path, parse: Callable[[Any], T]) -> Iterator[T]:
    """`parse` applied to the JSON value of every non-blank line, as the contract reads them."""
    try:
        yield from (row for _, _, row in read_values(path, parse))
    except FileProblem as problem:
        raise DataError(problem.path, problem.reason, problem.line) from None
