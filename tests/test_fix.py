"""`emb check --fix`: each finding kind repaired on hand-made data, gold untouched, the fix report,
originals, idempotence, atomicity, --dry-run, --allow, --json, mined files, near-duplicates."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from embed_lab.check.fix import publish
from embed_lab.check.fix.publish import REPORT
from embed_lab.cli import main
from tests.conftest import tree
from tests.test_check import Row, make_lab, row, write_lines


def fix(data: Path, *options: str) -> Result:
    result = CliRunner().invoke(main, ["check", str(data), "--fix", *options], terminal_width=200)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def fix_json(data: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = fix(data, "--json", *options)
    return result.exit_code, json.loads(result.stdout)


def rows(data: Path, split: str) -> list[Row]:
    return [json.loads(line) for line in (data / f"{split}.jsonl").read_text().splitlines()]


def report(data: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (data / "fix-report.jsonl").read_text().splitlines()]


def lines(data: Path, split: str) -> list[str]:
    return (data / f"{split}.jsonl").read_text().splitlines()


LEAKY = {
    "train": [
        row("what is a latte", ["A latte is coffee with steamed milk."]),
        row("Boiling point of WATER", ["Water boils at 100 degrees."]),  # leaks into gold
        row("capital of france", ["Paris."]),  # leaks into dev
        row("who wrote hamlet", ["Hamlet was written by Shakespeare."]),
    ],
    "dev": [
        row("capital of france", ["Paris is the capital of France."]),
        row("how tall is everest", ["Everest is 8849 metres tall."]),  # leaks into gold
        row("what is tea", ["Tea is brewed from leaves."]),
    ],
    "gold": [
        row("boiling point of water", ["Water boils at 100 degrees Celsius."]),
        row("How tall is Everest", ["Everest is 8849 metres tall."]),
    ],
}


def test_leaks_leave_train_and_dev_and_gold_stays_byte_identical(tmp_path: Path) -> None:
    data = make_lab(tmp_path, **LEAKY)
    originals = tree(data)
    result = fix(data)
    assert result.exit_code == 0, result.output
    assert (data / "gold.jsonl").read_bytes() == originals["gold.jsonl"]
    assert [r["query"] for r in rows(data, "train")] == ["what is a latte", "who wrote hamlet"]
    assert [r["query"] for r in rows(data, "dev")] == ["capital of france", "what is tea"]
    removed = {(r["file"], r["line"]): r for r in report(data)}
    assert set(removed) == {("train.jsonl", 2), ("train.jsonl", 3), ("dev.jsonl", 2)}
    assert removed["train.jsonl", 2]["splits"] == ["train", "gold"]
    assert removed["train.jsonl", 3]["splits"] == ["train", "dev"]
    assert removed["dev.jsonl", 2]["splits"] == ["dev", "gold"]
    assert {r["kind"] for r in removed.values()} == {"query-leak"}
    assert {r["action"] for r in removed.values()} == {"removed"}
    train_lines = originals["train.jsonl"].decode().splitlines()
    assert removed["train.jsonl", 2]["line_text"] == train_lines[1]  # verbatim
    before = data / ".before-fix"
    assert {p.name for p in before.iterdir()} == {"train.jsonl", "dev.jsonl"}
    assert (before / "train.jsonl").read_bytes() == originals["train.jsonl"]
    modes = {(data / name).stat().st_mode for name in ("gold.jsonl", "train.jsonl", REPORT)}
    assert len(modes) == 1  # as the user's files are, not a temporary file's private mode
    assert "originals kept in" in result.output and "passes" in result.output


def test_duplicate_queries_merge_into_one_line_and_nothing_is_lost(tmp_path: Path) -> None:
    first = {"id": "q1", "pos_grades": [2, 1], "more_pos_ids": ["d1"], "tags": ["a"]}
    second = {"id": "q9", "pos_grades": [3, 2], "more_pos_ids": ["d2", "d1"], "tags": ["b", "a"]}
    train = [
        row("who wrote hamlet", ["Shakespeare."]),
        row("café latte", ["Milk coffee.", "Espresso."], ["Tea."], **first, source="first"),
        row(
            "Ｃａｆé  Latte",
            ["A third passage.", "milk  COFFEE."],
            ["Juice.", "tea."],
            **second,
            source="second",
        ),  # fmt: skip
        row("CAFÉ LATTE", ["Espresso."], ["Espresso.", "Water."], neg_scores=[0.9, 0.1]),
    ]
    data = make_lab(tmp_path, train=train)
    assert fix(data).exit_code == 0
    merged = rows(data, "train")
    assert [r["query"] for r in merged] == ["who wrote hamlet", "café latte"]
    assert merged[1] == {
        "query": "café latte",
        "pos": ["Milk coffee.", "Espresso.", "A third passage."],
        "neg": ["Tea.", "Juice.", "Water."],
        "id": "q1",
        "pos_grades": [2, 1, 3],  # each positive keeps its grade; a repeat goes with its grade
        "more_pos_ids": ["d1", "d2"],
        "tags": ["a", "b"],
        "source": "first",
        "neg_scores": [None, None, 0.1],  # rows without neg_scores give null
    }
    records = {r["line"]: r for r in report(data)}
    assert records[3] == {
        "file": "train.jsonl", "line": 3, "action": "merged", "kind": "duplicate-query",
        "splits": ["train"], "into": 2, "line_text": lines(data / ".before-fix", "train")[2],
    }  # fmt: skip
    assert records[2]["action"] == "edited" and records[2]["merged_from"] == [3, 4]
    kinds = {(item["kind"], item["role"], item["text"]) for item in records[2]["removed"]}
    assert kinds == {
        ("duplicate-pair", "pos", "milk  COFFEE."),
        ("duplicate-pair", "pos", "Espresso."),
        ("false-negative", "neg", "Espresso."),
    }


def test_repeated_positive_in_one_row_and_false_negative_keep_scores_aligned(
    tmp_path: Path,
) -> None:
    dev = [
        row(
            "capital of france",
            ["Paris.", "Lyon.", "PARIS."],
            ["lyon.", "Nice."],
            pos_scores=[0.9, 0.5, 0.8],
            neg_scores=[0.4, 0.2],
        ),  # fmt: skip
    ]
    data = make_lab(tmp_path, dev=dev)
    assert fix(data).exit_code == 0
    assert rows(data, "dev") == [
        {"query": "capital of france", "pos": ["Paris.", "Lyon."], "neg": ["Nice."],
         "pos_scores": [0.9, 0.5], "neg_scores": [0.2]},
    ]  # fmt: skip


def test_duplicate_pairs_go_when_the_rows_of_a_query_are_allowed_to_stay(tmp_path: Path) -> None:
    train = [
        row("café latte", ["Milk coffee."], ["Tea."]),
        row("Café Latte", ["milk coffee.", "Espresso."]),  # loses its repeated positive
        row("CAFÉ LATTE", ["Milk  coffee."], ["Water."]),  # nothing left: the line goes
        row("who wrote hamlet", ["Shakespeare."]),
    ]
    data = make_lab(tmp_path, train=train)
    assert fix(data, "--allow", "duplicate-query").exit_code == 0
    assert rows(data, "train") == [train[0], row("Café Latte", ["Espresso."]), train[3]]
    records = {r["line"]: r for r in report(data)}
    assert records[2]["removed"] == [
        {"kind": "duplicate-pair", "splits": ["train"], "role": "pos", "text": "milk coffee."}
    ]
    assert (records[3]["action"], records[3]["kind"]) == ("removed", "duplicate-pair")


def test_allowed_kinds_are_left_alone(tmp_path: Path) -> None:
    train = [*LEAKY["train"], row("WHO wrote hamlet", ["Another passage."])]
    data = make_lab(tmp_path, train=train, gold=LEAKY["gold"])
    code, out = fix_json(data, "--allow", "duplicate-query", "--allow", "query-leak")
    assert code == 0
    assert len(rows(data, "train")) == len(train)  # nothing merged, nothing removed
    assert {a["kind"] for a in out["fix"]["actions"]} == set()
    assert out["fix"]["changed"] is False


def test_a_pair_leak_without_its_query_leak_takes_only_the_pair(tmp_path: Path) -> None:
    train = [
        row("what is a latte", ["A latte is coffee.", "Leaked passage."]),
        row("boiling point of water", ["Water boils at 100 degrees Celsius."]),
    ]
    gold = [
        row("What is a latte", ["Leaked passage."]),
        row("Boiling point of water", ["Water boils at 100 degrees Celsius."]),
    ]
    data = make_lab(tmp_path, train=train, gold=gold)
    assert fix(data, "--allow", "query-leak").exit_code == 0
    assert rows(data, "train") == [row("what is a latte", ["A latte is coffee."])]
    kinds = {(r["line"], r["action"], r.get("kind")) for r in report(data)}
    assert kinds == {(1, "edited", None), (2, "removed", "pair-leak")}


def test_second_fix_changes_nothing_and_a_later_one_keeps_the_first_originals(
    tmp_path: Path,
) -> None:
    data = make_lab(tmp_path, **LEAKY)
    original_train = (data / "train.jsonl").read_bytes()
    assert fix(data).exit_code == 0
    fixed = tree(data)
    again = fix(data)
    assert again.exit_code == 0 and "nothing to repair" in again.output
    assert tree(data) == fixed
    with (data / "train.jsonl").open("a") as file:  # a new problem appears
        file.write(json.dumps(row("WHAT IS TEA", ["Tea."])) + "\n")
    edited = (data / "train.jsonl").read_bytes()
    assert fix(data).exit_code == 0
    assert (data / ".before-fix" / "train.jsonl").read_bytes() == original_train
    assert (data / ".before-fix" / "2" / "train.jsonl").read_bytes() == edited
    assert (data / "train.jsonl").read_bytes() == fixed["train.jsonl"]
    assert len(report(data)) == 4  # three from the first fix, one appended by the second


def test_dry_run_writes_nothing_and_exits_as_the_check(tmp_path: Path) -> None:
    data = make_lab(tmp_path, **LEAKY)
    (data / "mined").mkdir()
    (data / "mined" / "exp_02.jsonl").write_text("{}\n")
    originals = tree(data)
    result = fix(data, "--dry-run")
    assert result.exit_code == 1
    assert "--fix would rewrite train.jsonl (4 → 2 lines), dev.jsonl (3 → 2 lines)" in result.output
    assert "nothing was written" in result.output
    code, out = fix_json(data, "--dry-run")
    assert code == 1 and out["ok"] is False  # the check's report, before any repair
    assert out["fix"]["dry_run"] is True and out["fix"]["report"] is None
    assert [change["file"] for change in out["fix"]["files"]] == ["train.jsonl", "dev.jsonl"]
    assert tree(data) == originals and not (data / ".before-fix").exists()


def test_a_failure_midway_leaves_the_old_splits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_lab(tmp_path, **LEAKY)
    originals = tree(data)
    calls = []
    real_replace = os.replace

    def failing_replace(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == 2:  # train.jsonl was replaced, dev.jsonl fails
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(publish.os, "replace", failing_replace)
    result = fix(data)
    assert result.exit_code == 2
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert tree(data) == originals  # train.jsonl put back; no report, no temporary file
    assert sorted(path.name for path in data.iterdir()) == [f"{s}.jsonl" for s in LEAKY_ORDER]


LEAKY_ORDER = ("dev", "gold", "train")


def test_corpus_lines_repeated_verbatim_collapse_and_two_texts_under_one_id_are_named(
    tmp_path: Path,
) -> None:
    data = make_lab(tmp_path)
    doc = {"_id": "d1", "title": "Latte", "text": "Coffee with milk."}
    write_lines(data / "corpus.jsonl", [doc, {"_id": "d2", "text": "Tea."}, doc, doc])
    assert fix(data).exit_code == 0
    assert [json.loads(line)["_id"] for line in lines(data, "corpus")] == ["d1", "d2"]
    assert [(r["line"], r["into"]) for r in report(data)] == [(3, 1), (4, 1)]
    with (data / "corpus.jsonl").open("a") as file:
        file.write(json.dumps({"_id": "d1", "text": "Another text."}) + "\n")
    result = fix(data)
    assert result.exit_code == 1
    assert "corpus.jsonl:3: _id 'd1' is also on line 1 with another text" in result.output
    assert len(lines(data, "corpus")) == 3


def test_gold_problems_and_invalid_lines_are_named_not_repaired(tmp_path: Path) -> None:
    gold = [*LEAKY["gold"], row("HOW TALL IS EVEREST", ["Another passage."])]
    train = [*LEAKY["train"], '{"query": "broken"']
    data = make_lab(tmp_path, train=train, gold=gold)
    original_gold = (data / "gold.jsonl").read_bytes()
    result = fix(data)
    assert result.exit_code == 1
    assert (data / "gold.jsonl").read_bytes() == original_gold
    assert "--fix never changes gold.jsonl" in result.output
    assert "--fix does not repair schema" in result.output
    assert lines(data, "train")[-1] == '{"query": "broken"'  # kept verbatim


def test_a_fix_that_would_empty_a_split_writes_nothing(tmp_path: Path) -> None:
    data = make_lab(tmp_path, train=[row("boiling point of water", ["Water boils."])])
    originals = tree(data)
    result = fix(data)
    assert result.exit_code == 2
    assert "would remove every row" in result.output
    assert tree(data) == originals


def test_mined_files_move_to_the_originals(tmp_path: Path) -> None:
    data = make_lab(tmp_path, **LEAKY)
    (data / "mined").mkdir()
    (data / "mined" / "exp_02.jsonl").write_text("{}\n")
    (data / "mined" / "exp_02.meta.json").write_text("{}\n")
    code, out = fix_json(data)
    assert code == 0
    assert out["fix"]["mined_moved"] == ["mined/exp_02.jsonl", "mined/exp_02.meta.json"]
    assert not (data / "mined").exists()
    assert (data / ".before-fix" / "mined" / "exp_02.jsonl").read_text() == "{}\n"


def test_json_says_what_was_done(tmp_path: Path) -> None:
    data = make_lab(tmp_path, **LEAKY)
    code, out = fix_json(data)
    assert code == 0 and out["ok"] is True and out["findings"] == []
    done = out["fix"]
    assert done["changed"] is True and done["number"] == 1 and done["dry_run"] is False
    assert done["files"] == [
        {"file": "train.jsonl", "lines_before": 4, "lines_after": 2},
        {"file": "dev.jsonl", "lines_before": 3, "lines_after": 2},
    ]
    actions = {tuple(a["splits"]): a["removed_lines"] for a in done["actions"]}
    assert actions == {("train", "gold"): 1, ("train", "dev"): 1, ("dev", "gold"): 1}
    assert done["before"]["failing"] == 4  # three query leaks, a pair leak (dev→gold)
    assert done["originals"] == str(data / ".before-fix")
    assert done["report"] == str(data / "fix-report.jsonl") and done["unresolved"] == []


def test_near_duplicate_leaks_only_with_the_flag(tmp_path: Path) -> None:
    pytest.importorskip("datasketch")
    train = [
        row("how do i descale my espresso machine at home", ["Run the descaling cycle."]),
        row("who wrote hamlet", ["Shakespeare."]),
    ]
    gold = [row("how do i descale my espresso machine at home quickly", ["Use citric acid."])]
    data = make_lab(tmp_path, train=train, gold=gold)
    assert fix(data).exit_code == 0
    assert len(rows(data, "train")) == 2  # not by default
    result = fix(data, "--fix-near-dup", "0.7")
    assert result.exit_code == 0, result.output
    assert [r["query"] for r in rows(data, "train")] == ["who wrote hamlet"]
    assert report(data)[-1]["kind"] == "near-duplicate"


def test_a_failing_check_names_the_repairing_command(tmp_path: Path) -> None:
    data = make_lab(tmp_path, **LEAKY)
    result = CliRunner().invoke(main, ["check", str(data)], terminal_width=200)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(f"repair: `emb check --fix {data}`")


def test_lines_left_alone_keep_their_bytes(tmp_path: Path) -> None:
    data = make_lab(tmp_path)
    kept = b'\xef\xbb\xbf{"query": "what is a latte",  "pos": ["Milk coffee."]}\r\n'
    leaked = json.dumps(row("boiling point of water", ["Water."])).encode() + b"\r\n"
    last = b'{"query": "who wrote hamlet", "pos": ["Shakespeare."]}'  # no newline at the end
    (data / "train.jsonl").write_bytes(kept + leaked + b"   \r\n" + last)
    assert fix(data).exit_code == 0
    assert (data / "train.jsonl").read_bytes() == kept + b"   \r\n" + last + b"\n"
    assert report(data)[0]["line_text"] == leaked.decode().rstrip("\r\n")
