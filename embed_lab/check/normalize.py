"""Text normalisation and fixed-size digests, so duplicates are found without keeping texts."""

from __future__ import annotations

import hashlib
import sys
import unicodedata

import numpy as np

DIGEST_BYTES = 8


def normalize_text(text: str) -> str:
    """NFKC, casefold, collapse whitespace: "Ｃａｆé  Latte" and "café latte" become equal."""
    if text.isascii():
        # For ASCII, NFKC is the identity and casefold() equals lower(); this is the hot path.
        text = text.lower()
    else:
        # casefold() can un-normalise a few characters, hence NFKC on both sides.
        text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())


def digest_bytes(normalized: str) -> bytes:
    """An 8-byte blake2b digest of already normalised text."""
    return hashlib.blake2b(normalized.encode(), digest_size=DIGEST_BYTES).digest()


def text_digest(normalized: str) -> int:
    """The digest as the integer it becomes in a uint64 array (see digest_array)."""
    return int.from_bytes(digest_bytes(normalized), sys.byteorder)


def digest_array(digests: list[bytes]) -> np.ndarray:
    """Digests collected as bytes (cheaper per text than ints) as a uint64 array."""
    return np.frombuffer(b"".join(digests), dtype=np.uint64)


_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(30))
    values = values * _MIX_1
    values = values ^ (values >> np.uint64(27))
    values = values * _MIX_2
    return values ^ (values >> np.uint64(31))


def pair_digests(query_digests: np.ndarray, text_digests: np.ndarray) -> np.ndarray:
    """Digests of (query, text) pairs from the two texts' digests (order matters), vectorised."""
    with np.errstate(over="ignore"):
        return _splitmix64(query_digests * _GOLDEN ^ _splitmix64(text_digests))


def pair_digest(query_digest: int, text_digest_: int) -> int:
    """Scalar version of pair_digests, to recognise a pair when describing an example."""
    result = pair_digests(
        np.array([query_digest], dtype=np.uint64), np.array([text_digest_], dtype=np.uint64)
    )
    return int(result[0])
