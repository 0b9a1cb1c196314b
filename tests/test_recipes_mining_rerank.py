"""The hard-negatives and cross-encoder recipes, added to a baked lab and run as a user runs them.

The data is the lab's sample with two plants: a gold-only passage that copies a train query (the
best possible candidate, were gold mined) and a train query with the same normalised text as
another, whose positive is that other query's labelled negative (a false negative, were the guard
missing). Base models: the tiny random BERT, and a tiny BERT with a classification head.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import add_recipe
from tests.test_pipeline import METRICS, OFFLINE, TINY_FLAGS
from tests.tiny_model import build_tiny_reranker, lab_texts

HARD = "exp_02_hard_negatives"
RERANK = "exp_03_cross_encoder"
# Every pool document is a candidate, so a planted text is found wherever it would rank; the
# tiny model scores every pair near 0.95, hence no max_score and a zero margin.
RERANK_CSV = "CrossEncoderReranking_evaluation_gold_results.csv"
MINING_FLAGS = ("--range-max", "1000", "--max-score", "1.0", "--margin", "0")


def run(lab: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=lab, env=os.environ | OFFLINE,
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def planted(lab: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the lab's data with the two plants; returns its folder and the planted texts."""
    data = tmp_path_factory.mktemp("planted") / "data"
    shutil.copytree(lab / "data", data)
    train, gold = read_jsonl(data / "train.jsonl"), read_jsonl(data / "gold.jsonl")
    gold_only = train[0]["query"] + " This passage exists only in gold."
    gold.append({"query": "a planted gold query", "pos": [gold_only]})
    original = train[1]
    twin = {"query": original["query"].upper().rstrip("?!. ") + " ?", "pos": [original["neg"][0]]}
    train.append(twin)
    write_jsonl(data / "train.jsonl", train)
    write_jsonl(data / "gold.jsonl", gold)
    return {"dir": data, "gold_only": gold_only, "original": original, "twin": twin}


@pytest.fixture(scope="module")
def hard_run(lab: Path, tiny_model: Path, planted: dict) -> tuple:
    add_recipe(lab, "hard-negatives", HARD)
    stale = planted["dir"] / "mined" / f"{HARD}.jsonl"  # as mined from an older train split
    stale.parent.mkdir(exist_ok=True)
    stale.write_text(STALE)
    process = run(lab, f"experiments/{HARD}.py", "--base-model", str(tiny_model),
                  "--data-dir", str(planted["dir"]), *TINY_FLAGS, *MINING_FLAGS)  # fmt: skip
    return process, (lab / "results" / HARD / "latest").resolve()


def test_hard_negatives_leaves_every_artifact_and_learns(hard_run, planted) -> None:
    process, run_dir = hard_run
    assert process.returncode == 0, process.stderr
    for artifact in ("final", "eval/metrics.json", "eval/per_query.csv", "plots/index.html",
                     "train_log.json", "manifest.json"):  # fmt: skip
        assert (run_dir / artifact).exists(), artifact
    metrics = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert set(metrics["before"]) == METRICS and "delta" in metrics and "hybrid" in metrics
    assert metrics["after"]["ndcg@10"] > metrics["before"]["ndcg@10"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["recipe"]["name"] == "hard negatives"
    assert manifest["recipe"]["columns"] == ["anchor", "positive", "negative"]
    assert list(manifest["phases_s"]) == ["evaluate before", "mining", "training", "evaluate after"]
    note = json.loads((planted["dir"] / "mined" / f"{HARD}.meta.json").read_text())
    assert manifest["mining"] == note  # the note of the mined file is in the manifest too
    assert "removed by guard: positive" in process.stdout  # the audit is printed


STALE = '{"query": "a query of an older train split", "pos": ["p"], "neg": ["n"]}\n'


def test_a_run_mines_again_whatever_mined_file_is_there(hard_run, planted) -> None:
    """Mining never reuses data/mined/: a file left from older data (`emb check --fix`
    moves them aside anyway) is replaced by what this run mined from the current train."""
    mined = (planted["dir"] / "mined" / f"{HARD}.jsonl").read_bytes()
    note = json.loads((planted["dir"] / "mined" / f"{HARD}.meta.json").read_text())
    assert mined != STALE.encode() and hashlib.sha256(mined).hexdigest() == note["sha256"]


def test_mined_file_is_the_split_format_with_a_note_and_an_audit(hard_run, planted) -> None:
    process, _ = hard_run
    mined = planted["dir"] / "mined" / f"{HARD}.jsonl"
    rows = read_jsonl(mined)
    train = read_jsonl(planted["dir"] / "train.jsonl")
    assert [row["query"] for row in rows] == [row["query"] for row in train]
    assert all(len(row["neg"]) <= 1 and len(row["neg_scores"]) == len(row["neg"]) for row in rows)
    assert sum(bool(row["neg"]) for row in rows) > len(rows) // 2
    note = json.loads((planted["dir"] / "mined" / f"{HARD}.meta.json").read_text())
    assert note["settings"]["seed"] == 42 and note["experiment"] == HARD
    assert note["settings"]["range_max"] == 1000 and note["base_model"]["name"]
    audit = note["audit"]
    assert set(audit["removed"]) == {
        "positive", "same_text_positive", "range_min", "max_score", "margin"
    }  # fmt: skip
    # Every candidate is removed by one guard or eligible; the kept ones are a part of the rest.
    assert sum(audit["removed"].values()) + audit["kept"] <= audit["candidates"]
    assert audit["removed"]["range_min"] == 2 * audit["queries"]  # the default range_min, 2
    assert audit["removed"]["same_text_positive"] >= 2  # the twin's positive, and the original's
    assert audit["kept_within_margin"] == 0 and audit["audit_margin"] == 0
    assert audit["kept"] == sum(len(row["neg"]) for row in rows)


def test_gold_never_feeds_mining(hard_run, planted) -> None:
    rows = read_jsonl(planted["dir"] / "mined" / f"{HARD}.jsonl")
    gold_queries = {row["query"] for row in read_jsonl(planted["dir"] / "gold.jsonl")}
    negatives = {text for row in rows for text in row["neg"]}
    assert planted["gold_only"] not in negatives
    assert not gold_queries & {row["query"] for row in rows}
    pool = {t for split in ("train", "dev") for r in read_jsonl(planted["dir"] / f"{split}.jsonl")
            for t in r["pos"] + r.get("neg", [])}  # fmt: skip
    assert negatives <= pool  # the sample has no corpus.jsonl


def test_a_positive_of_a_same_text_query_is_never_a_negative(hard_run, planted) -> None:
    rows = {row["query"]: row for row in read_jsonl(planted["dir"] / "mined" / f"{HARD}.jsonl")}
    original, twin = planted["original"], planted["twin"]
    assert not set(twin["pos"]) & set(rows[original["query"]]["neg"])
    assert not set(original["pos"]) & set(rows[twin["query"]]["neg"])
    for row in rows.values():
        assert not set(row["pos"]) & set(row["neg"])


MINE_TWICE = """
import json, sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, ".")
from inventory import preprocess
from inventory.datasets import load_splits
from inventory.mining import MiningOptions, mine
from inventory.models import load_model
from inventory.progress import quiet_libraries
quiet_libraries()
splits, _ = preprocess.clean_splits(load_splits(Path(sys.argv[2])))
model = load_model(sys.argv[1], 256)
top = MiningOptions(range_max=1000, max_score=1.0, margin=0.0)
random_ = replace(top, sampling="random", num_negatives=2)
out = {}
for name, options, seed in (("top", top, 42), ("random", random_, 42), ("random", random_, 42),
                            ("other_seed", random_, 7)):
    mined = mine(model, splits, options, seed)
    out.setdefault(name, []).append([[r.query, list(r.pos), list(r.neg)] for r in mined.records])
print(json.dumps(out))
"""


CACHED = """
import json, sys
from pathlib import Path
sys.path.insert(0, ".")
from inventory import preprocess
from inventory.datasets import load_splits
from inventory.embeddings import EmbeddingCache
from inventory.mining import MiningOptions, mine
from inventory.models import load_model
from inventory.progress import quiet_libraries
quiet_libraries()
splits, _ = preprocess.clean_splits(load_splits(Path(sys.argv[2])))
model = load_model(sys.argv[1], 256)
options = MiningOptions(range_max=1000, max_score=1.0, margin=0.0, num_negatives=3)
alone = mine(model, splits, options, 42)  # the library encodes everything itself
cache = EmbeddingCache(model)
first = mine(model, splits, options, 42, cache)  # encodes through the cache, and fills it
encoded = cache.encoded
def refuse(*args, **kwargs):
    raise AssertionError("encoded a text the cache holds")
model.encode = model.encode_query = model.encode_document = refuse
again = mine(model, splits, options, 42, cache)
records = [[[r.query, list(r.pos), list(r.neg)] for r in m.records] for m in (alone, first, again)]
print(json.dumps({"same": records[0] == records[1] == records[2], "encoded": encoded,
                  "kept": first.audit["kept"]}))
"""


def test_mining_reads_the_labs_embedding_cache(lab: Path, tiny_model: Path, planted) -> None:
    """With every text cached, mining encodes nothing, and mines what the library alone mines."""
    process = run(lab, "-c", CACHED, str(tiny_model), str(planted["dir"]))
    assert process.returncode == 0, process.stderr
    out = json.loads(process.stdout.splitlines()[-1])
    assert out["same"] is True and out["kept"] > 0
    train = read_jsonl(planted["dir"] / "train.jsonl")
    assert out["encoded"] > len({row["query"] for row in train})  # the queries, then the pool


def test_mining_is_reproducible(lab: Path, tiny_model: Path, hard_run, planted) -> None:
    process = run(lab, "-c", MINE_TWICE, str(tiny_model), str(planted["dir"]))
    assert process.returncode == 0, process.stderr
    out = json.loads(process.stdout.splitlines()[-1])
    in_file = [[r["query"], r["pos"], r["neg"]] for r in read_jsonl(planted["dir"] / "mined" /
                                                                     f"{HARD}.jsonl")]  # fmt: skip
    assert out["top"][0] == in_file  # the run's file, mined again in another process
    assert out["random"][0] == out["random"][1]  # seeded sampling
    assert out["other_seed"][0] != out["random"][0]


WITH_NEGATIVES = """
import json, sys
sys.path.insert(0, ".")
from inventory.datasets import Record
from inventory.mining import with_negatives
records = [Record("q1", ("p1",), ("n1",)), Record("q2", ("p2", "p3"), ()),
           Record("q3", ("p4",), ("n2", "n3", "n4"))]
both = with_negatives(records, 2)
alone = with_negatives(records[:1], 1)
print(json.dumps({"both": {name: both[name].to_dict() for name in both},
                  "alone": alone.to_dict()}))
"""


def test_a_query_without_a_mined_negative_trains_on_in_batch_negatives(lab: Path, hard_run):
    process = run(lab, "-c", WITH_NEGATIVES)
    assert process.returncode == 0, process.stderr
    out = json.loads(process.stdout.splitlines()[-1])
    assert out["both"] == {
        "mined": {"anchor": ["q1", "q3"], "positive": ["p1", "p4"],
                  "negative_1": ["n1", "n2"], "negative_2": ["n1", "n3"]},
        "in_batch": {"anchor": ["q2", "q2"], "positive": ["p2", "p3"]},
    }  # fmt: skip
    assert out["alone"] == {"anchor": ["q1"], "positive": ["p1"], "negative": ["n1"]}


MORE_POSITIVES = """
import json, sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, ".")
from inventory import preprocess
from inventory.datasets import load_splits
from inventory.mining import MiningOptions, mine
from inventory.models import load_model
from inventory.progress import quiet_libraries
quiet_libraries()
splits, _ = preprocess.clean_splits(load_splits(Path(sys.argv[2])))
model = load_model(sys.argv[1], 256)
every = MiningOptions(range_max=1000, range_min=0, max_score=1.0, margin=-1, num_negatives=999)
without = replace(splits, train=[replace(r, more_pos_ids=()) for r in splits.train])
out = {}
for name, data in (("with", splits), ("without", without)):
    mined = mine(model, data, every, 42)
    out[name] = {"neg": [list(r.neg) for r in mined.records], "audit": mined.audit}
print(json.dumps(out))
"""


def test_positives_named_by_more_pos_ids_are_never_mined(
    lab: Path, tiny_model: Path, planted, tmp_path: Path
) -> None:
    """An import that caps positives names the dropped ones in more_pos_ids; mining, which keeps
    every eligible candidate here, must count such a corpus document as a positive of its query
    (and only of its query), and must take it as a negative once the line no longer names it."""
    data = tmp_path / "data"
    shutil.copytree(planted["dir"], data)
    train = read_jsonl(data / "train.jsonl")
    further = "A further positive: " + train[2]["pos"][0]
    train[2]["more_pos_ids"] = ["d-further", "d-missing"]
    write_jsonl(data / "train.jsonl", train)
    corpus = [{"_id": "d-further", "text": further}, {"_id": "d-other", "text": "Unrelated."}]
    write_jsonl(data / "corpus.jsonl", corpus)
    process = run(lab, "-c", MORE_POSITIVES, str(tiny_model), str(data))
    assert process.returncode == 0, process.stderr
    out = json.loads(process.stdout.splitlines()[-1])
    with_ids, without = out["with"], out["without"]
    assert further in without["neg"][2]  # a candidate like any other, unless named
    assert further not in with_ids["neg"][2]
    assert all(further in negatives for negatives in with_ids["neg"][3:6])  # other queries' too
    assert with_ids["audit"]["removed"]["positive"] == without["audit"]["removed"]["positive"] + 1
    assert (with_ids["audit"]["more_pos_ids"], with_ids["audit"]["more_pos_ids_not_in_corpus"]) == (
        2, 1)  # fmt: skip


GUARDS = """
import json, sys
sys.path.insert(0, ".")
from inventory.mining import MiningOptions, Query, guard, query_key
query = Query("q", {"p1": 0.80, "p2": 0.60}, [
    ("p1", 0.80), ("twin", 0.79), ("a", 0.78), ("b", 0.75), ("c", 0.70), ("d", 0.59),
    ("e", 0.55), ("f", 0.50), ("g", 0.10)])
cases = {
    "defaults": MiningOptions(num_negatives=3),
    "max_score": MiningOptions(num_negatives=3, range_min=0, max_score=0.72, margin=-1),
    "no_margin": MiningOptions(num_negatives=9, range_min=0, max_score=1.0, margin=-1),
    "random": MiningOptions(num_negatives=2, range_min=0, sampling="random"),
}
out = {}
for name, options in cases.items():
    kept, removed = guard(query, {"twin"}, options, seed=1)
    out[name] = {"kept": [t for t, _ in kept], "removed": dict(removed)}
out["random_again"] = [t for t, _ in guard(query, {"twin"}, cases["random"], seed=1)[0]]
kept, removed = guard(query, {"twin"}, cases["no_margin"], 1, more_positives=frozenset({"c"}))
out["more"] = {"kept": [t for t, _ in kept], "removed": dict(removed)}
out["keys"] = [query_key("How do I descale?"), query_key("  how DO i   déscale")]
print(json.dumps(out))
"""


def test_guards_on_hand_made_scores(lab: Path, hard_run) -> None:
    process = run(lab, "-c", GUARDS)
    assert process.returncode == 0, process.stderr
    out = json.loads(process.stdout.splitlines()[-1])
    # defaults: range_min 2 skips a, b; max_score 0.9 none; margin 0.05 of the lowest positive
    # (0.60 -> 0.57) removes c and d; e, f, g kept.
    assert out["defaults"] == {
        "kept": ["e", "f", "g"],
        "removed": {"positive": 1, "same_text_positive": 1, "range_min": 2, "margin": 2},
    }
    assert out["max_score"]["removed"] == {"positive": 1, "same_text_positive": 1, "max_score": 2}
    assert out["max_score"]["kept"] == ["c", "d", "e"]
    assert out["no_margin"]["kept"] == ["a", "b", "c", "d", "e", "f", "g"]  # never p1 or twin
    assert out["more"] == {  # c is a positive the import left out of pos
        "kept": ["a", "b", "d", "e", "f", "g"],
        "removed": {"positive": 2, "same_text_positive": 1},
    }
    assert len(out["random"]["kept"]) == 2 and out["random"]["kept"] == out["random_again"]
    assert set(out["random"]["kept"]) <= {"e", "f", "g"}
    assert out["keys"][0] == out["keys"][1] == "how do i descale"


def test_bad_mining_option_is_one_line_and_writes_nothing(lab: Path, hard_run) -> None:
    before = sorted((lab / "results" / HARD).iterdir())
    process = run(lab, f"experiments/{HARD}.py", "--sampling", "best")
    assert process.returncode == 1
    assert process.stderr.strip() == "error: --sampling must be one of top, random, not 'best'"
    assert sorted((lab / "results" / HARD).iterdir()) == before


@pytest.fixture(scope="module")
def tiny_reranker(lab: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_reranker(tmp_path_factory.mktemp("reranker") / "model",
                               lab_texts(lab / "data"))  # fmt: skip


@pytest.fixture(scope="module")
def rerank_run(lab: Path, tiny_model: Path, tiny_reranker: Path) -> tuple:
    add_recipe(lab, "cross-encoder", RERANK)
    process = run(lab, f"experiments/{RERANK}.py", "--base-model", str(tiny_model),
                  "--reranker", str(tiny_reranker), *TINY_FLAGS, *MINING_FLAGS)  # fmt: skip
    return process, (lab / "results" / RERANK / "latest").resolve()


def test_cross_encoder_reranks_honestly_and_learns(rerank_run) -> None:
    process, run_dir = rerank_run
    assert process.returncode == 0, process.stderr
    for artifact in ("final", "eval/metrics.json", "eval/per_query.csv", "plots/index.html",
                     "train_log.json", f"eval/{RERANK_CSV}"):  # fmt: skip
        assert (run_dir / artifact).exists(), artifact
    metrics = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert {"before", "after", "delta", "bm25", "first_stage", "rerank_config"} <= set(metrics)
    assert set(metrics["first_stage"]) == METRICS
    assert '"name":"first_stage"' in (run_dir / "plots" / "index.html").read_text()  # a bar
    config = metrics["rerank_config"]
    assert config["k"] == 20 and config["always_rerank_positives"] is False
    first = config["first_stage"]
    choice = first["choice"]  # the hybrid, unless dense beats it on dev beyond noise
    assert (choice["default"], first["system"]) == ("hybrid", choice["chosen"])
    assert first["chosen_by"].startswith("dev") and set(choice["dev"]) == {"dense", "hybrid"}
    assert first["system"] == "hybrid" or choice["p_holm"]["dense"] < choice["alpha"]
    assert metrics["after"]["ndcg@10"] > metrics["before"]["ndcg@10"]
    # Reranking the top 20 reorders, never adds: what the first stage missed stays missed.
    for system in ("before", "after"):
        assert metrics[system]["recall@100"] == pytest.approx(metrics["first_stage"]["recall@100"])
    rows = [line.split(",") for line in (run_dir / "eval" / "per_query.csv").read_text().split()]
    recall = {}
    for query_id, system, _, value in rows[1:]:
        recall.setdefault(query_id, {})[system] = value
    assert all(len({v["before"], v["after"], v["first_stage"]}) == 1 for v in recall.values())
    systems = [row[1] for row in rows[1:]]  # each system once per gold query, written by gold
    order = ("before", "after", "bm25", "first_stage")
    assert systems == [s for s in order for _ in range(metrics["gold"]["queries"])]
    assert metrics["gold"]["ranking"] == f"{first['system']} first stage, top 20 reranked"
    # The whole dev split reranked, the figure `emb sweep` chooses by, one row per dev query.
    assert 0.0 <= metrics["dev"]["ndcg@10"] <= 1.0 and metrics["dev"]["queries"] == 30
    dev_rows = (run_dir / "eval" / "dev_per_query.csv").read_text().splitlines()[1:]
    assert len(dev_rows) == 30
    mean = sum(float(row.split(",")[-1]) for row in dev_rows) / 30
    assert mean == pytest.approx(metrics["dev"]["ndcg@10"], abs=1e-5)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["recipe"]["loss"] == "BinaryCrossEntropyLoss"
    assert manifest["first_stage"]["system"] == first["system"]
    assert list(manifest["phases_s"]) == ["evaluate before", "first stage", "rerank gold before",
                                          "mining", "training", "rerank gold after",
                                          "evaluate dev"]  # fmt: skip
    from sentence_transformers.cross_encoder import CrossEncoder

    assert CrossEncoder(str(run_dir / "final")).num_labels == 1


DEFAULT_RERANKER = """
import sys
sys.path.insert(0, ".")
from inventory.config import TrainConfig, parse_args
from inventory.progress import quiet_libraries
from inventory.rerank import RerankOptions, load_reranker
quiet_libraries()
config = parse_args("x.py", TrainConfig(), ["--base-model", sys.argv[1]], options=RerankOptions())
first, second = load_reranker(config), load_reranker(config)
print(type(first).__name__, first.num_labels,
      all((a == b).all() for a, b in zip(first.state_dict().values(),
                                          second.state_dict().values())))
"""


def test_reranker_starts_from_the_base_model_with_a_seeded_head(
    lab: Path, tiny_model: Path, rerank_run
) -> None:
    process = run(lab, "-c", DEFAULT_RERANKER, str(tiny_model))
    assert process.returncode == 0, process.stderr
    assert process.stdout.split()[-3:] == ["CrossEncoder", "1", "True"]


def test_bad_reranker_option_is_one_line_and_writes_nothing(lab: Path, rerank_run) -> None:
    before = sorted((lab / "results" / RERANK).iterdir())
    process = run(lab, f"experiments/{RERANK}.py", "--reranker-max-length", "2")
    assert process.returncode == 1
    assert process.stderr.strip() == ("error: --reranker-max-length 2 cannot hold a query and a "
                                      "passage (4 tokens at least)")  # fmt: skip
    assert sorted((lab / "results" / RERANK).iterdir()) == before


def test_cross_encoder_refuses_torchrun_in_one_line(lab: Path, rerank_run) -> None:
    before = sorted((lab / "results" / RERANK).iterdir())
    process = run(lab, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                  f"experiments/{RERANK}.py", timeout=300)  # fmt: skip
    assert process.returncode != 0
    errors = [line for line in process.stderr.splitlines() if line.startswith("error:")]
    assert errors[0] == ("error: the cross-encoder recipe runs in one process: start it with "
                         "python, not torchrun or accelerate launch")  # fmt: skip
    assert sorted((lab / "results" / RERANK).iterdir()) == before


def test_hard_negatives_under_torchrun_mines_once(lab: Path, tiny_model: Path, hard_run) -> None:
    """Rank 0 mines and writes the file; the other process waits and trains on what it reads."""
    process = run(lab, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                  f"experiments/{HARD}.py", "--base-model", str(tiny_model), "--epochs", "1",
                  *MINING_FLAGS, "--output-dir", "results/torchrun", timeout=600)  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert process.stdout.count("removed by guard:") == 1
    manifest = json.loads((lab / "results" / "torchrun" / "manifest.json").read_text())
    assert manifest["processes"] == 2 and manifest["status"] == "completed"
    mined = lab / "data" / "mined" / f"{HARD}.jsonl"
    assert manifest["mining"]["file"] == str(mined) and mined.is_file()
