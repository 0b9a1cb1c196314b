"""Errors a user can cause (bad data, a missing model, an earlier run) and where they end."""

from __future__ import annotations

import sys
from collections.abc import Callable


class LabError(Exception):
    """A problem the user can fix; `run_experiment` prints it as one line, without a traceback."""


def run_experiment(main: Callable[[], None]) -> None:
    """Run an experiment's `main`; a `LabError` becomes one line on stderr and exit status 1."""
    try:
        main()
    except LabError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
