import pytest

from inventory.datasets import Document, Record, Splits
from inventory.errors import LabError
from inventory.preprocess import clean_corpus, clean_records, clean_splits, normalise


def test_normalise_unicode_and_whitespace() -> None:
    assert normalise("  ｃａｆｅ\u00a0crema \t\n shot ") == "cafe crema shot"
    assert normalise(" \t\r\n ") == ""
    assert normalise("e\u0301spresso") == "\u00e9spresso"  # combining accent composed


def test_empty_and_duplicate_records_are_removed_and_counted() -> None:
    records = [
        Record("descale  the machine", ("Run the cycle.",), ("Grind finer.",)),
        Record("descale the machine", ("Run the cycle. ",), ("Grind finer.",)),  # duplicate
        Record("   ", ("Something.",)),  # empty query
        Record("pump noise", ("", " ")),  # no non-empty positive
        Record("milk", ("Use cold milk.", "Use cold milk.", ""), ("",)),
    ]
    kept, report = clean_records(records, "train")
    assert kept == [
        Record("descale the machine", ("Run the cycle.",), ("Grind finer.",)),
        Record("milk", ("Use cold milk.",), ()),
    ]
    assert (report.total, report.kept, report.empty, report.duplicates) == (5, 2, 2, 1)
    assert report.empty_passages == 5  # 2 blanks in "pump noise"; a repeat, 2 blanks in "milk"
    assert "train: kept 2 of 5" in str(report)


def test_corpus_cleaning_counts_what_it_drops() -> None:
    documents = [Document("a", " Prime  the pump "), Document("b", "  "), Document("a", "again")]
    kept, report = clean_corpus(documents)
    assert kept == [Document("a", "Prime the pump")]
    assert (report.empty, report.duplicates, report.kept) == (1, 1, 1)


def test_a_split_left_empty_is_an_error() -> None:
    good = [Record("q", ("p",))]
    splits = Splits(train=good, dev=good, gold=[Record(" ", ("p",))], corpus=[])
    with pytest.raises(LabError, match="no gold records left after preprocessing"):
        clean_splits(splits)


def test_clean_splits_reports_every_split() -> None:
    good = [Record("q", ("p",)), Record("q", ("p",))]
    splits, reports = clean_splits(Splits(train=good, dev=good, gold=good, corpus=[]))
    assert [report.split for report in reports] == ["train", "dev", "gold"]
    assert all(report.duplicates == 1 for report in reports)
    assert len(splits.train) == 1


def test_grades_follow_their_positives_through_cleaning() -> None:
    graded = Record("q", ("  b ", "a", "\u3000", "b"), (), pos_grades=(1, 2, 3, 3))
    plain = Record("r", ("x", "x "))
    (first, second), _ = clean_records([graded, plain], "gold")
    assert first.pos == ("b", "a") and first.pos_grades == (3, 2)  # a repeat keeps its best grade
    assert second.pos == ("x",) and second.pos_grades is None
