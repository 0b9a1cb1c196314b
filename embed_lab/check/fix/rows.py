"""Repairs of split rows (a line's JSON object): merge the rows of one query, drop positives
that repeat or leak and negatives that are positives. Texts compare as the check compares them:
by the digest of their normalised text, and pairs by the check's pair digest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embed_lab.check.normalize import normalize_text, pair_digests, text_digest

Cause = tuple[str, tuple[str, ...]]
"""The finding that removes something: its kind and splits, as the check reports them."""

ALIGNED = {"pos_grades": "pos", "pos_scores": "pos", "neg_scores": "neg"}
"""Keys holding one value per positive or negative; they follow their texts."""
FILL = {"pos_grades": 1}
"""The value an aligned key takes for texts of a row that lacked the key (else null)."""


@dataclass(frozen=True)
class RowRules:
    """What to drop from the rows of one split (empty: nothing of that kind)."""

    split: str
    dedupe_pairs: bool = False  # duplicate-pair: a positive already listed for the query
    false_negatives: frozenset[int] = frozenset()  # pair digests both positive and negative
    leaked_pairs: Mapping[int, str] = field(default_factory=dict)  # pair digest -> later split


@dataclass(frozen=True)
class Removed:
    """One text taken out of a row, and the finding that took it."""

    cause: Cause
    role: str  # "pos" or "neg"
    text: str


@dataclass
class Texts:
    """A row's positives or negatives with the aligned values that follow them."""

    texts: list[str]
    aligned: dict[str, list[Any]]

    @classmethod
    def of(cls, row: dict[str, Any], role: str) -> Texts:
        texts = list(row.get(role) or [])
        aligned = {
            key: list(row[key])
            for key, of in ALIGNED.items()
            if of == role and isinstance(row.get(key), list) and len(row[key]) == len(texts)
        }
        return cls(texts, aligned)

    def extend(self, other: Texts, keep: list[bool]) -> None:
        """Append other's texts where `keep` says so, filling aligned keys one side lacks."""
        for key in self.aligned.keys() | other.aligned.keys():
            mine = self.aligned.setdefault(key, [FILL.get(key)] * len(self.texts))
            theirs = other.aligned.get(key, [FILL.get(key)] * len(other.texts))
            mine += [value for value, kept in zip(theirs, keep, strict=True) if kept]
        self.texts += [text for text, kept in zip(other.texts, keep, strict=True) if kept]

    def keep(self, keep: list[bool]) -> None:
        self.texts = [text for text, kept in zip(self.texts, keep, strict=True) if kept]
        for key, values in self.aligned.items():
            self.aligned[key] = [value for value, kept in zip(values, keep, strict=True) if kept]

    def write(self, row: dict[str, Any], role: str) -> None:
        if self.texts or row.get(role) is not None:
            row[role] = self.texts
        for key, values in self.aligned.items():
            row[key] = values


def digest(text: str) -> int:
    return text_digest(normalize_text(text))


def merge_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows of one query as one row: the first row's keys and values, then every later
    row's positives (all of them), negatives and more_pos_ids not already there, in order.
    Other keys: a list is united, a key the first row lacks is added; a differing value keeps
    the first row's (the later line is kept verbatim in the fix report)."""
    merged = dict(rows[0])
    positives, negatives = Texts.of(merged, "pos"), Texts.of(merged, "neg")
    seen_negatives = {digest(text) for text in negatives.texts}
    for row in rows[1:]:
        later_pos, later_neg = Texts.of(row, "pos"), Texts.of(row, "neg")
        positives.extend(later_pos, [True] * len(later_pos.texts))
        new = [digest(text) not in seen_negatives for text in later_neg.texts]
        negatives.extend(later_neg, new)
        seen_negatives.update(digest(text) for text in later_neg.texts)
        aligned = {key for key in ALIGNED if key in positives.aligned or key in negatives.aligned}
        for key, value in row.items():
            if key in ("query", "pos", "neg") or key in aligned:
                continue
            if key not in merged or merged[key] is None:
                merged[key] = value
            elif isinstance(merged[key], list) and isinstance(value, list):
                merged[key] = merged[key] + [item for item in value if item not in merged[key]]
    positives.write(merged, "pos")
    negatives.write(merged, "neg")
    return merged


def drop_texts(
    row: dict[str, Any], query_digest: int, rules: RowRules, seen: set[int]
) -> tuple[dict[str, Any], list[Removed]]:
    """The row without the positives the rules drop (a repeat of one in `seen` or earlier in
    the row, a leaked pair) and the negatives that are positives of the query; `seen` gets the
    row's remaining positives. Returns the row itself when nothing is dropped."""
    positives, negatives = Texts.of(row, "pos"), Texts.of(row, "neg")
    removed: list[Removed] = []
    keep_pos = []
    text_keys = [digest(text) for text in positives.texts]
    pos_pairs: list[int | None] = [None] * len(text_keys)
    if rules.leaked_pairs:
        pos_pairs = list(_pair_digests(query_digest, text_keys))
    for text, text_key, pair in zip(positives.texts, text_keys, pos_pairs, strict=True):
        cause: Cause | None = None
        if rules.dedupe_pairs and text_key in seen:
            cause = ("duplicate-pair", (rules.split,))
        elif pair is not None and pair in rules.leaked_pairs:
            cause = ("pair-leak", (rules.split, rules.leaked_pairs[pair]))
        if cause is not None:
            removed.append(Removed(cause, "pos", text))
        else:
            seen.add(text_key)
        keep_pos.append(cause is None)
    keep_neg = [True] * len(negatives.texts)
    if rules.false_negatives and negatives.texts:
        neg_pairs = _pair_digests(query_digest, [digest(text) for text in negatives.texts])
        keep_neg = [pair not in rules.false_negatives for pair in neg_pairs]
    cause = ("false-negative", (rules.split,))
    removed += [
        Removed(cause, "neg", text)
        for text, kept in zip(negatives.texts, keep_neg, strict=True)
        if not kept
    ]
    if not removed:
        return row, removed
    positives.keep(keep_pos)
    negatives.keep(keep_neg)
    edited = dict(row)
    positives.write(edited, "pos")
    negatives.write(edited, "neg")
    return edited, removed


def _pair_digests(query_digest: int, text_digests: list[int]) -> list[int]:
    """The check's (query, text) pair digests."""
    if not text_digests:
        return []
    queries = np.full(len(text_digests), query_digest, dtype=np.uint64)
    texts = np.array(text_digests, dtype=np.uint64)
    return [int(value) for value in pair_digests(queries, texts)]
