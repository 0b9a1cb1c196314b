"""The kinds of finding `emb check` reports and whether each fails the check by default.

Kept free of heavy imports: the CLI reads it to validate `--allow`.
"""

from __future__ import annotations

ERROR = "error"
"""Fails the check (exit 1) unless allowed with --allow KIND."""
WARNING = "warning"
"""Reported; fails only with --strict (and not when allowed)."""

FINDING_KINDS: dict[str, tuple[str, str]] = {
    "missing-split": (ERROR, "split file is missing"),
    "empty-split": (ERROR, "split file has no rows"),
    "schema": (ERROR, "lines that are not valid JSON or do not fit the schema"),
    "duplicate-query": (ERROR, "the same query on several rows of a split"),
    "duplicate-pair": (ERROR, "the same (query, positive) pair more than once in a split"),
    "query-leak": (ERROR, "queries found in two splits"),
    "pair-leak": (ERROR, "(query, positive) pairs found in two splits"),
    "false-negative": (ERROR, "a positive that is also a negative for the same query"),
    "duplicate-id": (ERROR, "the same _id on several lines of corpus.jsonl"),
    "blank-line": (WARNING, "blank lines (skipped)"),
    "short-text": (WARNING, "empty or very short texts"),
    "shared-document": (WARNING, "documents present in two splits (normal for a shared corpus)"),
    "near-duplicate": (WARNING, "queries that are near-duplicates (--near-dup)"),
    "duplicate-document": (WARNING, "the same text under several ids in corpus.jsonl"),
    "empty-document": (WARNING, "corpus documents without text (the lab drops them)"),
}


def severity(kind: str) -> str:
    return FINDING_KINDS[kind][0]


def fails(kind: str, *, strict: bool, allowed: frozenset[str]) -> bool:
    if kind in allowed:
        return False
    return severity(kind) == ERROR or strict
