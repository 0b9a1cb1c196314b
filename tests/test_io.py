"""`emb import` / `emb export`: hand-made fixtures per format, errors, --force, round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from embed_lab.cli import main
from embed_lab.io.records import corpus_text

CORPUS = [
    {"_id": "d1", "title": "Latte", "text": "A latte is espresso with steamed milk."},
    {"_id": 2, "title": "", "text": "Everest is 8849 metres tall."},  # integer id, no title
    {"_id": "d3", "text": "Hamlet was written by Shakespeare.", "metadata": {}},
    {"_id": "d4", "title": "Paris", "text": "Paris is the capital of France."},
    {"_id": "d5", "title": "Water", "text": "Water boils at 100 degrees Celsius."},
    {"_id": "d6", "title": None, "text": "Tea is brewed from leaves."},
    {"_id": "d7", "title": "Moon", "text": "The Moon orbits the Earth."},
    {"_id": "d8", "title": "Rome", "text": "Rome is the capital of Italy."},
]
QUERIES = [
    {"_id": "q1", "text": "what is a latte"},
    {"_id": "q2", "text": "how tall is everest"},
    {"_id": "q3", "text": "who wrote hamlet"},
    {"_id": 4, "text": "capital of france"},
    {"_id": "q5", "text": "boiling point of water"},
    {"_id": "q6", "text": "what orbits the earth"},
    {"_id": "q7", "text": "a query whose only judgment is non-relevant"},
    {"_id": "q8", "text": "capital of italy"},
]
TRAIN = "query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq1\td6\t0\r\nq2\t2\t1\r\nq3\td3\t1\r\n"
TRAIN += "q6\td7\t1\r\nq7\td6\t0\r\nq8\td8\t1\r\n"
TEST = "4\td4\t1\n4\td8\t2\nq5\td5\t1\n"  # no header, graded


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def beir_folder(root: Path, train: str = TRAIN, test: str = TEST, dev: str | None = None) -> Path:
    write_jsonl(root / "corpus.jsonl", CORPUS)
    write_jsonl(root / "queries.jsonl", QUERIES)
    (root / "qrels").mkdir()
    (root / "qrels" / "train.tsv").write_bytes(train.encode())
    (root / "qrels" / "test.tsv").write_bytes(test.encode())
    if dev is not None:
        (root / "qrels" / "dev.tsv").write_bytes(dev.encode())
    return root


def emb(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def split(data: Path, name: str) -> list[dict[str, Any]]:
    return read_jsonl(data / f"{name}.jsonl")


# --- beir ---------------------------------------------------------------------------------


def test_beir_import_writes_lab_splits_and_the_corpus(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = emb("import", "beir", beir_folder(tmp_path / "beir"), "--data-dir", data)
    assert "gold: 2 queries, 3 positives, 0 negatives" in result.output
    assert "corpus.jsonl: 8 documents" in result.output
    assert "no dev split: carved 1 queries (0.1) from train with seed 42" in result.output
    assert "skipped 1 queries without a judgment >= 1" in result.output
    assert "Splits" in result.output  # emb check's report follows

    corpus = read_jsonl(data / "corpus.jsonl")
    assert [doc["_id"] for doc in corpus] == ["d1", "2", "d3", "d4", "d5", "d6", "d7", "d8"]
    assert all(set(doc) == {"_id", "title", "text"} for doc in corpus)
    texts = {doc["_id"]: corpus_text(doc["title"], doc["text"]) for doc in corpus}

    gold = split(data, "gold")
    assert gold[0] == {
        "id": "4",
        "query": "capital of france",
        "pos": [texts["d4"], texts["d8"]],
        "pos_grades": [1, 2],
    }
    assert gold[1] == {"id": "q5", "query": "boiling point of water", "pos": [texts["d5"]]}
    train_and_dev = split(data, "train") + split(data, "dev")
    assert len(split(data, "dev")) == 1
    by_id = {row["id"]: row for row in train_and_dev}
    assert set(by_id) == {"q1", "q2", "q3", "q6", "q8"}  # q7 has no positive
    assert by_id["q1"] == {
        "id": "q1",
        "query": "what is a latte",
        "pos": ["Latte A latte is espresso with steamed milk."],
        "neg": ["Tea is brewed from leaves."],
    }
    assert by_id["q2"]["pos"] == ["Everest is 8849 metres tall."]
    assert not list(data.glob(".emb-import-*"))


def test_beir_dev_split_is_used_when_present(tmp_path: Path) -> None:
    source = beir_folder(tmp_path / "beir", dev="q6\td7\t1\nq8\td8\t1\n")
    data = tmp_path / "data"
    emb("import", "beir", source, "--data-dir", data)
    assert [row["id"] for row in split(data, "dev")] == ["q6", "q8"]
    assert [row["id"] for row in split(data, "train")] == ["q1", "q2", "q3", "q6", "q8"]


def test_beir_carving_is_seeded_and_never_touches_gold(tmp_path: Path) -> None:
    source = beir_folder(tmp_path / "beir")
    runs = []
    for seed in ("1", "1", "2"):
        data = tmp_path / f"data-{len(runs)}"
        emb("import", "beir", source, "--data-dir", data, "--seed", seed, "--dev-fraction", "0.4")
        runs.append([row["id"] for row in split(data, "dev")])
        assert [row["id"] for row in split(data, "gold")] == ["4", "q5"]
    assert runs[0] == runs[1] and len(runs[0]) == 2
    assert runs[0] != runs[2]


@pytest.mark.parametrize(
    ("qrels", "test", "message"),
    [
        ("train.tsv", "q1\td1\t1\nq1\tnope\t1\n", 'test.tsv:2: unknown corpus-id "nope"'),
        ("train.tsv", "q1\td1\t1\nqx\td1\t1\n", 'test.tsv:2: unknown query-id "qx"'),
        ("train.tsv", "q1\td1\t1\nq1\td2\thigh\n", 'test.tsv:2: score "high" is not an integer'),
        ("train.tsv", "q1\td1\n", "test.tsv:1: expected 3 tab-separated fields"),
    ],
)
def test_beir_bad_qrels_name_file_and_line(
    tmp_path: Path, qrels: str, test: str, message: str
) -> None:
    data = tmp_path / "data"
    result = emb("import", "beir", beir_folder(tmp_path / "beir", test=test), "--data-dir", data)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert list(data.iterdir()) == []  # nothing written


def test_beir_missing_train_qrels_and_bad_corpus_line(tmp_path: Path) -> None:
    source = beir_folder(tmp_path / "beir")
    (source / "qrels" / "train.tsv").unlink()
    result = emb("import", "beir", source, "--data-dir", tmp_path / "data")
    assert result.exit_code == 1 and "train.tsv: not found (name the train qrels with --train)" in (
        result.output
    )
    source = beir_folder(tmp_path / "beir2")
    with (source / "corpus.jsonl").open("a") as file:
        file.write('{"_id": "d9", "text": 5}\n')
    result = emb("import", "beir", source, "--data-dir", tmp_path / "data2")
    assert result.exit_code == 1
    assert 'corpus.jsonl:9: "text" must be a string, got a int' in result.output


def test_max_positives_keeps_the_highest_grades_then_file_order(tmp_path: Path) -> None:
    train = "q1\td1\t1\nq1\td3\t3\nq1\td4\t1\nq1\td5\t3\nq2\t2\t1\nq3\td3\t1\n"
    source = beir_folder(tmp_path / "beir", train=train, dev="q6\td7\t1\n")
    data = tmp_path / "data"
    result = emb("import", "beir", source, "--data-dir", data, "--max-positives", "2")
    q1 = split(data, "train")[0]
    assert q1["pos"] == [CORPUS[2]["text"], "Water Water boils at 100 degrees Celsius."]
    assert q1["pos_grades"] == [3, 3]
    assert q1["more_pos_ids"] == ["d1", "d4"]  # so that mining never takes them as negatives
    assert "more_pos_ids" not in split(data, "train")[1]  # nothing dropped, nothing named
    assert "dropped 2 train positives" in result.output
    result = emb("import", "beir", source, "--data-dir", data, "--max-positives", "3", "--force")
    assert split(data, "train")[0]["pos_grades"] == [1, 3, 3]
    assert split(data, "train")[0]["more_pos_ids"] == ["d4"]
    assert split(data, "gold")[0]["pos"] == split(tmp_path / "data", "gold")[0]["pos"]


# --- --force and atomicity ------------------------------------------------------------------


def test_existing_splits_are_kept_without_force_and_after_a_failed_import(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = {name: f'{{"query": "old {name}", "pos": ["x"]}}\n' for name in ("train", "dev", "gold")}
    for name, text in old.items():
        (data / f"{name}.jsonl").write_text(text)
    (data / "corpus.jsonl").write_text('{"_id": "old", "text": "old"}\n')
    source = beir_folder(tmp_path / "beir")

    refused = emb("import", "beir", source, "--data-dir", data)
    assert refused.exit_code == 1 and "pass --force to replace them" in refused.output

    broken = beir_folder(tmp_path / "broken", test="q1\tnope\t1\n")
    failed = emb("import", "beir", broken, "--data-dir", data, "--force")
    assert failed.exit_code == 1 and "unknown corpus-id" in failed.output
    for name, text in old.items():
        assert (data / f"{name}.jsonl").read_text() == text
    assert (data / "corpus.jsonl").read_text() == '{"_id": "old", "text": "old"}\n'
    assert sorted(path.name for path in data.iterdir()) == [
        "corpus.jsonl",
        "dev.jsonl",
        "gold.jsonl",
        "train.jsonl",
    ]

    emb("import", "beir", source, "--data-dir", data, "--force")
    assert split(data, "gold")[0]["query"] == "capital of france"
    # An import without a corpus removes the old one: it belongs to the replaced splits.
    flag = tmp_path / "flag.jsonl"
    write_jsonl(flag, [{"query": f"question {i}", "pos": [f"answer {i}"]} for i in range(10)])
    emb("import", "flag", flag, "--data-dir", data, "--force")
    assert not (data / "corpus.jsonl").exists()


# --- export and round trips -------------------------------------------------------------


def test_beir_round_trip_gives_the_same_splits(tmp_path: Path) -> None:
    train = TRAIN + "q3\td6\t0\r\n"
    source = beir_folder(tmp_path / "beir", train=train, dev="q6\td7\t1\nq8\td8\t1\n")
    first, again = tmp_path / "first", tmp_path / "again"
    emb("import", "beir", source, "--data-dir", first)
    exported = emb("export", "beir", tmp_path / "out", "--data-dir", first)
    assert exported.exit_code == 0, exported.output
    assert "qrels/test.tsv: 3 judgments" in exported.output
    emb("import", "beir", tmp_path / "out", "--data-dir", again)
    for name in ("train", "dev", "gold", "corpus"):
        assert (again / f"{name}.jsonl").read_bytes() == (first / f"{name}.jsonl").read_bytes()


def test_beir_export_of_a_lab_without_corpus_or_ids(tmp_path: Path) -> None:
    source = tmp_path / "flag.jsonl"
    rows = [{"query": f"q {i}", "pos": [f"p {i}"], "neg": ["shared negative"]} for i in range(10)]
    write_jsonl(source, rows)
    first, again = tmp_path / "first", tmp_path / "again"
    emb("import", "flag", source, "--data-dir", first)
    emb("export", "beir", tmp_path / "out", "--data-dir", first)
    corpus = read_jsonl(tmp_path / "out" / "corpus.jsonl")
    assert len(corpus) == 11 and all(doc["_id"].startswith("emb-") for doc in corpus)
    emb("import", "beir", tmp_path / "out", "--data-dir", again)
    for name in ("train", "dev", "gold"):
        assert split(again, name) == split(first, name)


def test_st_export_round_trips_through_hf_import(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    data, again = tmp_path / "data", tmp_path / "again"
    emb("import", "beir", beir_folder(tmp_path / "beir", dev="q6\td7\t1\n"), "--data-dir", data)
    result = emb("export", "st", tmp_path / "st", "--data-dir", data)
    assert "train.parquet: 5 rows (anchor, positive)" in result.output
    emb(
        "import", "hf", tmp_path / "st", "--data-dir", again, "--gold", "gold",
        "--query-column", "anchor", "--pos-column", "positive",
    )  # fmt: skip
    for name in ("train", "dev", "gold"):
        expected = [(row["query"], row["pos"]) for row in split(data, name)]
        assert [(row["query"], row["pos"]) for row in split(again, name)] == expected


@pytest.mark.parametrize("format_name", ["beir", "st"])
def test_export_reads_the_splits_by_the_data_contract(tmp_path: Path, format_name: str) -> None:
    data = tmp_path / "data"
    emb("import", "beir", beir_folder(tmp_path / "beir"), "--data-dir", data)
    rows = read_jsonl(data / "dev.jsonl")
    write_jsonl(data / "dev.jsonl", [rows[0], {"query": "q9", "pos": ["  "]}])  # a blank positive
    result = emb("export", format_name, tmp_path / "out", "--data-dir", data)
    assert result.exit_code == 1
    # the lab's own one-line error for this line, from the contract both read by
    assert result.output == f"Error: {data / 'dev.jsonl'}:2: 'pos'[0] is empty\n"
    assert not (tmp_path / "out" / "queries.jsonl").exists()


def test_st_export_writes_the_rows_the_lab_trains_on(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    data = tmp_path / "data"
    lines = [{"query": "q1", "pos": ["p1", "p2", "p3"], "neg": ["n1", "n2"]},
             {"query": "q2", "pos": ["p4"], "neg": ["n3"]}]  # fmt: skip
    for name in ("train", "dev", "gold"):
        write_jsonl(data / f"{name}.jsonl", lines)
    emb("export", "st", tmp_path / "st", "--data-dir", data)
    table = pq.read_table(tmp_path / "st" / "train.parquet").to_pydict()
    assert table == {"anchor": ["q1", "q1", "q1", "q2"], "positive": ["p1", "p2", "p3", "p4"],
                     "negative": ["n1", "n2", "n1", "n3"]}  # fmt: skip


def test_export_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    emb("import", "beir", beir_folder(tmp_path / "beir"), "--data-dir", data)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = emb("export", "beir", tmp_path / "out", "--data-dir", data)
    assert result.exit_code == 1 and "pass --force" in result.output
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


# --- flag -------------------------------------------------------------------------------


def test_flag_one_file_is_split_by_query(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"id": i, "query": f"question {i % 20}", "pos": f"answer {i}", "prompt": "Represent: "}
        for i in range(40)
    ]
    rows[5] = {"query": "no positive", "pos": []}
    source = tmp_path / "flag.jsonl"
    write_jsonl(source, rows)
    data = tmp_path / "data"
    result = emb(
        "import", "flag", source, "--data-dir", data, "--max-positives", "2",
        "--dev-fraction", "0.2", "--gold-fraction", "0.25",
    )  # fmt: skip
    assert "flag.jsonl: skipped 1 queries without a positive (line 6)" in result.output
    splits = {name: split(data, name) for name in ("train", "dev", "gold")}
    queries = {name: {row["query"] for row in rows} for name, rows in splits.items()}
    assert len(queries["gold"]) == 5 and len(queries["dev"]) == 4  # of 20 distinct queries
    assert not queries["train"] & queries["gold"] and not queries["dev"] & queries["gold"]
    assert all(isinstance(row["id"], str) for rows in splits.values() for row in rows)
    everything = [row for rows in splits.values() for row in rows]
    assert next(row for row in everything if row["id"] == "0")["prompt"] == "Represent: "


def test_flag_folder_per_split_and_bad_line(tmp_path: Path) -> None:
    folder = tmp_path / "flag"
    for name in ("train", "dev", "test"):
        write_jsonl(folder / f"{name}.jsonl", [{"query": f"{name} q", "pos": [f"{name} p"]}])
    scored = {"query": "scored", "pos": ["a", "b", "c", "d"], "pos_scores": [0.1, 0.9, 0.5, 0.9]}
    write_jsonl(folder / "train.jsonl", [{"query": "train q", "pos": ["train p"]}, scored])
    data = tmp_path / "data"
    result = emb("import", "flag", folder, "--data-dir", data, "--max-positives", "2")
    assert "train: 2 queries, 3 positives" in result.output
    assert split(data, "train")[1] == {
        "id": "q2", "query": "scored", "pos": ["b", "d"], "pos_scores": [0.9, 0.9]
    }  # fmt: skip
    assert split(data, "gold") == [{"id": "q4", "query": "test q", "pos": ["test p"]}]
    (folder / "dev.jsonl").write_text(
        '{"query": "ok", "pos": ["p"]}\r\n{"query": "x", "pos": [1]}\n'
    )
    result = emb("import", "flag", folder, "--data-dir", tmp_path / "other")
    assert result.exit_code == 1
    assert 'dev.jsonl:2: "pos" must be a string or a list of strings' in result.output


def test_import_keeps_the_check_exit_status(tmp_path: Path) -> None:
    folder = tmp_path / "flag"
    rows = [{"query": "leaked query", "pos": ["a passage"]}, {"query": "other", "pos": ["b"]}]
    for name in ("train", "dev", "test"):
        write_jsonl(folder / f"{name}.jsonl", rows if name != "dev" else rows[1:])
    result = emb("import", "flag", folder, "--data-dir", tmp_path / "data")
    assert result.exit_code == 1
    assert "query-leak" in result.output


# --- triplets ---------------------------------------------------------------------------


def test_triplets_tsv_and_jsonl_are_grouped_by_query(tmp_path: Path) -> None:
    folder = tmp_path / "triplets"
    folder.mkdir()
    (folder / "train.tsv").write_bytes(
        b"query\tpositive\tnegative\r\nq a\tp1\tn1\r\nq a\tp2\tn1\r\nq b\tp3\tn2\r\nq a\tp1\tn3\r\n"
    )
    (folder / "test.tsv").write_bytes(b"q c\tp4\n")  # no header, no negative
    write_jsonl(folder / "dev.jsonl", [{"anchor": "q d", "positive": "p5", "negative": "n5"}])
    data = tmp_path / "data"
    result = emb("import", "triplets", folder, "--data-dir", data)
    assert "train: 2 queries, 3 positives, 3 negatives" in result.output
    assert split(data, "train")[0] == {
        "id": "q1", "query": "q a", "pos": ["p1", "p2"], "neg": ["n1", "n3"]
    }  # fmt: skip
    assert split(data, "dev")[0]["neg"] == ["n5"]
    (folder / "test.tsv").write_bytes(b"q c\tp4\n\nq d\n")
    result = emb("import", "triplets", folder, "--data-dir", tmp_path / "other")
    assert result.exit_code == 1 and "test.tsv:3: expected query, positive[, negative]" in (
        result.output
    )


# --- hf ---------------------------------------------------------------------------------


def test_hf_save_to_disk_with_named_splits(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")

    def part(prefix: str, count: int) -> Any:
        return datasets.Dataset.from_dict(
            {
                "question": [f"{prefix} question {i}" for i in range(count)],
                "answers": [[f"{prefix} answer {i}", f"{prefix} extra {i}"] for i in range(count)],
                "qid": list(range(count)),
            }
        )

    saved = tmp_path / "saved"
    datasets.DatasetDict(
        {"train": part("train", 6), "validation": part("dev", 2), "test": part("test", 2)}
    ).save_to_disk(str(saved))
    data = tmp_path / "data"
    result = emb(
        "import", "hf", saved, "--data-dir", data, "--query-column", "question",
        "--pos-column", "answers", "--id-column", "qid",
    )  # fmt: skip
    assert "dev: 2 queries, 4 positives" in result.output
    assert split(data, "gold")[1] == {
        "id": "1", "query": "test question 1", "pos": ["test answer 1", "test extra 1"]
    }  # fmt: skip
    missing = emb("import", "hf", saved, "--data-dir", tmp_path / "x", "--pos-column", "nope")
    assert missing.exit_code == 1 and "no column query, nope" in missing.output


# --- the lab reads what import writes ---------------------------------------------------


def test_baked_lab_loads_imported_beir(bake, tmp_path: Path) -> None:
    lab = bake()
    source = beir_folder(tmp_path / "beir", dev="q6\td7\t1\n")
    result = emb("import", "beir", source, "--data-dir", lab.path / "data", "--force")
    assert result.exit_code in (0, 1), result.output
    process = lab.run(
        "-c",
        "from pathlib import Path\n"
        "from inventory.datasets import load_splits\n"
        "from inventory.preprocess import clean_splits\n"
        "splits, reports = clean_splits(load_splits(Path('data')))\n"
        "corpus = {document.text for document in splits.corpus}\n"
        "print(all(text in corpus for record in splits.gold for text in record.pos))\n"
        "print(*reports, sep='\\n')\n",
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("True\n")
    assert "gold: kept 2 of 2" in process.stdout


# --- import, then repair -------------------------------------------------------------------

LEAKING_TRAIN = TRAIN + "q5\td5\t1\r\n"  # q5 is a gold query too


def test_a_failing_import_names_the_repairing_command_last(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = emb("import", "beir", beir_folder(tmp_path / "beir", train=LEAKING_TRAIN),
                 "--data-dir", data)  # fmt: skip
    assert result.exit_code == 1
    last = result.output.splitlines()[-1]
    assert last.startswith(f"repair: `emb check --fix {data}` (or the import again with --fix)")
    assert "query-leak" in last


def test_import_with_fix_repairs_and_leaves_gold(tmp_path: Path) -> None:
    source = beir_folder(tmp_path / "beir", train=LEAKING_TRAIN)
    plain, fixed = tmp_path / "plain", tmp_path / "fixed"
    emb("import", "beir", source, "--data-dir", plain)
    result = emb("import", "beir", source, "--data-dir", fixed, "--fix")
    assert result.exit_code == 0, result.output
    assert "repairing it as `emb check --fix" in result.output
    assert (fixed / "gold.jsonl").read_bytes() == (plain / "gold.jsonl").read_bytes()
    assert (fixed / ".before-fix" / "train.jsonl").read_bytes() == (
        plain / "train.jsonl"
    ).read_bytes()
    assert "q5" not in {row["id"] for row in split(fixed, "train") + split(fixed, "dev")}
    assert [r["kind"] for r in read_jsonl(fixed / "fix-report.jsonl")] == ["query-leak"]


def test_many_positives_per_query_name_max_positives(tmp_path: Path) -> None:
    docs = ("d1", "2", "d3", "d4", "d6", "d7", "d8")  # d5 is gold's
    many = "".join(f"q{q}\t{doc}\t1\n" for q in (1, 2, 3) for doc in docs)
    source = beir_folder(tmp_path / "beir", train=many, dev="q6\td7\t1\n")
    result = emb("import", "beir", source, "--data-dir", tmp_path / "data")
    note = next(line for line in result.output.splitlines() if "--max-positives 1" in line)
    assert "train holds 21 positives for 3 queries (7 per query" in note
    assert "--max-positives 1 would leave 3 (--max-positives 5: 15)" in note
    capped = emb("import", "beir", source, "--data-dir", tmp_path / "capped",
                 "--max-positives", "1")  # fmt: skip
    assert "would leave" not in capped.output
