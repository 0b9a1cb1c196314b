import re

import pytest

from inventory.contract import (
    MAX_DEPTH,
    ContractError,
    corpus_row,
    decode_line,
    document_text,
    is_blank,
    is_blank_line,
    nesting_depth,
    normalise,
    split_row,
    split_row_with_ids,
)


def test_document_text_puts_a_real_title_first() -> None:
    assert document_text("Pump", "Prime it.") == "Pump Prime it."
    assert document_text("", "Prime it.") == "Prime it."
    assert document_text(None, "Prime it.") == "Prime it."
    assert document_text(" \t", "Prime it.") == "Prime it."


def test_corpus_row_reads_id_and_document_text() -> None:
    assert corpus_row({"_id": "d1", "title": "Pump", "text": "Prime it."}) == (
        "d1",
        "Pump Prime it.",
    )
    assert corpus_row({"_id": "d2", "title": None, "text": ""}) == ("d2", "")
    with pytest.raises(ContractError, match="'_id' must be a string, got number"):
        corpus_row({"_id": 7, "text": "x"})


def test_split_row_accepts_missing_or_null_neg() -> None:
    assert split_row({"query": "q", "pos": ["p"]}) == ("q", ["p"], [])
    assert split_row({"query": "q", "pos": ["p"], "neg": None}) == ("q", ["p"], [])
    assert split_row({"query": "q", "pos": ["p"], "neg": [""]}) == ("q", ["p"], [""])


def test_more_pos_ids_are_corpus_ids_read_beside_the_row() -> None:
    row = {"query": "q", "pos": ["p"], "more_pos_ids": ["d1", "d2"]}
    assert split_row(row) == ("q", ["p"], [])
    assert split_row_with_ids(row) == ("q", ["p"], [], ["d1", "d2"])
    assert split_row_with_ids({"query": "q", "pos": ["p"], "more_pos_ids": None})[3] == []
    with pytest.raises(ContractError, match=r"'more_pos_ids'\[0\] must be a string, got number"):
        split_row({"query": "q", "pos": ["p"], "more_pos_ids": [7]})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": Infinity}', "Infinity is not a JSON number"),
        (b'"\\udc00"', "lone surrogate \\udc00"),
        (b"\xff\xfe{\x00", "looks like UTF-16"),
        (b'\xef\xbb\xbf{"a": 1}', "byte order mark"),
        (b'{"a": 1,}', "invalid JSON"),
    ],
)
def test_decode_line_refuses_what_is_not_strict_json(raw: bytes, reason: str) -> None:
    with pytest.raises(ContractError, match=re.escape(reason)):
        decode_line(raw)


def test_decode_line_keeps_surrogate_pairs_and_last_repeated_key() -> None:
    assert decode_line(b'{"q": "\\ud83d\\ude00", "q2": 1, "q2": 2}') == {"q": "\U0001f600", "q2": 2}


def test_nesting_depth_skips_brackets_inside_strings() -> None:
    assert nesting_depth('{"a": "[[[[", "b": [[1], {"c": []}]}') == 4
    assert decode_line(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(ContractError, match="nested deeper"):
        decode_line(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


def test_blank_means_empty_after_normalisation() -> None:
    for text in ["", " ", "\u2003\u00a0", "\t\r\n", "\u3000", "x", " x ", "\u200b", "\ufeff"]:
        assert is_blank(text) == (not normalise(text))
    assert is_blank_line(b" \t\r\n") and not is_blank_line(b"\x0c\n")
