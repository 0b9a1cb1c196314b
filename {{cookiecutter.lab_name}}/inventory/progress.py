"""What a run shows while it works: progress bars on a terminal, and no library noise.

Bars (with a rate and an ETA) go to stderr, and only when stderr is a terminal, so logs and CI
output hold the run's own lines and nothing else.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
_quiet = False


def interactive() -> bool:
    """True when stderr is a terminal: the only case in which progress bars are drawn."""
    return sys.stderr.isatty()


def bar(total: int, desc: str, unit: str = "it") -> tqdm:
    """A progress bar on stderr (drawn on a terminal only); call .update(n) and .close()."""
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not interactive())


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate over `items` with a progress bar on stderr (drawn on a terminal only)."""
    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, disable=not interactive())


def quiet_libraries(verbose: bool = False) -> None:
    """Silence what users cannot act on: load reports, info logs, library bars, warnings.

    With `verbose`, the libraries speak as they normally do.
    """
    global _quiet
    _quiet = not verbose
    if verbose:
        return
    import datasets
    import huggingface_hub
    import transformers

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the tokenizers fork warning
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Loading weights"
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    huggingface_hub.utils.disable_progress_bars()
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


@contextlib.contextmanager
def muted() -> Iterator[None]:
    """Swallow what a library prints to stderr inside the block (unless --verbose).

    For bars that have no switch, such as "Computing widget examples" when a trainer starts.
    """
    if not _quiet:
        yield
        return
    with contextlib.redirect_stderr(io.StringIO()):
        yield
