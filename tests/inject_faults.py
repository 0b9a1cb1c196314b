"""Run a lab experiment with one fault injected: `python inject_faults.py FAULT WHERE SCRIPT ARGS`.

FAULT is an errno name (ENOSPC, EACCES, EROFS: the write fails as it would on a full disk, a
folder without permission, a read-only mount) or KILL (the process kills itself with SIGKILL, as
the OOM killer or a lost machine would). WHERE is `write:GLOB`, every write to a path matching the
glob (opening a file to write, creating a folder, renaming or linking onto it, safetensors
writing model weights, which it does in Rust), or `phase:NAME`, entering that phase of the run
(Run.enter); FAULT NONE runs it as it is. The lab itself knows nothing of this: the hooks are
installed here, then the experiment runs as `python SCRIPT ARGS` would run it.

`python inject_faults.py --serve` is the same for many runs, fast: it imports the lab's libraries
once (torch, sentence-transformers: most of a tiny run's time), then reads one JSON request per
line on stdin ({"fault", "where", "argv", "stdout", "stderr"}), forks a child that injects the
fault and runs the experiment with its output in the two files, and answers the child's exit
status (negative: the signal that ended it) on stdout. Run it in the lab folder.
"""

from __future__ import annotations

import builtins
import errno
import fnmatch
import io
import json
import os
import runpy
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def fault_action(fault: str) -> Callable[[str], None] | None:
    """What happens at the faulty place (given its path): SIGKILL, or an OSError."""
    if fault == "NONE":
        return None
    if fault == "KILL":
        return lambda path: os.kill(os.getpid(), signal.SIGKILL)
    code = getattr(errno, fault)

    def fail(path: str) -> None:
        raise OSError(code, os.strerror(code), path)

    return fail


def hook_writes(pattern: str, hit: Callable[[str], None]) -> None:
    def matches(path: Any) -> bool:
        return isinstance(path, str | Path) and fnmatch.fnmatch(os.path.abspath(path), pattern)

    real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir
    real_replace, real_rename, real_symlink = os.replace, os.rename, os.symlink

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if set(mode) & set("wax+") and matches(file):
            hit(str(file))
        return real_open(file, mode, *args, **kwargs)

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and matches(path):
            hit(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if matches(path):
            hit(str(path))
        real_mkdir(path, *args, **kwargs)

    def onto(real: Callable[..., None]) -> Callable[..., None]:
        def move(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
            if matches(target):
                hit(str(target))
            real(source, target, *args, **kwargs)

        return move

    builtins.open = io.open = open_
    os.open, os.mkdir = os_open, mkdir
    os.replace, os.rename, os.symlink = onto(real_replace), onto(real_rename), onto(real_symlink)
    hook_safetensors(matches, hit)


def hook_safetensors(matches: Callable[[Any], bool], hit: Callable[[str], None]) -> None:
    """safetensors writes in Rust and reports "(os error N)" in a SafetensorError; the hook
    writes half of the file first, as a disk filling up midway would leave it."""
    import safetensors.torch
    from safetensors import SafetensorError

    real_save_file = safetensors.torch.save_file

    def save_file(tensors: Any, filename: Any, *args: Any, **kwargs: Any) -> None:
        if matches(filename):
            with open(filename, "wb") as file:  # the unhooked open: half a file
                file.write(b"\0" * 1024)
            try:
                hit(str(filename))
            except OSError as error:
                raise SafetensorError(
                    f"Error while serializing: I/O error: {error.strerror} (os error "
                    f'{error.errno}) at path "{filename}"'
                ) from None
        real_save_file(tensors, filename, *args, **kwargs)

    safetensors.torch.save_file = save_file
    if "transformers.modeling_utils" in sys.modules:  # it imported the function by name
        sys.modules["transformers.modeling_utils"].safe_save_file = save_file


def hook_phase(name: str, hit: Callable[[str], None]) -> None:
    from inventory import runs

    real_enter = runs.Run.enter

    def enter(self: runs.Run, phase: str) -> None:
        real_enter(self, phase)  # the manifest says the phase first
        if phase == name:
            hit(str(self.dir))

    runs.Run.enter = enter  # type: ignore[method-assign]


def run(fault: str, where: str, script: str, *args: str) -> None:
    """Inject the fault, then run the experiment script as its own `__main__`."""
    sys.path.insert(0, str(Path(script).resolve().parents[1]))  # the lab folder, for `inventory`
    kind, _, target = where.partition(":")
    hit = fault_action(fault)
    if hit is not None and kind == "phase":
        hook_phase(target, hit)
    elif hit is not None:
        hook_writes(target, hit)
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")


def serve() -> None:
    sys.path.insert(0, os.getcwd())  # the lab folder
    import inventory.pipeline  # noqa: F401  # the slow imports, done once: children inherit them
    import inventory.plotting  # noqa: F401
    import inventory.runner  # noqa: F401
    import inventory.train  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


def child(request: dict[str, Any]) -> None:
    """In the forked child: output to the request's files, the run, and an exit status."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
    code = 0
    try:
        run(request["fault"], request["where"], *request["argv"])
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else (0 if ended.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        run(*sys.argv[1:])
