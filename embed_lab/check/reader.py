"""Stream a JSONL file in blocks of lines and judge each line by the lab's data contract.

The contract (what a split line and a corpus line are, BOM, blank lines, limits, which JSON is
valid) is the lab template's inventory/contract.py, loaded as it ships with embed-lab, so the
check passes exactly what the lab loads. orjson parses the lines the contract would accept anyway
(it is stricter than the standard library); every line it refuses goes to the contract's decoder,
which gives the verdict and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from embed_lab.template import load_contract

contract = load_contract()
BLOCK_BYTES = 4 << 20
BLANK = object()
"""What `decode` returns for a blank line."""
# The limits are the contract's; a bracket count at or under MAX_DEPTH bounds the depth.
FAST_MAX_BYTES: int = contract.MAX_LINE_BYTES
MAX_DEPTH: int = contract.MAX_DEPTH

Row = tuple[int, str, list[str], list[str]]
"""(line number, query, positives, negatives) of a split row that fits the contract."""
Document = tuple[int, str, str]
"""(line number, id, document text) of a corpus line that fits the contract."""


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str


@dataclass
class RowBlock:
    """The rows of one block of lines, and what was wrong with the others."""

    rows: list[Any] = field(default_factory=list)  # Row, or Document for a corpus
    problems: list[LineProblem] = field(default_factory=list)
    blank_lines: list[int] = field(default_factory=list)
    lines: int = 0
    bytes_read: int = 0


def read_blocks(
    path: Path,
    start: int = 0,
    end: int | None = None,
    block_bytes: int = BLOCK_BYTES,
    parse_row: Callable[[Any], tuple] = contract.split_row,
) -> Iterator[RowBlock]:
    """Yield the rows of bytes [start, end) block by block; memory is bounded by the block size.

    start and end must be line starts (see line_aligned_ranges); line numbers count from 1 at
    start. `bytes_read` of each block is the offset reached in the file. A row is the line
    number followed by what `parse_row` (contract.split_row or contract.corpus_row) returns.
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
            if start == 0 and next_line == 1:
                lines[0] = contract.strip_bom(lines[0])
            block = parse_lines(lines, next_line, parse_row)
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


def parse_lines(
    lines: list[bytes], first_line: int, parse_row: Callable[[Any], tuple] = contract.split_row
) -> RowBlock:
    block = RowBlock(lines=len(lines))
    rows_append = block.rows.append
    contract_error = contract.ContractError
    for line_number, raw in enumerate(lines, first_line):
        try:
            value = decode(raw)
            if value is BLANK:
                block.blank_lines.append(line_number)
            else:
                rows_append((line_number, *parse_row(value)))
        except contract_error as error:
            block.problems.append(LineProblem(line_number, str(error)))
    return block


def decode(raw: bytes) -> Any:
    """The contract's verdict on one line: its JSON value, BLANK, or contract.ContractError.

    orjson accepts a subset of what contract.decode_line accepts (it refuses NaN, lone
    surrogates, invalid UTF-8, ...) and gives the same values (numbers aside: it reads an
    integer beyond 64 bits as a float, which the schema refuses or ignores alike), so it may
    parse a line within the limits; whatever it refuses goes to the contract, which decides
    and says why. tests/test_contract.py checks this on random edits of valid lines.
    """
    if len(raw) <= FAST_MAX_BYTES and raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    if contract.is_blank_line(raw):
        return BLANK
    return contract.decode_line(raw)


def read_lines(path: Path, wanted: set[int]) -> dict[int, bytes]:
    """The raw bytes of the wanted line numbers (1-based), reading no further than needed."""
    found: dict[int, bytes] = {}
    if not wanted:
        return found
    last = max(wanted)
    with path.open("rb") as file:
        for line_number, raw in enumerate(file, 1):
            if line_number in wanted:
                found[line_number] = contract.strip_bom(raw) if line_number == 1 else raw
            if line_number >= last:
                break
    return found
