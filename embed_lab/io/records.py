"""What every importer produces: examples in the lab's split format, and reading helpers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from embed_lab.template import load_contract

UTF8_BOM = b"\xef\xbb\xbf"
_CONTRACT = load_contract()


class ImportFailure(Exception):
    """Input that cannot be imported; the message names the file (and line) and the reason."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


def corpus_text(title: str, text: str) -> str:
    """The text of a BEIR corpus document exactly as the lab builds it (the data contract's rule).

    Positives are written with this text so that a positive and its corpus copy are one document.
    """
    return _CONTRACT.document_text(title, text)


@dataclass
class Example:
    """One line of a split: a query, its positives and negatives, and what else travels along.

    `pos_grades` holds graded relevance (BEIR qrels scores), one per positive, when any differs
    from 1; `pos_scores` FlagEmbedding's teacher scores; `extra` other keys of the source line
    (FlagEmbedding's prompt, neg_scores, ...). The lab reads query, pos and neg only.
    """

    query: str
    pos: list[str]
    neg: list[str] = field(default_factory=list)
    id: str | None = None
    pos_grades: list[int] | None = None
    pos_scores: list[float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    pos_doc_ids: dict[str, list[str]] | None = None  # positive text -> corpus ids (BEIR)
    more_pos_ids: list[str] = field(default_factory=list)  # ids of positives the cap dropped

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {"id": self.id} if self.id is not None else {}
        line |= {"query": self.query, "pos": self.pos}
        if self.neg:
            line["neg"] = self.neg
        if self.pos_grades is not None:
            line["pos_grades"] = self.pos_grades
        if self.pos_scores is not None:
            line["pos_scores"] = self.pos_scores
        if self.more_pos_ids:
            line["more_pos_ids"] = self.more_pos_ids
        return line | self.extra

    def cap_positives(self, limit: int | None) -> int:
        """Keep the `limit` best positives (highest grade, else score, first; ties in source
        order) in their source order; return how many were dropped. The corpus ids of dropped
        positives, when known, go to `more_pos_ids`, so that mining never picks them."""
        if limit is None or len(self.pos) <= limit:
            return 0
        ranking = self.pos_grades if self.pos_grades is not None else self.pos_scores
        order = list(range(len(self.pos)))
        if ranking is not None:
            order.sort(key=lambda index: -ranking[index])  # stable: ties keep source order
        kept = sorted(order[:limit])
        dropped = len(self.pos) - limit
        if self.pos_doc_ids is not None:
            for index in sorted(order[limit:]):
                self.more_pos_ids += self.pos_doc_ids.get(self.pos[index], [])
        self.pos = [self.pos[index] for index in kept]
        if self.pos_grades is not None:
            self.pos_grades = [self.pos_grades[index] for index in kept]
        if self.pos_scores is not None:
            self.pos_scores = [self.pos_scores[index] for index in kept]
        return dropped


def text_id(value: Any, path: Path | str, line: int, key: str) -> str:
    """An id as a string: JSON ids may be numbers; anything else is an error."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ImportFailure(path, f'"{key}" must be a non-empty string or an integer', line)


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; BOM and CRLF accepted; streams."""
    if not path.is_file():
        raise ImportFailure(path, "file not found")
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            if number == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                raise ImportFailure(path, f"invalid JSON ({error})", number) from None
            if not isinstance(obj, dict):
                raise ImportFailure(path, "expected a JSON object", number)
            yield number, obj


def tsv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            for number, line in enumerate(file, start=1):
                line = line.rstrip("\r\n")
                if line.strip():
                    yield number, line.split("\t")
    except UnicodeDecodeError as error:
        raise ImportFailure(path, f"not valid UTF-8 ({error.reason})") from None


def string(
    obj: dict[str, Any], key: str, path: Path | str, line: int, default: str | None = None
) -> str:
    """obj[key] as a string (null or missing gives `default` when there is one)."""
    value = obj.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        got = "missing" if key not in obj else f"a {type(value).__name__}"
        raise ImportFailure(path, f'"{key}" must be a string, got {got}', line)
    return value


def strings(value: Any, key: str, path: Path | str, line: int) -> list[str]:
    """A list of strings; a single string is a list of one; null or missing is empty."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ImportFailure(path, f'"{key}" must be a string or a list of strings', line)


class Grouper:
    """Rows (query, positives, negatives) grouped into one example per query, in first-seen
    order; repeated passages are kept once."""

    def __init__(self) -> None:
        self.examples: dict[str, Example] = {}

    def add(self, query: str, pos: list[str], neg: list[str], id: str | None = None) -> None:
        example = self.examples.setdefault(query, Example(query=query, pos=[], id=id))
        example.pos += [text for text in pos if text not in example.pos]
        example.neg += [text for text in neg if text not in example.neg]


def name_queries(groups: Iterable[list[Example]]) -> None:
    """Give examples without an id one ("q1", "q2", ... in order), so exports can name them."""
    groups = list(groups)
    used = {example.id for examples in groups for example in examples}
    number = 0
    for examples in groups:
        for example in examples:
            while example.id is None:
                number += 1
                if f"q{number}" not in used:
                    example.id = f"q{number}"
