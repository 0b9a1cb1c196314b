"""The data contract: which lines of data/*.jsonl the lab accepts, and why it refuses the others.

One definition, used by the lab (inventory/datasets.py) and by `emb check`, which loads this very
file, so the check passes exactly the data the lab can train on. Standard library only.

A file is UTF-8 text, one JSON value per line (lines end with LF; CRLF is fine). Per line:

- the file may start with a UTF-8 byte order mark (Windows editors write one); it is skipped;
- a blank line (only spaces, tabs, CR) is skipped; it is not a record;
- a line longer than MAX_LINE_BYTES, or nested deeper than MAX_DEPTH, is refused;
- the line must be valid UTF-8 and strict JSON (RFC 8259): no NaN/Infinity, no trailing commas,
  no raw control characters in strings, no lone surrogate escapes such as "\\ud800";
- a repeated key keeps its last value (as every common JSON parser does);
- a split line is {"query": str, "pos": [str, ...], "neg": [str, ...] | null}; query and every
  positive must hold more than whitespace, pos must not be empty, neg may be missing or null;
  more_pos_ids (missing, null or [str, ...]) names corpus documents that are further positives
  of the query, left out of pos (`emb import --max-positives`): mining never picks them;
  pos_grades (missing, null or [int, ...], one per positive, each from 1 to MAX_GRADE) grades them
  (graded relevance: gold ndcg uses the grades as gains; missing: every positive is grade 1);
- a corpus line is {"_id": str, "title": str | null, "text": str}; _id must hold more than
  whitespace, title is optional; the document's text is `document_text(title, text)`;
- other keys are ignored.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SPLITS = ("train", "dev", "gold")
CORPUS_FILE = "corpus.jsonl"
UTF8_BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 16 << 20
MAX_DEPTH = 64
BLANK_BYTES = b" \t\r\n"  # JSON whitespace
MAX_GRADE = 1000  # far above any relevance scale, and parsed alike by every JSON reader

# A string (to its closing quote, or to the end of an unterminated one) or a bracket; matched
# left to right without overlap, so a scan is linear in the length of the line.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_NO_TEXTS: list[str] = []


class ContractError(ValueError):
    """A line that breaks the contract; the message is the reason, without file or line."""


def strip_bom(raw: bytes) -> bytes:
    """The first line of a file without its UTF-8 byte order mark."""
    return raw[len(UTF8_BOM) :] if raw.startswith(UTF8_BOM) else raw


def is_blank_line(raw: bytes) -> bool:
    """A line holding only JSON whitespace: skipped, never a record."""
    return not raw.strip(BLANK_BYTES)


class FileProblem(ValueError):
    """A file, or a line of it, that breaks the contract: "<path>[:<line>]: <reason>"."""

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")
        self.path, self.reason, self.line = path, reason, line


def read_values(path: Path, parse: Callable[[Any], T]) -> Iterator[tuple[int, Any, T]]:
    """(line number, JSON value, `parse(value)`) of every line of `path` that holds a value;
    `parse` is `split_row` or `corpus_row`. Raises FileProblem at the first line that breaks
    the contract (or when the file is missing or unreadable)."""
    if not path.is_file():
        raise FileProblem(path, "file not found")
    try:
        file = path.open("rb")
    except OSError as error:
        raise FileProblem(path, f"cannot be read ({error.strerror or error})") from None
    with file:
        for number, line in numbered_lines(file):
            try:
                value = decode_line(line)
                row = parse(value)
            except ContractError as error:
                raise FileProblem(path, str(error), number) from None
            yield number, value, row


def numbered_lines(file: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of each line of a file that holds a value: the first line's byte
    order mark stripped, blank lines skipped."""
    for number, raw in enumerate(file, start=1):
        line = strip_bom(raw) if number == 1 else raw
        if not is_blank_line(line):
            yield number, line


def decode_line(raw: bytes) -> Any:
    """The JSON value of one line (not blank; BOM already stripped); raises ContractError."""
    if len(raw) > MAX_LINE_BYTES:
        raise ContractError(f"line is longer than {MAX_LINE_BYTES >> 20} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        hint = "; the file looks like UTF-16, save it as UTF-8" if raw[:2] in _UTF16 else ""
        raise ContractError(
            f"not valid UTF-8: byte 0x{raw[error.start]:02x} at column {error.start + 1}{hint}"
        ) from None
    if text.startswith("\ufeff"):
        raise ContractError("a byte order mark (BOM) is only allowed at the start of the file")
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:
        raise ContractError(f"nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        reason = error.msg.removesuffix(" at")  # "Invalid control character at"
        raise ContractError(f"invalid JSON: {reason} at column {error.colno}") from None
    if _SURROGATE_ESCAPE.search(raw):
        _refuse_lone_surrogates(value)
    return value


_UTF16 = (b"\xff\xfe", b"\xfe\xff")


def _refuse_constant(name: str) -> None:
    raise ContractError(f"invalid JSON: {name} is not a JSON number (write null instead)")


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (strings are skipped)."""
    depth = deepest = 0
    for token in _STRING_OR_BRACKET.findall(text):
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _refuse_lone_surrogates(value: Any) -> None:
    # Escaped surrogate pairs decode to one character; a lone one cannot be encoded as UTF-8.
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(error.object[error.start])
        raise ContractError(f"lone surrogate \\u{code:04x} is not valid Unicode") from None


def is_blank(text: str) -> bool:
    """Empty after normalisation: only whitespace (equal to `not normalise(text)`)."""
    return not text or text.isspace()


def normalise(text: str) -> str:
    """NFKC unicode form, whitespace runs collapsed to one space, no leading/trailing spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def document_text(title: str | None, text: str) -> str:
    """A corpus document's text: its title (when it holds more than whitespace), a space, text."""
    return f"{title} {text}" if title and not title.isspace() else text


def split_row(value: Any) -> tuple[str, list[str], list[str]]:
    """(query, positives, negatives) of a split line's JSON value; raises ContractError."""
    if type(value) is dict:
        query, positives, negatives = value.get("query"), value.get("pos"), value.get("neg")
        if (
            type(query) is str
            and not is_blank(query)
            and type(positives) is list
            and positives
            and all(type(text) is str and not is_blank(text) for text in positives)
        ):
            more = value.get("more_pos_ids")
            if (
                more is None or (type(more) is list and all(type(i) is str for i in more))
            ) and _grades_problem(value) is None:
                if negatives is None:
                    return query, positives, _NO_TEXTS
                if type(negatives) is list and all(type(text) is str for text in negatives):
                    return query, positives, negatives
    raise ContractError(_split_row_problem(value))


def split_row_with_ids(value: Any) -> tuple[str, list[str], list[str], list[str]]:
    """`split_row` plus the line's more_pos_ids (empty when missing or null)."""
    return (*split_row(value), value.get("more_pos_ids") or _NO_TEXTS)


def pos_grades(value: Any) -> list[int] | None:
    """The grades of a valid split line's positives (None when missing or null)."""
    return value.get("pos_grades")


def _grades_problem(value: dict[str, Any]) -> str | None:
    grades = value.get("pos_grades")
    if grades is None:
        return None
    if type(grades) is not list:
        return f"'pos_grades' must be an array of integers, got {json_type(grades)}"
    if len(grades) != len(value["pos"]):
        return (f"'pos_grades' has {len(grades)} grades for {len(value['pos'])} positives "
                "(one per positive)")  # fmt: skip
    for index, grade in enumerate(grades):
        if type(grade) is not int or not 1 <= grade <= MAX_GRADE:
            return f"'pos_grades'[{index}] must be an integer from 1 to {MAX_GRADE}"
    return None


def _split_row_problem(value: Any) -> str:
    if not isinstance(value, dict):
        return f"expected a JSON object, got {json_type(value)}"
    if "query" not in value:
        return "missing key 'query'"
    query = value["query"]
    if not isinstance(query, str):
        return f"'query' must be a string, got {json_type(query)}"
    if is_blank(query):
        return "'query' is empty"
    if "pos" not in value:
        return "missing key 'pos'"
    return (
        _texts_problem(value, "pos", required=True)
        or _texts_problem(value, "neg")
        or _texts_problem(value, "more_pos_ids")
        or _grades_problem(value)
        or "?"
    )


def _texts_problem(value: dict[str, Any], key: str, required: bool = False) -> str | None:
    texts = value.get(key)
    if texts is None and not required:
        return None
    if not isinstance(texts, list):
        return f"'{key}' must be an array of strings, got {json_type(texts)}"
    if required and not texts:
        return f"'{key}' is an empty array"
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            return f"'{key}'[{index}] must be a string, got {json_type(text)}"
        if required and is_blank(text):
            return f"'{key}'[{index}] is empty"
    return None


def corpus_row(value: Any) -> tuple[str, str]:
    """(id, document text) of a corpus line's JSON value; raises ContractError."""
    if type(value) is dict:
        doc_id, title, text = value.get("_id"), value.get("title"), value.get("text")
        if (
            type(doc_id) is str
            and not is_blank(doc_id)
            and (title is None or type(title) is str)
            and type(text) is str
        ):
            return doc_id, document_text(title, text)
    raise ContractError(_corpus_row_problem(value))


def _corpus_row_problem(value: Any) -> str:
    if not isinstance(value, dict):
        return f"expected a JSON object, got {json_type(value)}"
    for key in ("_id", "text"):
        if key not in value:
            return f"missing key '{key}'"
        if not isinstance(value[key], str):
            return f"'{key}' must be a string, got {json_type(value[key])}"
    if is_blank(value["_id"]):
        return "'_id' is empty"
    return f"'title' must be a string or null, got {json_type(value.get('title'))}"


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type ("object", "array", "string", ...)."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
