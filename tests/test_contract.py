"""One data contract: `emb check` fails on a contract finding exactly when the lab stops.

The lab's side runs in a baked lab (load_splits + clean_splits, as exp_01_baseline does); the
check's side is run_check. Both read the edge cases of tests/contract_cases.py.
"""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from embed_lab.check import reader
from embed_lab.check.normalize import normalize_text
from embed_lab.check.runner import CheckOptions, run_check
from embed_lab.template import LAB_TREE, load_contract, template_dir
from tests.conftest import REPO_ROOT
from tests.contract_cases import CASES, MAX_DEPTH, MAX_LINE_BYTES, Case, split_line

CONTRACT_KINDS = {"schema", "empty-split", "missing-split"}
"""Findings about the contract; duplicates and leaks are the check's own business."""

LAB_DRIVER = """
import json, sys, traceback
from pathlib import Path
from inventory.datasets import load_splits
from inventory.errors import LabError
from inventory.preprocess import clean_splits

verdicts = {}
for folder in sys.argv[1:]:
    try:
        clean_splits(load_splits(Path(folder)))
        verdicts[folder] = {"stops": False, "message": ""}
    except LabError as error:
        verdicts[folder] = {"stops": True, "message": str(error)}
    except BaseException:
        verdicts[folder] = {"stops": None, "message": traceback.format_exc()}
print(json.dumps(verdicts))
"""


@pytest.fixture(scope="module")
def lab(cookies_session) -> Path:
    result = cookies_session.bake(
        extra_context={"lab_name": "contract-lab", "init_git": False}, template=str(REPO_ROOT)
    )
    assert result.exit_code == 0, result.exception
    return result.project_path


@pytest.fixture(scope="module")
def case_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("contract-cases")
    return {case.name: case.write(root / case.name) for case in CASES}


@pytest.fixture(scope="module")
def lab_verdicts(lab: Path, case_dirs: dict[str, Path]) -> dict[str, dict]:
    folders = [str(folder) for folder in case_dirs.values()]
    result = subprocess.run(
        [sys.executable, "-c", LAB_DRIVER, *folders], cwd=lab, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    by_folder = json.loads(result.stdout)
    return {name: by_folder[str(folder)] for name, folder in case_dirs.items()}


def test_cases_have_distinct_names() -> None:
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_lab_and_check_give_the_same_verdict(
    case: Case, case_dirs: dict[str, Path], lab_verdicts: dict[str, dict]
) -> None:
    lab = lab_verdicts[case.name]
    assert lab["stops"] is not None, f"the lab crashed:\n{lab['message']}"
    result = run_check(case_dirs[case.name], CheckOptions(progress=False))
    contract_findings = [f for f in result.findings if f.fails and f.kind in CONTRACT_KINDS]
    assert lab["stops"] == bool(contract_findings), (lab, contract_findings)
    assert ("fail" if lab["stops"] else "pass") == case.verdict, lab["message"]
    if not lab["stops"]:
        return
    file = case_dirs[case.name] / f"{case.file}.jsonl"
    assert "\n" not in lab["message"]
    if case.line is None:
        assert lab["message"].startswith(f"{file}: ")
        return
    # The same line, for the same reason, word for word.
    (finding,) = contract_findings
    example = finding.examples[0]
    assert [str(location) for location in example.locations] == [f"{file.name}:{case.line}"]
    assert lab["message"] == f"{file}:{case.line}: {example.detail}"


def test_emb_applies_the_template_contract_which_needs_only_the_standard_library() -> None:
    contract = load_contract()
    source = template_dir() / LAB_TREE / "inventory" / "contract.py"
    assert Path(contract.__file__) == source
    imported = {
        name.split(".")[0]
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in ([node.module] if isinstance(node, ast.ImportFrom) else
                     [alias.name for alias in node.names])
    }  # fmt: skip
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    assert reader.contract is contract
    assert (contract.MAX_DEPTH, contract.MAX_LINE_BYTES) == (MAX_DEPTH, MAX_LINE_BYTES)


def _contract_verdict(raw: bytes) -> object:
    contract = load_contract()
    if contract.is_blank_line(raw):
        return "blank"
    try:
        return ("value", contract.decode_line(raw))
    except contract.ContractError as error:
        return ("error", str(error))


def _fast_verdict(raw: bytes) -> object:
    try:
        value = reader.decode(raw)
    except load_contract().ContractError as error:
        return ("error", str(error))
    return "blank" if value is reader.BLANK else ("value", value)


# fmt: off
MUTATIONS = [
    b"\\", b'"', b"[", b"]", b"{", b"}", b",", b":", b"\x00", b"\x1f", b"\r", b"\t", b"\xe9",
    b"\xed\xa0\x80", b"\xef\xbb\xbf", b"NaN", b"1e999", b"-", b"\\ud800", b"\\udc00",
    b"\\ud83d\\ude00", b"\\u00e9", b"9" * 30, b" ", b"null", b"true",
]
# fmt: on


def test_orjson_fast_path_agrees_with_the_contract_decoder() -> None:
    """Random edits of valid lines: orjson (with its guards) never changes a verdict."""
    rng = random.Random(7)
    seeds = [split_line(number) for number in range(5)]
    seeds.append(b'{"query": "caf\\u00e9 \\ud83d\\ude00", "pos": ["x"], "n": [1.5, -2e3, {}]}')
    for _ in range(20_000):
        line = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(line) + 1)
            if rng.random() < 0.3 and at < len(line):
                del line[at : at + rng.randint(1, 3)]
            else:
                line[at:at] = rng.choice(MUTATIONS)
        raw = bytes(line)
        fast, slow = _fast_verdict(raw), _contract_verdict(raw)
        if fast != slow:  # numbers may differ in type only (orjson: float for huge ints)
            assert fast[0] == slow[0] == "value", (raw, fast, slow)
            assert orjson.dumps(fast[1]) == orjson.dumps(slow[1], default=float), raw


def test_empty_after_normalisation_is_the_same_rule_everywhere() -> None:
    """contract.is_blank, the lab's normalise and emb's normalize_text agree on every
    character (and so on every text: normalisation never turns a non-space into a space)."""
    contract = load_contract()
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        blank = contract.is_blank(char)
        assert blank == (not contract.normalise(char)) == (not normalize_text(char)), hex(code)
