"""Token counts with a Hugging Face `tokenizers` tokenizer (optional dependency)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from embed_lab.check.errors import CheckError

if TYPE_CHECKING:
    from tokenizers import Tokenizer


def load_tokenizer(path: Path) -> Tokenizer:
    """Load PATH/tokenizer.json, or PATH itself when it is a file."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise CheckError(
            "--tokenizer needs the 'tokenizers' package: pip install tokenizers"
        ) from None
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise CheckError(f"{file}: no such tokenizer file")
    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as error:  # the Rust side raises plain Exception with a message
        raise CheckError(f"{file}: not a tokenizers tokenizer.json ({error})") from None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def token_counts(tokenizer: Tokenizer, texts: list[str]) -> list[int]:
    """Tokens per text as the model sees them (special tokens included)."""
    return [len(encoding.ids) for encoding in tokenizer.encode_batch(texts)]
