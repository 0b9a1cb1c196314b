"""Turn imported examples into train/dev/gold and write them into a data directory atomically."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from embed_lab.io.records import Example, ImportFailure, name_queries

SPLITS = ("train", "dev", "gold")
CORPUS = "corpus.jsonl"
LAB_FILES = (*(f"{split}.jsonl" for split in SPLITS), CORPUS)


@dataclass
class Imported:
    """What an importer found: examples per split (or under "all" for one unsplit source)."""

    splits: dict[str, list[Example]]
    notes: list[str] = field(default_factory=list)
    corpus_documents: int | None = None  # set when the importer wrote corpus.jsonl


@dataclass(frozen=True)
class SplitOptions:
    dev_fraction: float = 0.1
    gold_fraction: float = 0.1
    seed: int = 42
    max_positives: int | None = None


def assemble(imported: Imported, options: SplitOptions) -> dict[str, list[Example]]:
    """train/dev/gold from what was found: an unsplit source is split by query into all three;
    a missing dev is carved from train by query (never from gold). Train positives are capped."""
    found = imported.splits
    name_queries(found.values())
    if "all" in found:
        fractions = {"gold": options.gold_fraction, "dev": options.dev_fraction}
        splits = split_by_query(found["all"], fractions, options.seed, "the source")
        imported.notes.append(
            f"split by query with seed {options.seed}: dev {options.dev_fraction:g}, "
            f"gold {options.gold_fraction:g} of the queries"
        )
    else:
        splits = dict(found)
        if "dev" not in splits:
            carved = split_by_query(
                splits["train"], {"dev": options.dev_fraction}, options.seed, "train"
            )
            splits["train"], splits["dev"] = carved["train"], carved["dev"]
            imported.notes.append(
                f"no dev split: carved {len(carved['dev']):,} queries "
                f"({options.dev_fraction:g}) from train with seed {options.seed}"
            )
    dropped = sum(example.cap_positives(options.max_positives) for example in splits["train"])
    if dropped:
        imported.notes.append(
            f"--max-positives {options.max_positives}: dropped {dropped:,} train positives"
        )
    return {split: splits[split] for split in SPLITS}


def split_by_query(
    examples: list[Example], fractions: dict[str, float], seed: int, source: str
) -> dict[str, list[Example]]:
    """Seeded assignment of distinct queries to the named splits, the rest to train; every
    split gets at least one query, and examples keep their source order."""
    queries = list(dict.fromkeys(example.query for example in examples))
    if len(queries) < len(fractions) + 1:
        raise ImportFailure(
            source,
            f"{len(queries)} distinct queries: too few to split by query",
        )
    random.Random(seed).shuffle(queries)
    assigned: dict[str, str] = {}
    start = 0
    for split, fraction in fractions.items():
        count = min(max(1, round(fraction * len(queries))), len(queries) - start - 1)
        assigned |= dict.fromkeys(queries[start : start + count], split)
        start += count
    result: dict[str, list[Example]] = {"train": [], **{split: [] for split in fractions}}
    for example in examples:
        result[assigned.get(example.query, "train")].append(example)
    return result


@contextmanager
def staging(data_dir: Path, force: bool) -> Iterator[Path]:
    """A temporary folder inside data_dir to write into; refuses existing splits without force.
    Nothing in data_dir changes until `publish`; the folder is removed whatever happens."""
    existing = [name for name in LAB_FILES if (data_dir / name).exists()]
    if existing and not force:
        raise ImportFailure(
            data_dir, f"already holds {', '.join(existing)}; pass --force to replace them"
        )
    if data_dir.exists() and not data_dir.is_dir():
        raise ImportFailure(data_dir, "not a directory")
    data_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".emb-import-", dir=data_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_split(path: Path, examples: list[Example]) -> None:
    with path.open("wb") as file:
        for example in examples:
            file.write(orjson.dumps(example.to_json()) + b"\n")


def publish(folder: Path, data_dir: Path) -> None:
    """Move the staged files into data_dir (each replace is atomic); a corpus.jsonl left from
    an earlier import is removed when this import brings none, so it cannot mix with new splits."""
    for name in LAB_FILES:
        if (folder / name).exists():
            os.replace(folder / name, data_dir / name)
        else:
            (data_dir / name).unlink(missing_ok=True)


def summary(splits: dict[str, list[Example]]) -> list[str]:
    lines = []
    for split, examples in splits.items():
        positives = sum(len(example.pos) for example in examples)
        negatives = sum(len(example.neg) for example in examples)
        lines.append(
            f"{split}: {len(examples):,} queries, {positives:,} positives, {negatives:,} negatives"
        )
    return lines


MANY_POSITIVES = 5
"""Positives per train query from which an import suggests --max-positives."""


def many_positives_note(train: list[Example], size_bytes: int) -> str | None:
    """A note naming --max-positives when train holds many more positives than queries
    (training makes one pair per positive), with what a cap would leave."""
    positives = sum(len(example.pos) for example in train)
    if positives < MANY_POSITIVES * max(len(train), 1):
        return None
    left = {cap: sum(min(len(example.pos), cap) for example in train) for cap in (1, 5)}
    return (
        f"train holds {positives:,} positives for {len(train):,} queries "
        f"({positives / len(train):.0f} per query, {size_bytes / 1e6:,.0f} MB), and training "
        f"makes one pair per positive; --max-positives 1 would leave {left[1]:,} "
        f"(--max-positives 5: {left[5]:,}), dev and gold keeping every positive"
    )
