"""Text clean-up before training: unicode/whitespace normalisation, empty and duplicate removal.

Nothing is dropped silently: every removal is counted in a `PreprocessReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from inventory.contract import normalise
from inventory.datasets import Document, Record, Splits
from inventory.errors import LabError


@dataclass(frozen=True)
class PreprocessReport:
    """What preprocessing removed from one split."""

    split: str
    total: int
    empty: int = 0  # records without a query or without a non-empty positive
    duplicates: int = 0  # records identical to an earlier one after normalisation
    empty_passages: int = 0  # empty or repeated passages removed from pos/neg lists

    @property
    def kept(self) -> int:
        return self.total - self.empty - self.duplicates

    def __str__(self) -> str:
        return (
            f"{self.split}: kept {self.kept} of {self.total} "
            f"(removed {self.empty} empty, {self.duplicates} duplicate; "
            f"{self.empty_passages} empty/repeated passages)"
        )


def clean_records(records: list[Record], split: str) -> tuple[list[Record], PreprocessReport]:
    """Normalise every text, then drop empty and exact-duplicate records (first one kept)."""
    kept: list[Record] = []
    seen: set[Record] = set()
    empty = duplicates = passages = 0
    for record in records:
        graded = _graded_unique(record)
        pos, neg = tuple(graded), _unique(record.neg)
        passages += len(record.pos) + len(record.neg) - len(pos) - len(neg)
        grades = None if record.pos_grades is None else tuple(graded.values())
        cleaned = Record(normalise(record.query), pos, neg, record.more_pos_ids, grades)
        if not cleaned.query or not cleaned.pos:
            empty += 1
        elif cleaned in seen:
            duplicates += 1
        else:
            seen.add(cleaned)
            kept.append(cleaned)
    report = PreprocessReport(split, len(records), empty, duplicates, passages)
    return kept, report


def clean_corpus(documents: list[Document]) -> tuple[list[Document], PreprocessReport]:
    """Normalise corpus texts, then drop empty documents and repeated ids (first one kept)."""
    kept: list[Document] = []
    seen: set[str] = set()
    empty = duplicates = 0
    for document in documents:
        cleaned = replace(document, text=normalise(document.text))
        if not cleaned.text:
            empty += 1
        elif cleaned.id in seen:
            duplicates += 1
        else:
            seen.add(cleaned.id)
            kept.append(cleaned)
    return kept, PreprocessReport("corpus", len(documents), empty, duplicates)


def clean_splits(splits: Splits) -> tuple[Splits, list[PreprocessReport]]:
    """Clean every split; returns the cleaned splits and one report per split."""
    train, train_report = clean_records(splits.train, "train")
    dev, dev_report = clean_records(splits.dev, "dev")
    gold, gold_report = clean_records(splits.gold, "gold")
    corpus, corpus_report = clean_corpus(splits.corpus)
    reports = [train_report, dev_report, gold_report]
    for report in reports:
        if report.kept == 0:
            raise LabError(f"no {report.split} records left after preprocessing ({report})")
    if splits.corpus:
        reports.append(corpus_report)
    return Splits(train=train, dev=dev, gold=gold, corpus=corpus), reports


def _graded_unique(record: Record) -> dict[str, int]:
    """Normalised positives -> grade: empty ones dropped, a repeated one keeps its best grade."""
    graded: dict[str, int] = {}
    for text, grade in zip(record.pos, record.grades, strict=True):
        if text := normalise(text):
            graded[text] = max(grade, graded.get(text, grade))
    return graded


def _unique(texts: tuple[str, ...]) -> tuple[str, ...]:
    normalised = (normalise(text) for text in texts)
    return tuple(dict.fromkeys(text for text in normalised if text))
