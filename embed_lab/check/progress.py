"""A byte-based progress bar on stderr, shown for a terminal or a large input."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LARGE_INPUT_BYTES = 64 << 20


def wants_progress(total_bytes: int) -> bool:
    return sys.stderr.isatty() or total_bytes >= LARGE_INPUT_BYTES


@contextmanager
def byte_progress(
    description: str, total_bytes: int, enabled: bool
) -> Iterator[Callable[[str], Callable[[int], None]]]:
    """Yield `for_file(name)`, which returns a callback taking the bytes read of that file."""
    if not enabled:
        yield lambda name: lambda done: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    # No refresh thread (auto_refresh=False): workers are forked, and forking a process that
    # runs threads can deadlock. Updates come every few MB, often enough to redraw on each.
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as progress:
        task = progress.add_task(description, total=total_bytes)
        finished_files = 0

        def for_file(name: str) -> Callable[[int], None]:
            nonlocal finished_files
            offset = finished_files

            def advance(done: int) -> None:
                nonlocal finished_files
                progress.update(
                    task, completed=offset + done, description=f"{description} {name}", refresh=True
                )
                finished_files = offset + done

            return advance

        yield for_file
