"""Stream a JSONL split in blocks of lines and check each line against the lab schema.

A line is `{"query": str, "pos": [str, ...], "neg": [str, ...]}`: query a non-empty string,
pos a non-empty list of non-empty strings, neg (optional, null allowed) a list of strings.
Other keys (`id`, ...) are ignored. A UTF-8 BOM at the start of the file and CRLF line endings
are accepted. Blank (whitespace-only) lines are skipped and counted, never parsed as rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

UTF8_BOM = b"\xef\xbb\xbf"
BLOCK_BYTES = 4 << 20

Row = tuple[int, str, list[str], list[str]]
"""(line number, query, positives, negatives) of a row that fits the schema."""

_NO_NEGATIVES: list[str] = []


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str


@dataclass
class RowBlock:
    """The rows of one block of lines, and what was wrong with the others."""

    rows: list[Row] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    blank_lines: list[int] = field(default_factory=list)
    lines: int = 0
    bytes_read: int = 0


def read_blocks(
    path: Path, start: int = 0, end: int | None = None, block_bytes: int = BLOCK_BYTES
) -> Iterator[RowBlock]:
    """Yield the rows of bytes [start, end) block by block; memory is bounded by the block size.

    start and end must be line starts (see line_aligned_ranges); line numbers count from 1 at
    start. `bytes_read` of each block is the offset reached in the file.
    """
    with path.open("rb") as file:
        file.seek(start)
        stop = path.stat().st_size if end is None else end
        remaining = stop - start
        next_line = 1
        while remaining > 0 and (lines := file.readlines(min(block_bytes, remaining))):
            position = file.tell()
            while position > stop:  # readlines may read one line past the hint
                position -= len(lines.pop())
            file.seek(position)
            if not lines:
                break
            if start == 0 and next_line == 1 and lines[0].startswith(UTF8_BOM):
                lines[0] = lines[0][len(UTF8_BOM) :]
            block = parse_lines(lines, next_line)
            block.bytes_read = position
            remaining = stop - position
            next_line += len(lines)
            yield block


def line_aligned_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """Split the file into about `parts` byte ranges that each start at a line start."""
    size = path.stat().st_size
    starts = [0]
    with path.open("rb") as file:
        for part in range(1, parts):
            file.seek(max(part * size // parts, starts[-1]))
            if file.readline() and file.tell() < size and file.tell() > starts[-1]:
                starts.append(file.tell())
    return list(zip(starts, [*starts[1:], size], strict=True))


def parse_lines(lines: list[bytes], first_line: int) -> RowBlock:
    block = RowBlock(lines=len(lines))
    rows_append = block.rows.append
    loads = orjson.loads
    for line_number, raw in enumerate(lines, first_line):
        try:
            record = loads(raw)
        except orjson.JSONDecodeError as error:
            if raw.isspace() or not raw:
                block.blank_lines.append(line_number)
            else:
                block.problems.append(LineProblem(line_number, _unparsable_reason(raw, error)))
            continue
        # The common case is checked inline; explain_schema_error says why when it fails.
        if type(record) is dict:
            query = record.get("query")
            positives = record.get("pos")
            negatives = record.get("neg")
            if (
                type(query) is str
                and query
                and not query.isspace()
                and type(positives) is list
                and _all_non_blank_strings(positives)
                and (negatives is None or (type(negatives) is list and _all_strings(negatives)))
            ):
                rows_append((line_number, query, positives, negatives or _NO_NEGATIVES))
                continue
        block.problems.append(LineProblem(line_number, explain_schema_error(record)))
    return block


def _all_non_blank_strings(texts: list[Any]) -> bool:
    for text in texts:
        if type(text) is not str or not text or text.isspace():
            return False
    return bool(texts)


def _all_strings(texts: list[Any]) -> bool:
    return all(type(text) is str for text in texts)


def _unparsable_reason(raw: bytes, error: orjson.JSONDecodeError) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as decode_error:
        return (
            f"not valid UTF-8: byte 0x{raw[decode_error.start]:02x} "
            f"at column {decode_error.start + 1}"
        )
    return f"invalid JSON: {error}"


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def explain_schema_error(record: Any) -> str:
    """Why a parsed line does not fit the schema (only called for lines that do not)."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {_type_name(record)}"
    if "query" not in record:
        return "missing key 'query'"
    query = record["query"]
    if not isinstance(query, str):
        return f"'query' must be a string, got {_type_name(query)}"
    if not query.strip():
        return "'query' is empty"
    if "pos" not in record:
        return "missing key 'pos'"
    positives = record["pos"]
    if not isinstance(positives, list):
        return f"'pos' must be an array of strings, got {_type_name(positives)}"
    if not positives:
        return "'pos' is an empty array"
    for index, text in enumerate(positives):
        if not isinstance(text, str):
            return f"'pos'[{index}] must be a string, got {_type_name(text)}"
        if not text.strip():
            return f"'pos'[{index}] is empty"
    negatives = record.get("neg")
    if negatives is not None:
        if not isinstance(negatives, list):
            return f"'neg' must be an array of strings, got {_type_name(negatives)}"
        for index, text in enumerate(negatives):
            if not isinstance(text, str):
                return f"'neg'[{index}] must be a string, got {_type_name(text)}"
    return "does not fit the schema"


def read_lines(path: Path, wanted: set[int]) -> dict[int, bytes]:
    """The raw bytes of the wanted line numbers (1-based), reading no further than needed."""
    found: dict[int, bytes] = {}
    if not wanted:
        return found
    last = max(wanted)
    with path.open("rb") as file:
        for line_number, raw in enumerate(file, 1):
            if line_number in wanted:
                found[line_number] = raw[len(UTF8_BOM) :] if raw.startswith(UTF8_BOM) else raw
            if line_number >= last:
                break
    return found
