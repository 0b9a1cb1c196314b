"""Errors a user can cause (bad data, a missing model, an earlier run) and where they end."""

from __future__ import annotations

import sys
from collections.abc import Callable

from inventory import distributed


class LabError(Exception):
    """A problem the user can fix; `run_experiment` prints it as one line, without a traceback."""


def run_experiment(main: Callable[[], None]) -> None:
    """Run an experiment's `main`; a `LabError` becomes one line on stderr and exit status 1.

    Under torchrun or accelerate launch every process runs `main` (see inventory/distributed.py)
    and only the first failure is reported: the launcher then stops the other processes.
    """
    distributed.setup()
    try:
        main()
    except LabError as error:
        distributed.let_first_failure_speak(own=True)
        print(f"error: {distributed.prefix()}{error}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        if distributed.is_main_process():
            print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception:
        distributed.let_first_failure_speak(own=False)  # it may echo another process's failure
        raise
    distributed.teardown()
