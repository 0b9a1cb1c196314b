"""Where an experiment ends: its run recorded, bad input as one line, signals as exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from inventory import distributed
from inventory.errors import LabError, Pruned
from inventory.files import write_errno, write_failure
from inventory.runs import active_dir, finish_active


def run_experiment(main: Callable[[], None]) -> None:
    """Run an experiment's `main` and record how its run ended in the run's manifest.

    A `LabError` becomes one line on stderr and exit status 1, and so does a full disk, a denied
    permission or a read-only file system met by a library's own write; a sweep trial its study
    prunes (inventory/trial.py) is recorded as pruned, with exit status 0; Ctrl-C or SIGTERM one
    line and exit status 130 or 143; any other error is recorded as failed and shown with its
    traceback.
    Under torchrun or accelerate launch every process runs `main` (see inventory/distributed.py)
    and only the first failure is reported: the launcher then stops the other processes.
    """
    distributed.setup()
    try:
        _main_and_finish(main)
    except LabError as error:
        finish_active(error)
        distributed.let_first_failure_speak(own=True)
        print(f"error: {distributed.prefix()}{error}", file=sys.stderr)
        raise SystemExit(1) from None
    except Pruned as error:  # an `emb sweep` trial stopped by its study: not a failure
        finish_active(error)
        if distributed.is_main_process():
            print(f"pruned: {error}", file=sys.stderr)
        raise SystemExit(0) from None
    except KeyboardInterrupt as error:
        runs = finish_active(error)
        where = f"; recorded in {runs[0].manifest_path}" if runs else ""
        signal = str(error) or "SIGINT"
        if distributed.is_main_process():
            print(f"interrupted ({signal}){where}", file=sys.stderr)
        raise SystemExit(143 if signal == "SIGTERM" else 130) from None
    except BaseException as error:
        finish_active(error)
        if isinstance(error, Exception):
            distributed.let_first_failure_speak(own=False)  # it may echo another's failure
        raise
    distributed.teardown()


def _main_and_finish(main: Callable[[], None]) -> None:
    """Run `main` and record its run as completed; a write the user can fix becomes a LabError."""
    try:
        main()
        finish_active()
    except LabError:
        raise
    except Exception as error:
        code = write_errno(error)
        if code is None:
            raise
        where = getattr(error, "filename", None) or active_dir() or "the results"
        raise LabError(write_failure(code, "writing", Path(where))) from None
