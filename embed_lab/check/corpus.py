"""data/corpus.jsonl: the contract per line, repeated ids, repeated and empty document texts.

One streaming pass, like a split's: only 8-byte digests of ids and texts are kept.
"""

from __future__ import annotations

import functools
import hashlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embed_lab.check.digests import DigestIndex
from embed_lab.check.findings import Example, Finding, Location
from embed_lab.check.normalize import DIGEST_BYTES, digest_array, normalize_text
from embed_lab.check.reader import Document, LineProblem, contract, read_blocks
from embed_lab.check.scan import FLUSH_ROWS, keep_first, scan_in_parts
from embed_lab.check.stats import Histogram

NAME = "corpus"


@dataclass
class CorpusScan:
    """What the findings and the report need from corpus.jsonl, without its texts."""

    path: Path
    present: bool = True
    lines: int = 0
    documents: int = 0
    invalid_rows: int = 0
    blank_lines: int = 0
    empty_documents: int = 0
    max_examples: int = 3
    problems: list[LineProblem] = field(default_factory=list)
    blank_examples: list[int] = field(default_factory=list)
    empty_examples: list[int] = field(default_factory=list)
    ids: DigestIndex = field(default_factory=DigestIndex)
    texts: DigestIndex = field(default_factory=DigestIndex)
    chars: Histogram = field(default_factory=Histogram)

    @property
    def file_name(self) -> str:
        return self.path.name

    def shift_lines(self, offset: int) -> None:
        """Renumber lines, for a scan of a later part of the file."""
        self.ids.shift_lines(offset)
        self.texts.shift_lines(offset)
        self.problems = [LineProblem(p.line + offset, p.reason) for p in self.problems]
        self.blank_examples = [line + offset for line in self.blank_examples]
        self.empty_examples = [line + offset for line in self.empty_examples]

    def merge(self, later: CorpusScan) -> None:
        """Fold in the scan of the part of the file right after this one (lines shifted)."""
        for name in ("lines", "documents", "invalid_rows", "blank_lines", "empty_documents"):
            setattr(self, name, getattr(self, name) + getattr(later, name))
        self.ids.merge(later.ids)
        self.texts.merge(later.texts)
        self.chars.merge(later.chars)
        keep_first(self.problems, later.problems, self.max_examples)
        keep_first(self.blank_examples, later.blank_examples, self.max_examples)
        keep_first(self.empty_examples, later.empty_examples, self.max_examples)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file_name,
            "lines": self.lines,
            "documents": self.documents,
            "invalid_rows": self.invalid_rows,
            "blank_lines": self.blank_lines,
            "distinct_ids": len(self.ids),
            "distinct_texts": len(self.texts),
            "empty_documents": self.empty_documents,
            "chars": self.chars.summary(),
        }


def scan_corpus(
    path: Path,
    max_examples: int = 3,
    on_bytes: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> CorpusScan:
    """Read corpus.jsonl once (in parallel parts when it is large)."""
    if not path.is_file():
        return CorpusScan(path, present=False, max_examples=max_examples)
    return scan_in_parts(
        path,
        functools.partial(_scan_range, path, max_examples),
        functools.partial(_empty_scan, path, max_examples),
        on_bytes,
        workers,
    )


def _empty_scan(path: Path, max_examples: int) -> CorpusScan:
    scan = CorpusScan(path, max_examples=max_examples)
    scan.ids.max_examples = scan.texts.max_examples = max_examples
    return scan


def _scan_range(
    path: Path,
    max_examples: int,
    start: int,
    end: int | None,
    on_bytes: Callable[[int], None] | None = None,
) -> CorpusScan:
    scan = _empty_scan(path, max_examples)
    pending: list[Document] = []
    for block in read_blocks(path, start, end, parse_row=contract.corpus_row):
        scan.lines += block.lines
        scan.invalid_rows += len(block.problems)
        scan.blank_lines += len(block.blank_lines)
        keep_first(scan.problems, block.problems, max_examples)
        keep_first(scan.blank_examples, block.blank_lines, max_examples)
        pending += block.rows
        if len(pending) >= FLUSH_ROWS:
            _add_documents(pending, scan)
            pending = []
        if on_bytes is not None:
            on_bytes(block.bytes_read)
    _add_documents(pending, scan)
    return scan


def _add_documents(documents: list[Document], scan: CorpusScan) -> None:
    blake2b = hashlib.blake2b
    id_digests: list[bytes] = []
    text_digests: list[bytes] = []
    id_lines, text_lines, lengths = array("I"), array("I"), array("I")
    for line, doc_id, text in documents:
        id_digests.append(blake2b(doc_id.encode(), digest_size=DIGEST_BYTES).digest())
        id_lines.append(line)
        lengths.append(len(text))
        normalized = " ".join(text.lower().split()) if text.isascii() else normalize_text(text)
        if not normalized:  # contract.is_blank(text): the lab drops the document
            scan.empty_documents += 1
            if len(scan.empty_examples) < scan.max_examples:
                scan.empty_examples.append(line)
            continue
        text_digests.append(blake2b(normalized.encode(), digest_size=DIGEST_BYTES).digest())
        text_lines.append(line)
    scan.documents += len(documents)
    scan.ids.add(digest_array(id_digests), np.frombuffer(id_lines, dtype=np.uint32))
    scan.texts.add(digest_array(text_digests), np.frombuffer(text_lines, dtype=np.uint32))
    scan.chars.add(np.frombuffer(lengths, dtype=np.uint32))


def corpus_findings(scan: CorpusScan) -> list[Finding]:
    """Schema problems, blank lines, repeated ids (errors), repeated and empty texts."""
    if not scan.present:
        return []
    file = scan.file_name
    found: list[Finding] = []
    if scan.invalid_rows:
        examples = [Example([Location(file, p.line)], p.reason) for p in scan.problems]
        message = f"{scan.invalid_rows} line(s) of {file} are invalid"
        found.append(Finding("schema", (NAME,), scan.invalid_rows, message, examples))
    if scan.blank_lines:
        examples = [Example([Location(file, line)]) for line in scan.blank_examples]
        message = f"{scan.blank_lines} blank line(s) in {file} (skipped)"
        found.append(Finding("blank-line", (NAME,), scan.blank_lines, message, examples))
    for kind, index, what in (
        ("duplicate-id", scan.ids, "line(s) repeat the _id of an earlier line"),
        ("duplicate-document", scan.texts, "document(s) repeat the text of an earlier one"),
    ):
        if index.repeats:
            examples = [
                Example([Location(file, r.line), Location(file, r.first_line)], show="corpus")
                for r in index.examples
            ]
            message = f"{index.repeats} {what} in {file}"
            found.append(Finding(kind, (NAME,), index.repeats, message, examples))
    if scan.empty_documents:
        examples = [Example([Location(file, line)], show="corpus") for line in scan.empty_examples]
        message = f"{scan.empty_documents} document(s) of {file} have no text (the lab drops them)"
        found.append(Finding("empty-document", (NAME,), scan.empty_documents, message, examples))
    return found
