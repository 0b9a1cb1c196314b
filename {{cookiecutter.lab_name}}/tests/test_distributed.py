"""inventory.distributed with two real processes (torchrun, gloo on CPU) and without a launcher."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_TEXTS

from inventory import distributed
from inventory.config import LAB_ROOT
from inventory.datasets import Document, Record
from inventory.retrieval import build_task

# Run by torchrun in every process: a main-only function (that calls another one), a LabError in
# the ranks named by the second argument, a broadcast, a print, and gold scored (shared encoding).
SCRIPT = """
import json, sys
from pathlib import Path

import numpy as np

sys.path.insert(0, sys.argv[3])
sys.path.insert(0, sys.argv[3] + "/tests")
from inventory import distributed
from inventory.errors import LabError
from inventory.runner import run_experiment

out, failing = Path(sys.argv[1]), sys.argv[2].split(",")
calls = []


@distributed.main_process
def write(name):
    calls.append(name)
    if name == "outer":
        write("inner")  # nested: runs directly, no second meeting point
    (out / name).write_text(str(distributed.rank()), encoding="utf-8")
    return {"written by": distributed.rank()}


def main():
    result = write("outer")
    if str(distributed.rank()) in failing:  # the others wait for it at the next meeting point
        raise LabError(f"bad input seen by rank {distributed.rank()}")
    seen = distributed.broadcast(f"from rank {distributed.rank()}")
    print(f"printed by rank {distributed.rank()}")
    record = {"result": result, "calls": calls, "seen": seen, "world": distributed.world_size()}
    record["gold"], record["encoded"] = score_gold(out)
    (out / f"rank{distributed.rank()}.json").write_text(json.dumps(record), encoding="utf-8")


def score_gold(out):  # every rank encodes a share; rank 0 saves the vectors it got
    from conftest import build_static_model
    from test_distributed import GOLD_RECORDS, GOLD_CORPUS
    from inventory.embeddings import EmbeddingCache
    from inventory.evaluate import GoldEvaluation

    model = build_static_model()
    inference, encoded = model._inference, []

    def counted(inputs, **kwargs):  # the texts this process encodes
        encoded.append(len(inputs))
        return inference(inputs, **kwargs)

    model._inference = counted
    gold = GoldEvaluation(GOLD_RECORDS, GOLD_CORPUS, out / "eval")
    cache = EmbeddingCache(model)
    scores = gold.score_model(model, "before", cache)
    alone = score_alone(out, gold.task.documents)
    if distributed.is_main_process():
        np.save(out / "shared.npy", cache.encode(gold.task.documents, "document", "again"))
    return {"shared": scores, "alone": alone}, sum(encoded)


@distributed.main_process
def score_alone(out, documents):  # rank 0 alone, as without a launcher
    from conftest import build_static_model
    from test_distributed import GOLD_RECORDS, GOLD_CORPUS
    from inventory.embeddings import EmbeddingCache
    from inventory.evaluate import GoldEvaluation

    model = build_static_model()
    cache = EmbeddingCache(model)
    scores = GoldEvaluation(GOLD_RECORDS, GOLD_CORPUS, out / "alone").score_model(
        model, "before", cache
    )
    np.save(out / "alone.npy", cache.encode(documents, "document", "again"))
    return scores


run_experiment(main)
"""


GOLD_RECORDS = [Record(text, (SAMPLE_TEXTS[(i + 1) % 12],)) for i, text in enumerate(SAMPLE_TEXTS)]
GOLD_CORPUS = [Document(f"d{i}", f"{text} again") for i, text in enumerate(SAMPLE_TEXTS * 3)]


def torchrun(tmp_path: Path, failing: str = "") -> tuple[subprocess.CompletedProcess[str], float]:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", str(script), str(out), failing, str(LAB_ROOT)]  # fmt: skip
    start = time.monotonic()
    process = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    return process, time.monotonic() - start


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """One torchrun of SCRIPT that succeeds, shared by the tests that read its results."""
    folder = tmp_path_factory.mktemp("torchrun")
    process, _ = torchrun(folder)
    return process, folder / "out"


@pytest.mark.slow
def test_main_only_work_runs_once_and_every_rank_gets_its_result(launched) -> None:
    process, out = launched
    assert process.returncode == 0, process.stderr[-3000:]
    assert (out / "outer").read_text(encoding="utf-8") == "0"
    assert (out / "inner").read_text(encoding="utf-8") == "0"
    ranks = [json.loads((out / f"rank{rank}.json").read_text(encoding="utf-8")) for rank in (0, 1)]
    assert ranks[0]["calls"] == ["outer", "inner"] and ranks[1]["calls"] == []
    for record in ranks:
        assert record["result"] == {"written by": 0}
        assert record["seen"] == "from rank 0"
        assert record["world"] == 2
    assert process.stdout.splitlines() == ["printed by rank 0"]


@pytest.mark.slow
def test_gold_encoding_is_shared_and_equals_one_process(launched) -> None:
    """Every rank encodes a share of gold's texts; the scores and vectors are one process's."""
    process, out = launched
    assert process.returncode == 0, process.stderr[-3000:]
    ranks = [json.loads((out / f"rank{rank}.json").read_text(encoding="utf-8")) for rank in (0, 1)]
    task = build_task(GOLD_RECORDS, "gold", GOLD_CORPUS)
    texts = len(task.queries) + len(task.documents)
    assert [rank["encoded"] for rank in ranks] == [texts // 2, texts - texts // 2]
    assert ranks[0]["gold"] == ranks[1]["gold"]
    assert ranks[0]["gold"]["shared"] == pytest.approx(ranks[0]["gold"]["alone"])
    np.testing.assert_allclose(np.load(out / "shared.npy"), np.load(out / "alone.npy"), rtol=1e-6)


@pytest.mark.slow
def test_an_error_every_rank_meets_is_reported_once(tmp_path: Path) -> None:
    """Bad input fails every process alike; rank 0 says so, the launcher stops the others.

    (A failure in rank 1 alone is tested with the baseline experiment, in embed-lab's own tests.)
    """
    process, seconds = torchrun(tmp_path, failing="0,1")
    assert process.returncode != 0
    lines = [line for line in process.stderr.splitlines() if line.startswith("error:")]
    assert lines == ["error: bad input seen by rank 0"], process.stderr[-3000:]
    assert "[rank" not in process.stderr, "no traceback from the processes themselves"
    assert seconds < 120


def test_without_a_launcher_everything_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORLD_SIZE", "RANK"):
        monkeypatch.delenv(name, raising=False)
    distributed.setup()  # a no-op
    calls = []

    @distributed.main_process
    def work(value: int) -> int:
        calls.append(value)
        return value + 1

    assert work(1) == 2 and calls == [1]
    assert distributed.broadcast("same") == "same"
    assert distributed.is_main_process() and distributed.prefix() == ""
