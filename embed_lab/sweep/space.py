"""The search space: one entry per flag, {"low", "high"[, "log", "step"]} or {"choices"}.

A recipe declares its default space next to its options (SEARCH_SPACE in the lab's inventory);
a --space TOML file replaces it, one table per flag:

    [learning_rate]
    low = 1e-5
    high = 2e-4
    log = true

    [batch_size]
    choices = [16, 32, 64]

Everything is checked against the flags the experiment takes before a study is opened.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEYS = {"low", "high", "log", "step", "choices"}


class SpaceError(Exception):
    """A space that cannot be searched; the CLI prints it as one line."""


@dataclass(frozen=True)
class Param:
    name: str  # the flag's dest, e.g. learning_rate
    flag: str  # --learning-rate
    kind: str  # "value", "bool" (--x/--no-x) or "switch" (--x or nothing)
    default: Any
    spec: dict[str, Any]

    def suggest(self, trial: Any) -> Any:
        """The value Optuna's trial proposes for this flag."""
        spec = self.spec
        if "choices" in spec:
            return trial.suggest_categorical(self.name, spec["choices"])
        log, step = bool(spec.get("log", False)), spec.get("step")
        if isinstance(self.default, int) and not isinstance(self.default, bool):
            return trial.suggest_int(self.name, spec["low"], spec["high"], log=log, step=step or 1)
        return trial.suggest_float(self.name, spec["low"], spec["high"], log=log, step=step)

    def argv(self, value: Any) -> list[str]:
        if self.kind == "bool":
            return [self.flag if value else "--no-" + self.flag.removeprefix("--")]
        if self.kind == "switch":
            return [self.flag] if value else []
        return [self.flag, str(value)]


def read_space_file(path: Path) -> dict[str, dict]:
    """The tables of a --space TOML file; a malformed file is a SpaceError naming its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpaceError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise SpaceError(f"{path}: not UTF-8 text") from None
    try:
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpaceError(f"{path}: malformed TOML: {error}") from None
    for name, spec in tables.items():
        if not isinstance(spec, dict):
            raise SpaceError(f"{path}:{_line(text, name)}: {name} must be a table ([{name}])")
    if not tables:
        raise SpaceError(f"{path}: no tables; one per flag, e.g. [learning_rate] low/high")
    return {name: {**spec, "_line": _line(text, name)} for name, spec in tables.items()}


def _line(text: str, name: str) -> int:
    pattern = re.compile(rf"^\s*(\[\s*\"?{re.escape(name)}\"?\s*\]|{re.escape(name)}\s*=)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1


def build_space(
    space: dict[str, dict], flags: dict[str, dict], fixed: list[str], source: str
) -> list[Param]:
    """Check `space` against the experiment's `flags` (from inventory/trial.py's description) and
    the flags given to every trial (`fixed`); returns one Param per searched flag."""
    params = []
    given = {argument.split("=")[0] for argument in fixed if argument.startswith("--")}
    for raw_name, raw_spec in space.items():
        spec = dict(raw_spec)
        where = f"{source}:{spec.pop('_line')}" if "_line" in spec else source
        name = raw_name.replace("-", "_")
        info = flags.get(name)
        if info is None or info["kind"] == "list" or name in ("help", "output_dir", "data_dir"):
            known = ", ".join(n for n, f in flags.items() if f["kind"] != "list")
            raise SpaceError(
                f"{where}: [{raw_name}] is not a flag the experiment takes (its flags: {known})"
            )
        if info["flag"] in given or "--no-" + info["flag"][2:] in given:
            raise SpaceError(f"{where}: [{raw_name}] is also given to every trial ({info['flag']})")
        _check_spec(spec, info, raw_name, where)
        params.append(Param(name, info["flag"], info["kind"], info["default"], spec))
    return params


def _check_spec(spec: dict[str, Any], info: dict, name: str, where: str) -> None:
    unknown = set(spec) - KEYS
    if unknown:
        raise SpaceError(
            f"{where}: [{name}] unknown key {', '.join(sorted(unknown))} "
            "(low, high, log, step, or choices)"
        )
    default = info["default"]
    boolean = info["kind"] in ("bool", "switch")
    if "choices" in spec:
        choices = spec["choices"]
        if set(spec) != {"choices"}:
            raise SpaceError(f"{where}: [{name}] choices cannot go with low/high/log/step")
        if not isinstance(choices, list) or not choices:
            raise SpaceError(f"{where}: [{name}] choices must be a non-empty list")
        for choice in choices:
            if not _same_type(choice, default, boolean):
                raise SpaceError(
                    f"{where}: [{name}] choice {choice!r} is not "
                    f"{_type_name(default, boolean)} like the default {default!r}"
                )
        if default not in choices:
            raise SpaceError(
                f"{where}: [{name}] choices must hold the experiment's default "
                f"{default!r} (the first trial runs the defaults)"
            )
        return
    if boolean:
        raise SpaceError(f"{where}: [{name}] is an on/off flag: give choices = [false, true]")
    if "low" not in spec or "high" not in spec:
        raise SpaceError(f"{where}: [{name}] needs low and high, or choices")
    low, high, step = spec["low"], spec["high"], spec.get("step")
    for key, value in (("low", low), ("high", high), ("step", step)):
        if value is not None and not _same_type(value, default, False):
            raise SpaceError(
                f"{where}: [{name}] {key} = {value!r} is not "
                f"{_type_name(default, False)} like the default {default!r}"
            )
    if not low < high:
        raise SpaceError(f"{where}: [{name}] low ({low}) must be below high ({high})")
    if not isinstance(spec.get("log", False), bool):
        raise SpaceError(f"{where}: [{name}] log must be true or false")
    if spec.get("log") and low <= 0:
        raise SpaceError(f"{where}: [{name}] a log scale needs low > 0")
    if step is not None and (step <= 0 or spec.get("log")):
        raise SpaceError(f"{where}: [{name}] step must be above 0, and cannot go with log")
    if not low <= default <= high:
        raise SpaceError(
            f"{where}: [{name}] [{low}, {high}] must hold the experiment's default "
            f"{default} (the first trial runs the defaults)"
        )


def _same_type(value: Any, default: Any, boolean: bool) -> bool:
    if boolean or isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def _type_name(default: Any, boolean: bool) -> str:
    if boolean or isinstance(default, bool):
        return "true or false"
    return {int: "an integer", float: "a number"}.get(type(default), "a string")
