"""`emb check`: planted defects, malformed input, exit codes, JSON report, options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from embed_lab.check import scan as scan_module
from embed_lab.check.kinds import FINDING_KINDS
from embed_lab.check.normalize import normalize_text
from embed_lab.check.runner import CheckOptions, run_check
from embed_lab.check.stats import Histogram
from embed_lab.cli import main

Row = dict[str, Any]


def row(query: str, pos: list[str], neg: list[str] | None = None, **extra: Any) -> Row:
    return {"query": query, "pos": pos, **({"neg": neg} if neg is not None else {}), **extra}


CLEAN = {
    "train": [
        row("what is a latte", ["A latte is coffee with steamed milk."], ["Tea is a drink."]),
        row("how tall is everest", ["Everest is 8849 metres tall."], id="t2"),
        row("who wrote hamlet", ["Hamlet was written by Shakespeare."]),
    ],
    "dev": [row("capital of france", ["Paris is the capital of France."])],
    "gold": [row("boiling point of water", ["Water boils at 100 degrees Celsius."])],
}


def write_lines(path: Path, lines: list[Row | str | bytes]) -> None:
    with path.open("wb") as file:
        for line in lines:
            if isinstance(line, dict):
                line = json.dumps(line, ensure_ascii=False)
            file.write((line.encode() if isinstance(line, str) else line) + b"\n")


def make_lab(tmp_path: Path, **splits: list[Row | str | bytes]) -> Path:
    """A data dir holding CLEAN, with the given splits replaced."""
    data = tmp_path / "data"
    data.mkdir(parents=True)
    for name, rows in {**CLEAN, **splits}.items():
        write_lines(data / f"{name}.jsonl", rows)
    return data


def check(data: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["check", str(data), "--json", *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def findings(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if finding["kind"] == kind]


def only(report: dict[str, Any], kind: str) -> dict[str, Any]:
    found = findings(report, kind)
    assert len(found) == 1, report["findings"]
    return found[0]


# --- normalisation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Ｃａｆé  Latte", "café latte", "CAFÉ\tLATTE ", "cafe\u0301 latte", " Café\u00a0latte"]
)
def test_unicode_case_and_whitespace_variants_normalise_alike(text: str) -> None:
    assert normalize_text(text) == "café latte"


@pytest.mark.parametrize("text", ["cafe latte", "café lattes", "cafélatte"])
def test_near_misses_stay_distinct(text: str) -> None:
    assert normalize_text(text) != "café latte"


# --- clean data, exit codes ------------------------------------------------------------


def test_clean_lab_passes(tmp_path: Path) -> None:
    code, report = check(make_lab(tmp_path))
    assert code == 0
    assert report["ok"] is True
    assert report["findings"] == []
    train = report["splits"][0]
    assert (train["name"], train["rows"], train["distinct_queries"]) == ("train", 3, 3)
    assert train["neg_per_row"] == {"min": 0, "median": 0, "p95": 1, "max": 1, "mean": 0.33}


def test_human_table_names_findings_and_locations(tmp_path: Path) -> None:
    data = make_lab(tmp_path, dev=[row("WHO wrote  Hamlet", ["Another answer."])])
    result = CliRunner().invoke(main, ["check", str(data)], terminal_width=160)
    assert result.exit_code == 1
    assert "query-leak" in result.output
    assert "dev.jsonl:1 (also train.jsonl:3)" in result.output
    assert "fail the check (exit 1)" in result.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["check", str(tmp_path / "nowhere")]).exit_code == 2
    data = make_lab(tmp_path)
    assert runner.invoke(main, ["check", str(data), "--threshold", "2"]).exit_code == 2
    unknown = runner.invoke(main, ["check", str(data), "--allow", "nonsense"])
    assert unknown.exit_code == 2
    assert "duplicate-query" in unknown.output  # lists the valid kinds
    assert runner.invoke(main, ["check", str(data), "--tokenizer", "missing"]).exit_code == 2


def test_help_lists_every_finding_kind_with_its_severity() -> None:
    help_text = CliRunner().invoke(main, ["check", "--help"]).output
    errors, warnings = help_text.split("errors:")[1].split("warnings:")
    for kind, (severity, _) in FINDING_KINDS.items():
        assert kind in (errors if severity == "error" else warnings)


def test_default_data_dir_is_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_lab(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["check"]).exit_code == 0


# --- duplicates within a split -----------------------------------------------------------


def test_duplicate_queries_and_pairs_after_normalisation(tmp_path: Path) -> None:
    train = [
        row("Ｃａｆé  Latte", ["Milk coffee."]),  # line 1
        row("café latte", ["Another passage."]),  # same query
        row("cafe latte", ["A near miss: no accent."]),  # not the same query
        row("CAFÉ LATTE", ["milk   COFFEE."]),  # same query and same pair as line 1
        row("who wrote hamlet", ["Shakespeare."]),
    ]
    code, report = check(make_lab(tmp_path, train=train))
    assert code == 1
    queries = only(report, "duplicate-query")
    assert queries["count"] == 2
    assert queries["splits"] == ["train"]
    assert [e["locations"] for e in queries["examples"]] == [
        ["train.jsonl:2", "train.jsonl:1"],
        ["train.jsonl:4", "train.jsonl:1"],
    ]
    assert "café latte" in queries["examples"][0]["detail"]
    pairs = only(report, "duplicate-pair")
    assert pairs["count"] == 1
    assert pairs["examples"][0]["locations"] == ["train.jsonl:4", "train.jsonl:1"]
    assert "milk COFFEE." in pairs["examples"][0]["detail"]


def test_same_positive_twice_in_one_row_is_a_duplicate_pair(tmp_path: Path) -> None:
    code, report = check(make_lab(tmp_path, dev=[row("q one", ["Same text.", "same  TEXT."])]))
    assert code == 1
    assert only(report, "duplicate-pair")["count"] == 1


def test_false_negative_across_rows_and_within_a_row(tmp_path: Path) -> None:
    train = [
        row("what is a latte", ["A latte is coffee."], ["Tea."]),
        row("What is a LATTE", ["Other."], ["a latte is   coffee."]),  # line 2: false negative
        row("who wrote hamlet", ["Shakespeare."], ["Shakespeare."]),  # line 3: within the row
        row("tea or coffee", ["Tea."], ["A latte is coffee."]),  # other query: not one
    ]
    code, report = check(make_lab(tmp_path, train=train), "--allow", "duplicate-query")
    assert code == 1
    false_negatives = only(report, "false-negative")
    assert false_negatives["count"] == 2
    assert false_negatives["examples"][0]["locations"] == ["train.jsonl:1", "train.jsonl:2"]


# --- leaks across splits -----------------------------------------------------------------


def test_query_and_pair_leaks_between_every_two_splits(tmp_path: Path) -> None:
    dev = [
        row("WHO  wrote Hamlet", ["A different passage."]),  # query leak from train
        row("capital of france", ["Paris is the capital of France."]),
    ]
    gold = [
        row("how tall is Everest", ["Everest is 8849 metres tall."]),  # pair leak from train
        row("Capital of France ", ["Another one."]),  # query leak from dev
        row("who wrote hamlet?", ["Not a leak: punctuation differs."]),
    ]
    code, report = check(make_lab(tmp_path, dev=dev, gold=gold))
    assert code == 1
    leaks = {tuple(f["splits"]): f["count"] for f in findings(report, "query-leak")}
    assert leaks == {("train", "dev"): 1, ("train", "gold"): 1, ("dev", "gold"): 1}
    pair_leak = only(report, "pair-leak")
    assert pair_leak["splits"] == ["train", "gold"]
    assert pair_leak["examples"][0]["locations"] == ["gold.jsonl:1", "train.jsonl:2"]


def test_shared_documents_are_a_warning(tmp_path: Path) -> None:
    dev = [row("a new question", ["Hamlet was written by Shakespeare."], ["TEA IS A DRINK."])]
    data = make_lab(tmp_path, dev=dev)
    code, report = check(data)
    assert code == 0
    shared = only(report, "shared-document")
    assert (shared["count"], shared["severity"], shared["fails"]) == (2, "warning", False)
    assert check(data, "--strict")[0] == 1
    assert check(data, "--strict", "--allow", "shared-document")[0] == 0


def test_allow_turns_an_error_into_a_pass(tmp_path: Path) -> None:
    data = make_lab(tmp_path, dev=[row("a", ["x"]), row("A", ["y"])])
    assert check(data)[0] == 1
    code, report = check(data, "--allow", "duplicate-query", "--allow", "short-text")
    assert code == 0
    assert only(report, "duplicate-query")["fails"] is False


# --- malformed input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"query": "q", "pos": ["p"]', "invalid JSON"),
        (b'{"query": 3, "pos": ["p"]}', "'query' must be a string, got number"),
        (b'{"query": "  ", "pos": ["p"]}', "'query' is empty"),
        (b'{"pos": ["p"]}', "missing key 'query'"),
        (b'{"query": "q", "pos": "p"}', "'pos' must be an array of strings, got string"),
        (b'{"query": "q", "pos": []}', "'pos' is an empty array"),
        (b'{"query": "q", "pos": ["p", ""]}', "'pos'[1] is empty"),
        (b'{"query": "q", "pos": ["p"], "neg": [1]}', "'neg'[0] must be a string, got number"),
        (b'["q", ["p"]]', "expected a JSON object, got array"),
        (b'{"query": "caf\xe9", "pos": ["p"]}', "not valid UTF-8: byte 0xe9 at column 15"),
    ],
)
def test_schema_problems_name_file_line_and_reason(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    train = [CLEAN["train"][0], line, CLEAN["train"][1]]
    code, report = check(make_lab(tmp_path, train=train))
    assert code == 1
    schema = only(report, "schema")
    assert schema["count"] == 1
    assert schema["examples"][0]["locations"] == ["train.jsonl:2"]
    assert reason in schema["examples"][0]["detail"]
    assert report["splits"][0]["rows"] == 2  # the other lines are still checked


def test_bad_input_is_one_line_error_not_traceback(tmp_path: Path) -> None:
    data = make_lab(tmp_path, train=[b"\xff\xfe garbage", b"{"])
    result = subprocess.run(
        [sys.executable, "-c", "from embed_lab.cli import main; main()", "check", str(data)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "train.jsonl:1: not valid UTF-8" in result.stdout


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    data = make_lab(tmp_path)
    lines = [json.dumps(r).encode() for r in CLEAN["train"]]
    (data / "train.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    code, report = check(data)
    assert (code, report["findings"]) == (0, [])
    assert report["splits"][0]["rows"] == 3


def test_blank_lines_are_skipped_with_a_warning(tmp_path: Path) -> None:
    data = make_lab(tmp_path, dev=["", CLEAN["dev"][0], "   "])
    code, report = check(data)
    assert code == 0
    blank = only(report, "blank-line")
    assert blank["count"] == 2
    assert [e["locations"] for e in blank["examples"]] == [["dev.jsonl:1"], ["dev.jsonl:3"]]
    assert check(data, "--strict")[0] == 1


def test_empty_and_missing_split_files(tmp_path: Path) -> None:
    data = make_lab(tmp_path, dev=[])
    (data / "gold.jsonl").unlink()
    code, report = check(data)
    assert code == 1
    assert only(report, "empty-split")["splits"] == ["dev"]
    missing = only(report, "missing-split")
    assert missing["splits"] == ["gold"]
    assert "gold.jsonl does not exist" in missing["message"]
    assert report["splits"][2]["present"] is False
    assert check(data, "--allow", "empty-split", "--allow", "missing-split")[0] == 0


# --- JSON report -------------------------------------------------------------------------

SUMMARY_KEYS = {"min", "median", "p95", "max", "mean"}


def test_json_report_follows_the_documented_schema(tmp_path: Path) -> None:
    data = make_lab(tmp_path, dev=[row("WHO wrote hamlet", ["x y z"])])
    code, report = check(data, "--examples", "1")
    assert set(report) == {
        "schema_version", "data_dir", "ok", "exit_code", "options", "splits", "corpus",
        "findings", "summary",
    }  # fmt: skip
    assert report["corpus"] is None  # no corpus.jsonl
    assert (report["schema_version"], report["ok"], report["exit_code"]) == (1, False, code)
    assert set(report["options"]) == {
        "strict", "allow", "near_dup", "threshold", "tokenizer", "min_chars",
    }  # fmt: skip
    assert [split["name"] for split in report["splits"]] == ["train", "dev", "gold"]
    for split in report["splits"]:
        assert set(split) == {
            "name", "file", "present", "lines", "rows", "invalid_rows", "blank_lines",
            "distinct_queries", "pos_per_row", "neg_per_row", "chars", "tokens",
            "empty_texts", "short_texts",
        }  # fmt: skip
        assert set(split["chars"]) == {"query", "pos", "neg"}
        assert set(split["chars"]["query"]) == SUMMARY_KEYS
        assert split["tokens"] is None
    for finding in report["findings"]:
        assert set(finding) == {
            "kind", "severity", "fails", "splits", "count", "message", "examples",
        }  # fmt: skip
        assert finding["kind"] in FINDING_KINDS
        assert finding["severity"] in {"error", "warning"}
        assert len(finding["examples"]) <= 1
        for example in finding["examples"]:
            assert set(example) == {"locations", "detail"}
            assert all(":" in location for location in example["locations"])
    assert report["summary"]["failing"] == sum(f["fails"] for f in report["findings"])


# --- corpus.jsonl -----------------------------------------------------------------------


def doc(doc_id: Any, text: str, title: str | None = None) -> Row:
    return {"_id": doc_id, "text": text, **({"title": title} if title is not None else {})}


def test_corpus_ids_texts_and_schema(tmp_path: Path) -> None:
    corpus = [
        doc("d1", "Milk foams best cold.", "Milk"),  # line 1
        doc("d2", "milk   FOAMS best cold.", "MILK"),  # same text (normalised), other id
        doc("d1", "Another text."),  # repeated id
        doc("d3", " ", " "),  # no text
        doc(4, "Integer id."),  # schema
        "",  # blank
        doc("d5", "Fine."),
    ]
    data = make_lab(tmp_path, corpus=corpus)
    code, report = check(data)
    assert code == 1
    ids = only(report, "duplicate-id")
    assert (ids["count"], ids["splits"], ids["fails"]) == (1, ["corpus"], True)
    assert ids["examples"][0]["locations"] == ["corpus.jsonl:3", "corpus.jsonl:1"]
    assert ids["examples"][0]["detail"] == "_id 'd1': 'Another text.'"
    same = only(report, "duplicate-document")
    assert (same["count"], same["severity"]) == (1, "warning")
    assert same["examples"][0]["locations"] == ["corpus.jsonl:2", "corpus.jsonl:1"]
    assert "MILK milk FOAMS" in same["examples"][0]["detail"]
    assert only(report, "empty-document")["examples"][0]["locations"] == ["corpus.jsonl:4"]
    schema = only(report, "schema")
    assert schema["splits"] == ["corpus"]
    assert schema["examples"][0]["locations"] == ["corpus.jsonl:5"]
    assert schema["examples"][0]["detail"] == "'_id' must be a string, got number"
    assert only(report, "blank-line")["splits"] == ["corpus"]
    assert report["corpus"] == {
        "file": "corpus.jsonl", "lines": 7, "documents": 5, "invalid_rows": 1, "blank_lines": 1,
        "distinct_ids": 4, "distinct_texts": 3, "empty_documents": 1,
        "chars": {"min": 1, "median": 13, "p95": 28, "max": 28, "mean": 14.6},
    }  # fmt: skip
    human = CliRunner().invoke(main, ["check", str(data)], terminal_width=200).output
    assert "corpus.jsonl: 5 documents, 4 distinct ids" in human
    assert "corpus.jsonl:3 (also corpus.jsonl:1): _id 'd1'" in human


def test_a_clean_corpus_passes_and_repeated_texts_warn(tmp_path: Path) -> None:
    corpus = [doc("d1", "Pump primes.", "Pump"), doc("d2", "Descale monthly.")]
    code, report = check(make_lab(tmp_path / "a", corpus=corpus))
    assert (code, report["findings"], report["corpus"]["documents"]) == (0, [], 2)
    repeated = [*corpus, doc("d3", "Descale monthly.", "")]
    code, report = check(make_lab(tmp_path / "c", corpus=repeated))
    assert code == 0
    assert only(report, "duplicate-document")["count"] == 1
    assert check(make_lab(tmp_path / "d", corpus=repeated), "--strict")[0] == 1
    assert check(make_lab(tmp_path / "e", corpus=[]))[0] == 0  # an empty corpus is no corpus


def test_large_corpus_is_scanned_in_parallel_parts_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embed_lab.check.corpus import scan_corpus

    lines: list[Row | str | bytes] = [doc(f"d{i % 1700}", f"text {i % 1900}") for i in range(3000)]
    lines[1200] = "not json"
    path = tmp_path / "corpus.jsonl"
    write_lines(path, lines)
    single = scan_corpus(path, workers=1)
    monkeypatch.setattr(scan_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan_module, "PART_BYTES", 8 << 10)
    parallel = scan_corpus(path, workers=2)
    assert parallel.as_dict() == single.as_dict()
    assert parallel.problems == single.problems
    for mine, theirs in ((single.ids, parallel.ids), (single.texts, parallel.texts)):
        assert (mine.repeats, mine.examples) == (theirs.repeats, theirs.examples)
    assert single.ids.repeats == 2999 - 1700


# --- short texts, near-duplicates, tokens ------------------------------------------------


def test_very_short_texts_are_a_warning(tmp_path: Path) -> None:
    code, report = check(make_lab(tmp_path, dev=[row("ok?", ["x"], ["", "fine text"])]))
    assert code == 0
    short = only(report, "short-text")
    assert short["count"] == 2  # "x" and "" ("ok?" has 3 characters: not short)
    assert report["splits"][1]["empty_texts"] == 1


def test_near_duplicates_within_and_across_splits(tmp_path: Path) -> None:
    long_query = "how do i reset the password of my laptop running windows ten today"
    train = [*CLEAN["train"], row(long_query, ["a"]), row("covid vaccine side effects", ["b"])]
    dev = [row(long_query.replace("today", "now"), ["c"])]  # one word of 13 differs
    gold = [row("covid vaccine side effect", ["d"]), row("stock market crash", ["e"])]
    data = make_lab(tmp_path, train=train, dev=dev, gold=gold)
    code, report = check(data, "--near-dup", "--allow", "short-text")
    assert code == 0  # a warning
    near = {tuple(f["splits"]): f for f in findings(report, "near-duplicate")}
    assert set(near) == {("train", "dev"), ("train", "gold")}
    assert near[("train", "dev")]["examples"][0]["locations"] == ["dev.jsonl:1", "train.jsonl:4"]
    assert "Jaccard" in near[("train", "gold")]["examples"][0]["detail"]
    assert check(data, "--near-dup", "--strict", "--allow", "short-text")[0] == 1
    assert check(data, "--near-dup", "--threshold", "0.99", "--allow", "short-text")[0] == 0


def test_no_near_duplicates_among_different_queries(tmp_path: Path) -> None:
    code, report = check(make_lab(tmp_path), "--near-dup")
    assert (code, report["findings"]) == (0, [])


def test_near_dup_without_datasketch_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasketch", None)
    result = CliRunner().invoke(main, ["check", str(make_lab(tmp_path)), "--near-dup"])
    assert result.exit_code == 2
    assert "pip install 'embed-lab[near-dup]'" in result.stderr


def build_tokenizer(directory: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = [
        "[UNK]",
        "what",
        "is",
        "a",
        "latte",
        "how",
        "tall",
        "everest",
        "who",
        "wrote",
        "hamlet",
        "##s",
    ]
    tokenizer = Tokenizer(models.WordPiece({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    directory.mkdir()
    tokenizer.save(str(directory / "tokenizer.json"))
    return directory


def test_token_lengths_with_a_tokenizer(tmp_path: Path) -> None:
    tokenizer = build_tokenizer(tmp_path / "tok")
    code, report = check(make_lab(tmp_path), "--tokenizer", str(tokenizer))
    assert code == 0
    assert report["options"]["tokenizer"] == str(tokenizer)
    train_query_tokens = report["splits"][0]["tokens"]["query"]
    assert (train_query_tokens["min"], train_query_tokens["max"]) == (3, 4)
    assert report["splits"][1]["tokens"]["query"]["max"] == 3  # "capital of france": all [UNK]
    # A tokenizer.json file works as well as its folder.
    file_code, _ = check(make_lab(tmp_path / "b"), "--tokenizer", str(tokenizer / "tokenizer.json"))
    assert file_code == 0


def test_tokenizer_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_lab(tmp_path)
    not_a_tokenizer = tmp_path / "bad.json"
    not_a_tokenizer.write_text("{}")
    bad = CliRunner().invoke(main, ["check", str(data), "--tokenizer", str(not_a_tokenizer)])
    assert bad.exit_code == 2
    assert "not a tokenizers tokenizer.json" in bad.stderr
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    missing = CliRunner().invoke(main, ["check", str(data), "--tokenizer", str(not_a_tokenizer)])
    assert missing.exit_code == 2
    assert "pip install tokenizers" in missing.stderr


# --- streaming internals -----------------------------------------------------------------


def test_parallel_scan_matches_a_single_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[Row | str | bytes] = [
        row(f"query {i % 700}", [f"doc {i % 900}"]) for i in range(3000)
    ]
    rows[1500] = "not json"
    path = tmp_path / "train.jsonl"
    write_lines(path, rows)
    single = scan_module.scan_split("train", path, workers=1)
    monkeypatch.setattr(scan_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan_module, "PART_BYTES", 8 << 10)
    parallel = scan_module.scan_split("train", path, workers=2)
    assert parallel.lines == single.lines == 3000
    assert parallel.problems == single.problems
    assert parallel.stats.as_dict() == single.stats.as_dict()
    for mine, theirs in zip(single.indexes(), parallel.indexes(), strict=True):
        assert mine.repeats == theirs.repeats
        assert mine.examples == theirs.examples
        assert mine.digests.tolist() == theirs.digests.tolist()
        assert mine.first_lines.tolist() == theirs.first_lines.tolist()
    assert single.queries.repeats == 2999 - 700  # valid rows - distinct queries


def test_histogram_quantiles_are_nearest_rank() -> None:
    histogram = Histogram()
    histogram.add(__import__("numpy").array(list(range(1, 101))))
    assert histogram.summary() == {"min": 1, "median": 50, "p95": 95, "max": 100, "mean": 50.5}


def test_progress_bar_goes_to_stderr_only(tmp_path: Path) -> None:
    result = run_check(make_lab(tmp_path), CheckOptions(progress=True))
    assert result.exit_code == 0


def test_cli_import_stays_light() -> None:
    probe = (
        "import sys, embed_lab.cli; print(sorted({'numpy', 'rich', 'orjson'} & set(sys.modules)))"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    assert output.strip() == "[]"
