"""Quote the texts behind a few examples, re-reading only the lines they point to."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from embed_lab.check.findings import Example, Finding
from embed_lab.check.normalize import normalize_text, pair_digest, text_digest
from embed_lab.check.reader import contract, decode, read_lines

EXCERPT_CHARS = 60


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def describe_examples(findings: list[Finding], directory: Path) -> None:
    """Fill in `detail` of examples that ask for a text (their first location's line).

    Those lines fitted the contract when they were scanned.
    """
    pending = [e for f in findings for e in f.examples if e.show != "none" and not e.detail]
    wanted: dict[str, set[int]] = defaultdict(set)
    for example in pending:
        wanted[example.locations[0].file].add(example.locations[0].line)
    lines = {file: read_lines(directory / file, numbers) for file, numbers in wanted.items()}
    for example in pending:
        location = example.locations[0]
        raw = lines[location.file].get(location.line)
        if raw is None:
            continue
        if example.show == "corpus":
            doc_id, text = contract.corpus_row(decode(raw))
            example.detail = f"_id {doc_id!r}: {excerpt(text)}"
        else:
            example.detail = _detail(example, decode(raw))


def _detail(example: Example, row: dict) -> str:
    query: str = row["query"]
    documents: list[str] = list(row["pos"]) + list(row.get("neg") or [])
    if example.show == "query":
        return f"query {excerpt(query)}"
    if example.show == "document":
        for text in documents:
            if text_digest(normalize_text(text)) == example.digest:
                return f"document {excerpt(text)}"
        return ""
    query_digest = text_digest(normalize_text(query))
    for text in documents:
        if pair_digest(query_digest, text_digest(normalize_text(text))) == example.digest:
            return f"query {excerpt(query, 40)} / document {excerpt(text, 40)}"
    return f"query {excerpt(query)}"
