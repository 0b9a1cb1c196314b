"""Import FlagEmbedding JSONL: {"query", "pos", "neg", "pos_scores", "neg_scores", "prompt"}."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embed_lab.io.records import Example, ImportFailure, read_jsonl, string, strings, text_id
from embed_lab.io.sources import split_files
from embed_lab.io.splits import Imported

EXTENSIONS = (".jsonl", ".json")


def import_flag(source: Path, names: dict[str, str | None]) -> Imported:
    imported = Imported(splits={})
    for split, path in split_files(source, names, EXTENSIONS).items():
        examples = []
        skipped: list[int] = []
        for number, obj in read_jsonl(path):
            example = _example(obj, path, number)
            if example.pos:
                examples.append(example)
            else:
                skipped.append(number)
        if skipped:
            imported.notes.append(
                f"{path.name}: skipped {len(skipped):,} queries without a positive "
                f"(line {', '.join(map(str, skipped[:3]))}{', ...' if len(skipped) > 3 else ''})"
            )
        imported.splits[split] = examples
    return imported


def _example(obj: dict[str, Any], path: Path, line: int) -> Example:
    pos = strings(obj.get("pos"), "pos", path, line)
    extra = {key: value for key, value in obj.items() if key not in KNOWN}
    return Example(
        id=text_id(obj["id"], path, line, "id") if obj.get("id") is not None else None,
        query=string(obj, "query", path, line),
        pos=pos,
        neg=strings(obj.get("neg"), "neg", path, line),
        pos_scores=_scores(obj.get("pos_scores"), len(pos), path, line),
        extra=extra,
    )


KNOWN = {"id", "query", "pos", "neg", "pos_scores"}


def _scores(value: Any, count: int, path: Path, line: int) -> list[float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != count
        or not all(
            isinstance(score, int | float) and not isinstance(score, bool) for score in value
        )
    ):
        raise ImportFailure(
            path, f'"pos_scores" must be a list of {count} numbers, one per positive', line
        )
    return value
