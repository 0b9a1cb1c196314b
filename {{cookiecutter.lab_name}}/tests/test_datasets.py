from pathlib import Path

import pytest
from conftest import record, write_jsonl

from inventory.datasets import (
    DataError,
    Document,
    Record,
    load_splits,
    read_corpus,
    read_records,
    to_training_dataset,
)
from inventory.errors import LabError


def test_load_splits_returns_typed_records(data_dir: Path) -> None:
    splits = load_splits(data_dir)
    first = Record("descale the machine", ("Run the descale cycle.",), ("Grind finer.",))
    assert splits.train[0] == first
    assert len(splits.dev) == len(splits.gold) == 2
    assert splits.corpus == []


def test_neg_is_optional_and_extra_keys_are_ignored(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [record("q", ["p"], id="a", source="faq")])
    assert read_records(path) == [Record("q", ("p",), ())]


def test_grades_are_read_beside_the_positives(tmp_path: Path) -> None:
    rows = [record("q", ["a", "b"], pos_grades=[2, 1]), record("r", ["c"], pos_grades=None)]
    graded, plain = read_records(write_jsonl(tmp_path / "gold.jsonl", rows))
    assert graded.pos_grades == (2, 1) and graded.grades == (2, 1)
    assert plain.pos_grades is None and plain.grades == (1,)


def test_blank_lines_are_not_records(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [record("q", ["p"]), "", "   "])
    assert len(read_records(path)) == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"query": "q", "pos": ["p"]', "invalid JSON"),
        ('["q", "p"]', "expected a JSON object, got array"),
        ('{"pos": ["p"]}', "missing key 'query'"),
        ('{"query": "q"}', "missing key 'pos'"),
        ('{"query": 3, "pos": ["p"]}', "'query' must be a string, got number"),
        ('{"query": "\\u2003", "pos": ["p"]}', "'query' is empty"),
        ('{"query": "q", "pos": "p"}', "'pos' must be an array of strings, got string"),
        ('{"query": "q", "pos": ["p", 2]}', "'pos'[1] must be a string, got number"),
        ('{"query": "q", "pos": []}', "'pos' is an empty array"),
        ('{"query": "q", "pos": ["p"], "neg": [null]}', "'neg'[0] must be a string, got null"),
        ('{"query": "q", "pos": ["p"], "score": NaN}', "NaN is not a JSON number"),
        ('{"query": "q\\ud800", "pos": ["p"]}', "lone surrogate \\ud800"),
        ('{"query": "q", "pos": ["p"], "pos_grades": [0]}', "'pos_grades'[0] must be an integer"),
        ('{"query": "q", "pos": ["p"], "pos_grades": [2, 1]}', "2 grades for 1 positives"),
    ],
)
def test_a_bad_line_names_file_line_and_reason(tmp_path: Path, line: str, reason: str) -> None:
    path = write_jsonl(tmp_path / "gold.jsonl", [record("fine", ["ok"]), line])
    with pytest.raises(DataError) as caught:
        read_records(path)
    assert str(caught.value).startswith(f"{path}:2: ")
    assert reason in str(caught.value)
    assert caught.value.line == 2


def test_bom_crlf_and_null_neg_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"query": "q", "pos": ["p"], "neg": null}\r\n{"query": "r",\r'
        b'"pos": ["s"]}\r\n'
    )
    assert read_records(path) == [Record("q", ("p",)), Record("r", ("s",))]


def test_a_pathologically_nested_line_is_one_error_not_a_crash(tmp_path: Path) -> None:
    deep = '{"query": "q", "pos": ["p"], "x": ' + "[" * 50_000 + "]" * 50_000 + "}"
    path = write_jsonl(tmp_path / "train.jsonl", [deep])
    with pytest.raises(DataError, match=r"train\.jsonl:1: nested deeper than 64 levels"):
        read_records(path)


def test_non_utf8_bytes_are_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_bytes(b'{"query": "q", "pos": ["p"]}\n{"query": "caf\xe9", "pos": ["p"]}\n')
    with pytest.raises(DataError, match=r"dev\.jsonl:2: not valid UTF-8"):
        read_records(path)


def test_an_empty_split_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"gold\.jsonl: the split is empty"):
        read_records(path)


def test_missing_split_and_missing_folder(data_dir: Path) -> None:
    (data_dir / "dev.jsonl").unlink()
    with pytest.raises(DataError, match=r"dev\.jsonl: file not found"):
        load_splits(data_dir)
    with pytest.raises(LabError, match="data directory not found"):
        load_splits(data_dir / "nowhere")


def test_corpus_is_optional_and_titles_lead_the_text(data_dir: Path) -> None:
    write_jsonl(
        data_dir / "corpus.jsonl",
        [{"_id": "d1", "title": "Pump", "text": "Prime it."}, {"_id": "d2", "text": "Descale."}],
    )
    expected = [Document("d1", "Pump Prime it."), Document("d2", "Descale.")]
    assert load_splits(data_dir).corpus == expected
    write_jsonl(data_dir / "corpus.jsonl", [{"title": "no id", "text": "x"}])
    with pytest.raises(DataError, match=r"corpus\.jsonl:1: missing key '_id'"):
        read_corpus(data_dir / "corpus.jsonl")


def test_training_dataset_has_positional_columns_and_no_ids() -> None:
    records = [Record("q1", ("p1", "p1b"), ("n1",)), Record("q2", ("p2",), ("n2", "n2b"))]
    dataset = to_training_dataset(records)
    assert dataset.column_names == ["anchor", "positive", "negative"]
    assert dataset["anchor"] == ["q1", "q1", "q2"]
    assert dataset["positive"] == ["p1", "p1b", "p2"]
    assert dataset["negative"] == ["n1", "n1", "n2"]


def test_training_dataset_drops_the_negative_column_when_some_records_lack_one() -> None:
    dataset = to_training_dataset([Record("q1", ("p1",), ("n1",)), Record("q2", ("p2",))])
    assert dataset.column_names == ["anchor", "positive"]
    assert len(dataset) == 2
