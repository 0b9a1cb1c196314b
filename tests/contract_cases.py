"""Edge cases of the data contract, each a data folder the lab and `emb check` must judge alike.

A case is valid train/dev/gold splits (and, for corpus cases, a valid corpus.jsonl) with one
file replaced: most often a 20-line file with one odd line as line 11. `verdict` is the
contract's: "fail" when the lab must stop and the check must fail on a contract finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ODD_LINE = 11
MAX_DEPTH = 64  # inventory/contract.py; test_contract.py checks they agree
MAX_LINE_BYTES = 16 << 20


def split_line(number: int, split: str = "train") -> bytes:
    row = {
        "id": f"{split}-{number}",
        "query": f"{split} question {number}",
        "pos": [f"The answer to {split} question {number}."],
        "neg": [f"{split} filler {number}."],
    }
    return json.dumps(row).encode()


def corpus_line(number: int) -> bytes:
    doc = {"_id": f"d{number}", "title": f"Title {number}", "text": f"Document body {number}."}
    return json.dumps(doc).encode()


def lines_file(lines: list[bytes], end: bytes = b"\n") -> bytes:
    return b"".join(line + end for line in lines)


def with_odd_line(make, odd: bytes) -> bytes:
    """20 valid lines made by make(number) and `odd` as line ODD_LINE."""
    lines = [make(number) for number in range(1, 21)]
    return lines_file([*lines[: ODD_LINE - 1], odd, *lines[ODD_LINE - 1 :]])


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # "train" or "corpus"
    content: bytes  # the whole file
    verdict: str  # "pass" or "fail"
    line: int | None = ODD_LINE  # the line a "fail" names (None: the file as a whole)

    def write(self, data_dir: Path) -> Path:
        data_dir.mkdir(parents=True)
        for split in ("train", "dev", "gold"):
            lines = [
                split_line(number, split) for number in range(1, 6 if split != "train" else 21)
            ]
            (data_dir / f"{split}.jsonl").write_bytes(lines_file(lines))
        (data_dir / f"{self.file}.jsonl").write_bytes(self.content)
        return data_dir


def train(name: str, odd: bytes | str, verdict: str) -> Case:
    odd = odd.encode() if isinstance(odd, str) else odd
    return Case(name, "train", with_odd_line(split_line, odd), verdict)


def corpus(name: str, odd: bytes | str, verdict: str) -> Case:
    odd = odd.encode() if isinstance(odd, str) else odd
    return Case(name, "corpus", with_odd_line(corpus_line, odd), verdict)


def nested(depth: int) -> str:
    return '{"query": "deep", "pos": ["p"], "extra": ' + "[" * depth + "]" * depth + "}"


def corpus_nested(depth: int) -> str:
    return '{"_id": "deep", "text": "t", "extra": ' + "[" * depth + "]" * depth + "}"


TRAIN_LINES = [split_line(number) for number in range(1, 21)]
BOM = b"\xef\xbb\xbf"

CASES = [
    # The cases.
    Case("bom-and-crlf", "train", BOM + lines_file(TRAIN_LINES, b"\r\n"), "pass"),
    train("neg-null", '{"query": "q odd", "pos": ["p odd"], "neg": null}', "pass"),
    train("nan-in-extra-field", '{"query": "q odd", "pos": ["p odd"], "score": NaN}', "fail"),
    train("lone-surrogate-in-query", r'{"query": "q \ud800", "pos": ["p odd"]}', "fail"),
    train("whitespace-only-query", r'{"query": "\u2003\u00a0", "pos": ["p odd"]}', "fail"),
    train("50000-nested-arrays", nested(50_000), "fail"),
    Case(
        "corpus-with-bom", "corpus", BOM + lines_file([corpus_line(n) for n in range(20)]), "pass"
    ),
    corpus("corpus-integer-id", '{"_id": 7, "title": "", "text": "Seven."}', "fail"),
    corpus("corpus-without-text", '{"_id": "d-x", "title": "No text"}', "fail"),
    train("invalid-utf8", b'{"query": "caf\xe9", "pos": ["p odd"]}', "fail"),
    train("raw-control-character", '{"query": "tab\x01", "pos": ["p odd"]}', "fail"),
    train("pos-as-string", '{"query": "q odd", "pos": "p odd"}', "fail"),
    train("pos-numbers", '{"query": "q odd", "pos": [1, 2]}', "fail"),
    train("array-line", '["q odd", ["p odd"]]', "fail"),
    Case("empty-split", "train", b"", "fail", line=None),
    Case("only-blank-lines", "train", b"\n  \n\t\n", "fail", line=None),
    train("duplicate-keys-last-wins", '{"query": 1, "query": "q odd", "pos": ["p odd"]}', "pass"),
    Case("no-final-newline", "train", lines_file(TRAIN_LINES)[:-1], "pass"),
    # More decoding rules.
    train(
        "infinity-in-extra-field", '{"query": "q odd", "pos": ["p odd"], "s": -Infinity}', "fail"
    ),
    train("escaped-surrogate-pair", r'{"query": "smile \ud83d\ude00", "pos": ["p odd"]}', "pass"),
    train(
        "lone-surrogate-in-extra-field", r'{"query": "q odd", "pos": ["p"], "x": "\udfff"}', "fail"
    ),
    train("escaped-backslash-before-u", r'{"query": "path \\ud800", "pos": ["p odd"]}', "pass"),
    train("nested-at-the-limit", nested(MAX_DEPTH - 1), "pass"),  # the object is one level
    train("nested-one-past-the-limit", nested(MAX_DEPTH), "fail"),
    train("unterminated-string-after-brackets", "[" * 100 + '"' + '\\"' * 200_000, "fail"),
    train("brackets-inside-strings", '{"query": "' + "[" * 500 + '", "pos": ["p odd"]}', "pass"),
    train(
        "line-over-the-size-limit",
        '{"query": "q odd", "pos": ["' + "x" * MAX_LINE_BYTES + '"]}',
        "fail",
    ),
    train(
        "integer-beyond-64-bits",
        '{"query": "q odd", "pos": ["p"], "n": 123456789012345678901}',
        "pass",
    ),
    train("number-overflowing-a-double", '{"query": "q odd", "pos": ["p"], "n": 1e400}', "pass"),
    train("trailing-comma", '{"query": "q odd", "pos": ["p odd"],}', "fail"),
    train("bom-in-the-middle", BOM + b'{"query": "q odd", "pos": ["p odd"]}', "fail"),
    train("lone-cr-between-tokens", b'{"query": "q odd",\r"pos": ["p odd"]}', "pass"),
    train("form-feed-only-line", b"\x0c", "fail"),
    train("ideographic-space-only-line", "\u3000", "fail"),
    train("spaces-and-tabs-only-line", " \t ", "pass"),
    Case(
        "utf16-file",
        "train",
        "\ufeff".encode("utf-16-le") + lines_file(TRAIN_LINES).decode().encode("utf-16-le"),
        "fail",
        line=1,
    ),
    # More schema rules.
    train("missing-query", '{"pos": ["p odd"]}', "fail"),
    train("missing-pos", '{"query": "q odd"}', "fail"),
    train("empty-pos", '{"query": "q odd", "pos": []}', "fail"),
    train("whitespace-only-positive", r'{"query": "q odd", "pos": ["p", "\u3000 "]}', "fail"),
    train("empty-negative", '{"query": "q odd", "pos": ["p odd"], "neg": [""]}', "pass"),
    train("neg-with-null", '{"query": "q odd", "pos": ["p odd"], "neg": [null]}', "fail"),
    train("neg-as-string", '{"query": "q odd", "pos": ["p odd"], "neg": "n"}', "fail"),
    train("query-as-boolean", '{"query": true, "pos": ["p odd"]}', "fail"),
    train("more-pos-ids", '{"query": "q odd", "pos": ["p"], "more_pos_ids": ["d1"]}', "pass"),
    train("more-pos-ids-null", '{"query": "q odd", "pos": ["p"], "more_pos_ids": null}', "pass"),
    train("more-pos-ids-number", '{"query": "q odd", "pos": ["p"], "more_pos_ids": [7]}', "fail"),
    train("more-pos-ids-string", '{"query": "q odd", "pos": ["p"], "more_pos_ids": "d1"}', "fail"),
    train("pos-grades", '{"query": "q odd", "pos": ["p", "p2"], "pos_grades": [2, 1]}', "pass"),
    train("pos-grades-null", '{"query": "q odd", "pos": ["p"], "pos_grades": null}', "pass"),
    train("pos-grades-short", '{"query": "q odd", "pos": ["p", "p2"], "pos_grades": [2]}', "fail"),
    train("pos-grades-zero", '{"query": "q odd", "pos": ["p"], "pos_grades": [0]}', "fail"),
    train("pos-grades-float", '{"query": "q odd", "pos": ["p"], "pos_grades": [1.5]}', "fail"),
    train("pos-grades-boolean", '{"query": "q odd", "pos": ["p"], "pos_grades": [true]}', "fail"),
    train("pos-grades-string", '{"query": "q odd", "pos": ["p"], "pos_grades": "2"}', "fail"),
    train(
        "pos-grades-beyond-64-bits",  # orjson reads a float, json an int: both refused
        '{"query": "q odd", "pos": ["p"], "pos_grades": [18446744073709551616]}',
        "fail",
    ),
    train("json-null-line", "null", "fail"),
    # Corpus rules.
    corpus("corpus-null-title", '{"_id": "d-x", "title": null, "text": "Body."}', "pass"),
    corpus("corpus-no-title", '{"_id": "d-x", "text": "Body."}', "pass"),
    corpus("corpus-numeric-title", '{"_id": "d-x", "title": 3, "text": "Body."}', "fail"),
    corpus("corpus-empty-id", '{"_id": " ", "text": "Body."}', "fail"),
    corpus("corpus-empty-document", '{"_id": "d-x", "title": " ", "text": "\\u2003"}', "pass"),
    corpus("corpus-duplicate-id", corpus_line(3), "pass"),  # the check's own error, not the lab's
    corpus(
        "corpus-same-text-other-id",
        '{"_id": "d-x", "title": "Title 3", "text": "Document body 3."}',
        "pass",
    ),
    corpus("corpus-nan", '{"_id": "d-x", "text": "Body.", "score": NaN}', "fail"),
    corpus("corpus-array-line", '["d-x", "Body."]', "fail"),
    corpus("corpus-deep-nesting", corpus_nested(50_000), "fail"),
    corpus("corpus-invalid-utf8", b'{"_id": "d-x", "text": "caf\xe9"}', "fail"),
    Case("corpus-empty-file", "corpus", b"", "pass"),
]
