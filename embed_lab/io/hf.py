"""Import a Hugging Face dataset: a `save_to_disk` folder, or parquet / jsonl / csv files.

Rows are grouped by query; the positive and negative columns may hold a text or a list of texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embed_lab.io.records import Example, Grouper, ImportFailure, strings, text_id
from embed_lab.io.sources import split_files
from embed_lab.io.splits import Imported

if TYPE_CHECKING:
    from datasets import Dataset

BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}
SAVED_MARKERS = ("dataset_dict.json", "dataset_info.json", "state.json")


@dataclass(frozen=True)
class Columns:
    query: str = "query"
    pos: str = "pos"
    neg: str | None = "neg"  # optional when left at its default and absent
    id: str | None = "id"  # optional when left at its default and absent
    neg_required: bool = False
    id_required: bool = False


def import_hf(source: Path, names: dict[str, str | None], columns: Columns) -> Imported:
    try:
        import datasets
    except ImportError:
        raise ImportFailure(
            source, "needs the datasets package: pip install 'embed-lab[io]'"
        ) from None
    datasets.disable_progress_bars()
    try:
        found = _load(datasets, source, names)
    except (OSError, ValueError, datasets.exceptions.DatasetGenerationError) as error:
        raise ImportFailure(source, f"cannot load with datasets ({error})") from None
    imported = Imported(splits={})
    for split, (where, dataset) in found.items():
        imported.splits[split] = _group(dataset, where, columns, imported.notes)
    return imported


def _load(
    datasets: Any, source: Path, names: dict[str, str | None]
) -> dict[str, tuple[str, Dataset]]:
    if source.is_dir() and any((source / marker).is_file() for marker in SAVED_MARKERS):
        saved = datasets.load_from_disk(str(source))
        if isinstance(saved, datasets.Dataset):
            return {"all": (str(source), saved)}
        if len(saved) == 1:
            return {"all": (f"{source} [{next(iter(saved))}]", next(iter(saved.values())))}
        return {
            split: (f"{source} [{name}]", saved[name])
            for split, name in _saved_splits(source, set(saved), names).items()
        }
    files = split_files(source, names, tuple(BUILDERS))
    return {
        split: (
            str(path),
            datasets.load_dataset(BUILDERS[path.suffix], data_files=str(path), split="train"),
        )
        for split, path in files.items()
    }


def _saved_splits(source: Path, present: set[str], names: dict[str, str | None]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for split in ("train", "dev", "gold"):
        name = names.get(split)
        if split == "dev" and name is None:
            name = next(
                (candidate for candidate in ("dev", "validation") if candidate in present), None
            )
            if name is None:
                continue
        if name not in present:
            raise ImportFailure(
                source,
                f'no split "{name}" (splits: {", ".join(sorted(present))}); name it with --{split}',
            )
        chosen[split] = name
    return chosen


def _group(dataset: Dataset, where: str, columns: Columns, notes: list[str]) -> list[Example]:
    present = set(dataset.column_names)
    wanted = {"query": columns.query, "pos": columns.pos}
    for role, name, required in (
        ("neg", columns.neg, columns.neg_required),
        ("id", columns.id, columns.id_required),
    ):
        if name is not None and (name in present or required):
            wanted[role] = name
    missing = [name for name in wanted.values() if name not in present]
    if missing:
        raise ImportFailure(
            where, f"no column {', '.join(missing)} (columns: {', '.join(dataset.column_names)})"
        )
    grouper = Grouper()
    skipped = 0
    for row_number, row in enumerate(dataset.select_columns(list(wanted.values())), start=1):
        query = row[wanted["query"]]
        if not isinstance(query, str):
            raise ImportFailure(where, f'column "{wanted["query"]}" must hold strings', row_number)
        pos = strings(row[wanted["pos"]], wanted["pos"], where, row_number)
        if not pos:
            skipped += 1
            continue
        neg = (
            strings(row[wanted["neg"]], wanted["neg"], where, row_number) if "neg" in wanted else []
        )
        row_id = row.get(wanted["id"]) if "id" in wanted else None
        grouper.add(
            query,
            pos,
            neg,
            None if row_id is None else text_id(row_id, where, row_number, wanted["id"]),
        )
    if skipped:
        notes.append(f"{where}: skipped {skipped:,} rows without a positive")
    return list(grouper.examples.values())
