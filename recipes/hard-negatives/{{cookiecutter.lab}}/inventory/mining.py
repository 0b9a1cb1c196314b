"""Hard negatives mined with the base model, guarded against false negatives, kept in a file.

For every train query the base model ranks the lab's passages: every train and dev pos/neg and
data/corpus.jsonl. Gold is never read: neither its queries nor the passages only gold holds (a
corpus document that gold also uses is part of the corpus, and may be mined). Candidates come
from sentence-transformers' `mine_hard_negatives`, asked for the top `range_max` documents of
each query with their scores and no filters of its own (`include_positives=True`): the library
does not report how many candidates each of its filters removed, and its random sampling uses
Python's global `random` without a seed. It is handed the base model's vectors from the lab's
embedding cache (.cache/embeddings/, where scoring the base model on gold left the corpus), so
it encodes nothing twice. The guards below are applied here instead, in this order, and each
removed candidate is counted once, under the first guard that removes it:

1. positive: one of the query's own positives: its pos, or a corpus document its line names in
   more_pos_ids (the positives an import's --max-positives left out of pos).
2. same_text_positive: a positive (pos or more_pos_ids) of another train or dev record whose
   query has the same normalised text (case, accents, punctuation and spacing aside).
3. range_min (default 2): the `range_min` most similar remaining candidates, which are the
   likeliest to be relevant documents nobody labelled.
4. max_score (default 0.9): a candidate the base model scores above this similarity to the query.
5. margin (default 0.05, relative): a candidate scoring above `p - |p| * margin`, where p is the
   query's lowest positive score (NV-Retriever's TopK-PercPos); a negative value turns it off.

Then `num_negatives` (default 1) are kept per query: the most similar ones ("top") or a sample
("random") drawn with a generator seeded by the run's seed and the query's text, so a rerun
mines the same file. The audit says what each guard removed and how many kept negatives still
score within the margin of their positive (0 while the margin guard is on: the check that it
held); `--margin -1` shows how many the default margin would have removed among those kept.

The mined set is written to <data dir>/mined/<experiment>.jsonl in the lab's split format (query,
pos, neg, plus the scores), with <experiment>.meta.json beside it (base model, settings, seed,
counts, audit). Under torchrun or accelerate launch every process encodes a share of the texts,
rank 0 alone mines and writes; the others receive what it read back from the file, so the data
folder need not be shared between machines.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inventory import distributed
from inventory.config import option
from inventory.datasets import Record, Splits, read_records
from inventory.embeddings import CACHE_DIR, EmbeddingCache
from inventory.errors import LabError
from inventory.files import write_json, write_text
from inventory.pipeline import Experiment
from inventory.progress import interactive
from inventory.rows import triplet_columns

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from sentence_transformers import SentenceTransformer

GUARDS = ("positive", "same_text_positive", "range_min", "max_score", "margin")
SAMPLING = ("top", "random")
AUDIT_MARGIN = 0.05  # the band the audit checks when the margin guard is off


@dataclass(frozen=True)
class MiningOptions:
    """How negatives are mined (each field is a command-line flag, e.g. --num-negatives)."""

    num_negatives: int = option(1, "kept per query; each training row holds all of them")
    range_min: int = option(2, "the most similar candidates skipped (after known positives)")
    # 200 chosen on NFCorpus dev; 50 found fewer
    range_max: int = option(200, "candidates ranked per query")
    margin: float = option(
        0.05, "skip candidates above p - |p| * margin, p the query's lowest positive score; <0: off"
    )
    max_score: float = option(0.9, "candidates more similar than this to the query are skipped")
    sampling: str = option(
        "top", "top: the most similar eligible candidates; random: a seeded sample of them"
    )
    # `emb sweep` searches these besides the shared flags (inventory/config.py).
    SEARCH_SPACE: ClassVar[dict[str, dict]] = {
        "num_negatives": {"low": 1, "high": 4},
        "margin": {"low": 0.0, "high": 0.2},
    }


@dataclass
class Query:
    """One train query: its positives and the base model's best candidates, with scores."""

    text: str
    positives: dict[str, float]  # positive text -> its score
    candidates: list[tuple[str, float]]  # best first; the query's positives included


@dataclass
class Mined:
    """The mined records (one per train record, in file order) and the audit."""

    records: list[Record]
    scores: dict[str, dict[str, float]]  # query -> text -> score (positives and negatives)
    audit: dict[str, Any] = field(default_factory=dict)


def query_key(text: str) -> str:
    """A query's normalised text: two queries with the same key are the same question."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(re.findall(r"\w+", "".join(c for c in folded if not unicodedata.combining(c))))


def check_options(options: MiningOptions) -> None:
    """Settings that cannot work end the run before any work, in one line."""
    if options.num_negatives < 1:
        raise LabError(f"--num-negatives must be at least 1, not {options.num_negatives}")
    if options.range_min < 0:
        raise LabError(f"--range-min must be 0 or more, not {options.range_min}")
    if options.range_max < options.range_min + options.num_negatives:
        raise LabError(
            f"--range-max {options.range_max} leaves no room for --range-min "
            f"{options.range_min} plus --num-negatives {options.num_negatives}"
        )
    if options.sampling not in SAMPLING:
        raise LabError(f"--sampling must be one of {', '.join(SAMPLING)}, not {options.sampling!r}")


def passage_pool(splits: Splits) -> list[str]:
    """The texts negatives are mined from: train and dev passages, then the corpus; never gold."""
    texts = (text for split in (splits.train, splits.dev) for r in split for text in r.pos + r.neg)
    return list(dict.fromkeys([*texts, *(document.text for document in splits.corpus)]))


def candidates(
    model: SentenceTransformer,
    train: Sequence[Record],
    pool: list[str],
    options: MiningOptions,
    cache: EmbeddingCache | None = None,
) -> list[Query]:
    """Each train query's top `range_max` pool documents by the base model, positives included,
    from `mine_hard_negatives` without its filters (they are applied and counted in `guard`).
    With `cache` (of `model`), the library reads its vectors instead of encoding the texts."""
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    pairs = list(dict.fromkeys((r.query, text) for r in train for text in r.pos))
    depth = min(options.range_max, len(set(pool) | {text for _, text in pairs}))
    dataset = Dataset.from_dict({"query": [q for q, _ in pairs], "positive": [p for _, p in pairs]})
    quiet = contextlib.nullcontext() if interactive() else contextlib.redirect_stderr(io.StringIO())
    with tempfile.TemporaryDirectory(prefix="mining-") as folder, quiet:
        if cache is not None:
            queries = list(dict.fromkeys(q for q, _ in pairs))
            corpus = list(dict.fromkeys([*pool, *(p for _, p in pairs)]))  # as the library does
            _share_vectors(cache, queries, corpus, Path(folder))
        mined = mine_hard_negatives(
            dataset,
            model,
            corpus=pool,
            include_positives=True,  # every candidate comes back; the guards below filter
            num_negatives=depth,
            range_max=depth,
            sampling_strategy="top",
            output_format="n-tuple",
            output_scores=True,
            cache_folder=folder if cache is not None else None,
            verbose=False,
        )
    columns = [f"negative_{index}" for index in range(1, depth + 1)]
    queries: dict[str, Query] = {}
    for row in mined:
        scores = row["scores"]
        query = queries.setdefault(row["query"], Query(row["query"], {}, []))
        query.positives[row["positive"]] = float(scores[0])
        if not query.candidates:
            query.candidates = [
                (row[c], float(s)) for c, s in zip(columns, scores[1:], strict=True)
            ]
    return list(queries.values())


def _share_vectors(
    cache: EmbeddingCache, queries: list[str], corpus: list[str], folder: Path
) -> None:
    """Save the cache's vectors where `mine_hard_negatives(cache_folder=folder)` looks for them.

    Its file names hash the model's base_model name, the prompts (none here) and the texts, in
    the order it dedupes them; it loads a file whose name matches and encodes otherwise (so a
    library that named them differently would be slower, never wrong). The folder lives for one
    call: the library's own cache is keyed by the model's name, not its weights, and would hand a
    fine-tuned checkpoint its base model's vectors.
    """
    name = cache.model.model_card_data.base_model or ""
    for kind, texts, role in (("query", queries, "query"), ("corpus", corpus, "document")):
        digest = hashlib.sha256(repr((name, None, None, texts)).encode()).hexdigest()
        vectors = cache.encode(texts, role, f"mining: {len(texts)} {kind} texts")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.save(folder / f"{kind}_embeddings_{digest}.npy", vectors / np.maximum(norms, 1e-12))


def guard(
    query: Query,
    related: set[str],
    options: MiningOptions,
    seed: int,
    more_positives: frozenset[str] = frozenset(),
) -> tuple[list[tuple[str, float]], Counter[str]]:
    """The negatives kept for `query`, and how many candidates each guard removed.

    `related` holds the positives of other queries with the same normalised text;
    `more_positives` the texts of the query's own positives that are not in its pos.
    """
    removed: Counter[str] = Counter()
    lowest = min(query.positives.values())
    threshold = lowest - abs(lowest) * options.margin
    eligible: list[tuple[str, float]] = []
    skipped = 0
    for text, score in query.candidates:
        if text in query.positives or text in more_positives:
            removed["positive"] += 1
        elif text in related:
            removed["same_text_positive"] += 1
        elif skipped < options.range_min:
            skipped += 1
            removed["range_min"] += 1
        elif score > options.max_score:
            removed["max_score"] += 1
        elif options.margin >= 0 and score > threshold:
            removed["margin"] += 1
        else:
            eligible.append((text, score))
    if options.sampling == "random" and len(eligible) > options.num_negatives:
        rng = random.Random(f"{seed}\0{query.text}")  # str seeds are stable across processes
        picked = sorted(rng.sample(range(len(eligible)), options.num_negatives))
        return [eligible[index] for index in picked], removed
    return eligible[: options.num_negatives], removed


def mine(
    model: SentenceTransformer,
    splits: Splits,
    options: MiningOptions,
    seed: int,
    cache: EmbeddingCache | None = None,
) -> Mined:
    """Mine negatives for every train record (see the module's docstring); no file is written.
    `cache`: the model's vectors found so far (the texts it lacks are encoded and added)."""
    check_options(options)
    pool = passage_pool(splits)
    queries = candidates(model, splits.train, pool, options, cache)
    corpus = {document.id: document.text for document in splits.corpus}
    positives_by_key: dict[str, set[str]] = {}
    more_by_query: dict[str, set[str]] = {}
    for record in (*splits.train, *splits.dev):
        more = {corpus[doc_id] for doc_id in record.more_pos_ids if doc_id in corpus}
        positives_by_key.setdefault(query_key(record.query), set()).update(record.pos, more)
        more_by_query.setdefault(record.query, set()).update(more)
    removed: Counter[str] = Counter()
    kept: dict[str, list[tuple[str, float]]] = {}
    scores: dict[str, dict[str, float]] = {}
    band = options.margin if options.margin >= 0 else AUDIT_MARGIN
    within = above = 0
    for query in queries:
        more = frozenset(more_by_query[query.text] - set(query.positives))
        related = positives_by_key[query_key(query.text)] - set(query.positives) - more
        kept[query.text], counts = guard(query, related, options, seed, more)
        removed.update(counts)
        scores[query.text] = dict(query.positives) | dict(kept[query.text])
        lowest = min(query.positives.values())
        within += sum(score > lowest - abs(lowest) * band for _, score in kept[query.text])
        above += sum(score >= lowest for _, score in kept[query.text])
    records = [
        Record(r.query, r.pos, tuple(text for text, _ in kept[r.query])) for r in splits.train
    ]
    negatives = [score for pairs in kept.values() for _, score in pairs]
    positive_scores = [s for q in queries for s in q.positives.values()]
    audit = {
        "queries": len(queries),
        "pool_documents": len(pool),
        "candidates": sum(len(query.candidates) for query in queries),
        "more_pos_ids": sum(len(r.more_pos_ids) for r in splits.train),
        "more_pos_ids_not_in_corpus": sum(
            doc_id not in corpus for r in splits.train for doc_id in r.more_pos_ids
        ),
        "removed": {name: removed[name] for name in GUARDS},
        "kept": len(negatives),
        "queries_short": sum(len(pairs) < options.num_negatives for pairs in kept.values()),
        "queries_without_negative": sum(not pairs for pairs in kept.values()),
        "kept_within_margin": within,
        "audit_margin": band,
        "kept_scoring_above_a_positive": above,
        "mean_positive_score": _mean(positive_scores),
        "mean_negative_score": _mean(negatives),
    }
    return Mined(records, scores, audit)


def mine_negatives(experiment: Experiment, options: MiningOptions) -> list[Record]:
    """Mine with the experiment's base model, write <data dir>/mined/<experiment>.jsonl and its
    note, print the audit; returns the records read back from the file (on every process).
    Under torchrun or accelerate launch rank 0 mines while every process encodes a share."""
    config, model = experiment.config, experiment.model
    mined = None
    precision = experiment.encoding.precision
    with experiment.run.phase("mining"), distributed.shared_encoding(model, precision) as main:
        if main:
            cache = EmbeddingCache(model, CACHE_DIR, experiment.encoding)  # the base model's
            mined = mine(model, experiment.splits, options, config.train.seed, cache)
    return write_mined(experiment, options, mined)


@distributed.main_process
def write_mined(
    experiment: Experiment, options: MiningOptions, mined: Mined | None
) -> list[Record]:
    """Write what rank 0 mined and its note, print the audit; every process gets the records
    read back from the file."""
    assert mined is not None  # rank 0's
    config = experiment.config
    path = Path(config.data_dir) / "mined" / f"{config.name}.jsonl"  # one file per experiment
    lines = []
    for record in mined.records:
        scores = mined.scores[record.query]
        lines.append(json.dumps({
            "query": record.query, "pos": list(record.pos), "neg": list(record.neg),
            "pos_scores": [round(scores[text], 4) for text in record.pos],
            "neg_scores": [round(scores[text], 4) for text in record.neg],
        }, ensure_ascii=False))  # fmt: skip
    text = "".join(line + "\n" for line in lines)
    write_text(path, text)
    note = {
        "file": str(path),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "made_by": "inventory/mining.py (sentence_transformers.util.mine_hard_negatives)",
        "experiment": config.name,
        "run_id": experiment.run.id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "base_model": experiment.run.record.get("model", {"name": config.base_model}),
        "settings": asdict(options) | {"seed": config.train.seed},
        "pool": "train and dev pos/neg passages plus data/corpus.jsonl; never gold",
        "guards_in_order": list(GUARDS),
        "records": len(mined.records),
        "audit": mined.audit,
    }
    write_json(path.with_suffix(".meta.json"), note)
    experiment.run.note(mining=note)
    print(audit_lines(mined.audit, options, path))
    return read_records(path)  # what trains is exactly what the file holds


def audit_lines(audit: dict[str, Any], options: MiningOptions, path: Path) -> str:
    """The printed audit: what was mined, what each guard removed, what was kept."""
    removed = ", ".join(f"{name} {count}" for name, count in audit["removed"].items())
    lines = [
        f"mined {path}: {audit['kept']} negatives for {audit['queries']} queries "
        f"({options.sampling} {options.num_negatives} each of {audit['candidates']} candidates "
        f"among {audit['pool_documents']} documents)",
        f"  removed by guard: {removed}",
        f"  queries with fewer than {options.num_negatives}: {audit['queries_short']} "
        f"(none: {audit['queries_without_negative']}); "
        f"kept within the {audit['audit_margin']} margin of their positive: "
        f"{audit['kept_within_margin']}",
    ]  # fmt: skip
    if audit["more_pos_ids"]:
        lines.append(
            f"  positives outside pos (more_pos_ids): {audit['more_pos_ids']}, of which "
            f"{audit['more_pos_ids_not_in_corpus']} are not in data/corpus.jsonl"
        )
    return "\n".join(lines)


def with_negatives(records: Iterable[Record], num_negatives: int) -> Dataset | DatasetDict:
    """Columns (anchor, positive, negative_1, ..., negative_n): one row per positive, with all of
    its query's mined negatives (repeated in turn when fewer were found).

    A query the guards left without any negative still trains, on in-batch negatives alone: its
    rows go to a second dataset, "in_batch" (anchor, positive), beside "mined", and the trainer
    draws each batch from one of them, in proportion to their sizes.
    """
    from datasets import Dataset, DatasetDict

    records = list(records)
    mined = triplet_columns([r for r in records if r.neg], num_negatives)
    in_batch = triplet_columns([r for r in records if not r.neg])
    if not mined["anchor"]:
        raise LabError("no train query kept a mined negative: loosen --range-min, --max-score "
                       "or --margin, or raise --range-max")  # fmt: skip
    if not in_batch["anchor"]:
        return Dataset.from_dict(mined)
    return DatasetDict({"mined": Dataset.from_dict(mined), "in_batch": Dataset.from_dict(in_batch)})


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None
