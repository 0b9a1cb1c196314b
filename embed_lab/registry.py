"""The recipe registry: which recipes exist, each checked, and how one is rendered.

Recipes are small cookiecutter templates that add one experiment (and what it needs) to a lab.

A recipe is a folder holding `cookiecutter.json` (variables `lab` and `experiment`, plus
`_description`, one line, and `_needs`, the data it trains on: "pos", "neg", "corpus", ...) and
one root folder `{{cookiecutter.lab}}/` with `experiments/{{cookiecutter.experiment}}.py` and any
`inventory/<module>.py` the recipe adds to a lab.

Built-in recipes live in `recipes/<name>/` beside the lab template (the root of a checkout, or
`embed_lab/template/recipes/` in the wheel). Any installed distribution can register more under
the entry-point group `embed_lab.recipes`; the entry's name is the recipe's name and its value
names the folder, either as a package (the package's folder, `__init__.py` optional) or as
`module:ATTRIBUTE`, an attribute holding the folder's path:

    [project.entry-points."embed_lab.recipes"]
    rerank = "acme_recipes.rerank"
    listwise = "acme_recipes:LISTWISE_TEMPLATE"

A broken entry is reported in one line and skipped; a built-in's name cannot be taken.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from embed_lab.template import template_dir

ENTRY_POINT_GROUP = "embed_lab.recipes"
DEFAULT_RECIPE = "in-batch-negatives"
BUILT_IN = "built-in"
LAB_ROOT = "{{cookiecutter.lab}}"
EXPERIMENT_TEMPLATE = "experiments/{{cookiecutter.experiment}}.py"

RECIPE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
RECIPE_NAME_RULE = (
    "lowercase letters and digits, words joined by '-' or '_', starting with a letter"
)


class RecipeError(Exception):
    """A problem the user can fix; its message is one line."""


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    needs: tuple[str, ...]
    source: str  # "built-in", or the registering distribution's "name version"
    path: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "needs": list(self.needs),
            "source": self.source,
            "path": str(self.path),
        }


@dataclass
class Registry:
    recipes: dict[str, Recipe]  # by name, sorted
    problems: list[str]  # one line per broken entry point, skipped


def builtin_dir() -> Path:
    """recipes/ beside the lab template."""
    return template_dir() / "recipes"


def load_recipe(name: str, folder: Path, source: str) -> Recipe:
    """The recipe in folder, checked; raises RecipeError (one line) when it is not well formed."""
    if not RECIPE_NAME.match(name):
        raise RecipeError(f"the recipe name {name!r} is not allowed; use {RECIPE_NAME_RULE}")
    if not folder.is_dir():
        raise RecipeError(f"{folder} is not a folder")
    config_file = folder / "cookiecutter.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise RecipeError(f"{config_file}: cannot read it ({error.strerror})") from None
    except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8
        line = f"line {error.lineno}: " if isinstance(error, json.JSONDecodeError) else ""
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise RecipeError(f"{config_file}: {line}not valid JSON ({reason})") from None
    problem = _config_problem(config)
    if problem:
        raise RecipeError(f"{config_file}: {problem}")
    if not (folder / LAB_ROOT / EXPERIMENT_TEMPLATE).is_file():
        raise RecipeError(f"{folder} has no {LAB_ROOT}/{EXPERIMENT_TEMPLATE}")
    return Recipe(name, config["_description"], tuple(config.get("_needs", ())), source, folder)


def _config_problem(config: Any) -> str | None:
    if not isinstance(config, dict):
        return "not a JSON object"
    for key in ("lab", "experiment", "_description"):
        if not isinstance(config.get(key), str):
            return f'"{key}" is missing or not a string'
    needs = config.get("_needs", [])
    if not isinstance(needs, list) or not all(isinstance(need, str) for need in needs):
        return '"_needs" is not a list of strings'
    return None


def _builtin_recipes(problems: list[str]) -> dict[str, Recipe]:
    folder = builtin_dir()
    found = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if (path / "cookiecutter.json").is_file():
            try:
                found[path.name] = load_recipe(path.name, path, BUILT_IN)
            except RecipeError as error:
                problems.append(f"built-in recipe {path.name!r}: {error}; skipped")
    return found


def _entry_points(name: str | None = None) -> Iterable[EntryPoint]:
    found = entry_points(group=ENTRY_POINT_GROUP)
    return found if name is None else found.select(name=name)


def _source(entry: EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"


def _entry_folder(entry: EntryPoint) -> Path:
    """The folder an entry point names, without running the template package's own code."""
    try:
        if entry.attr:
            return Path(os.fspath(entry.load()))
        spec = importlib.util.find_spec(entry.module)
    except Exception as error:  # any import-time failure of a third-party package
        raise RecipeError(f"cannot load {entry.value!r}: {type(error).__name__}: {error}") from None
    if spec is None:
        raise RecipeError(f"cannot load {entry.value!r}: no module named {entry.module!r}")
    if not spec.submodule_search_locations:
        raise RecipeError(f"{entry.value!r} is a module, not a package (a folder)")
    return Path(next(iter(spec.submodule_search_locations)))


def _entry_recipe(entry: EntryPoint) -> Recipe:
    source = _source(entry)
    try:
        return load_recipe(entry.name, _entry_folder(entry), source)
    except RecipeError as error:
        raise RecipeError(f"recipe {entry.name!r} from {source}: {error}") from None


def discover() -> Registry:
    """Built-in recipes, then those registered by installed distributions."""
    problems: list[str] = []
    recipes = _builtin_recipes(problems)
    for entry in sorted(_entry_points(), key=lambda entry: (entry.name, entry.value)):
        if entry.name in recipes:
            taken_by = recipes[entry.name].source
            problems.append(
                f"recipe {entry.name!r} from {_source(entry)} skipped: the name is taken "
                f"({taken_by})"
            )
            continue
        try:
            recipes[entry.name] = _entry_recipe(entry)
        except RecipeError as error:
            problems.append(f"{error}; skipped")
    return Registry(dict(sorted(recipes.items())), problems)


def find_recipe(name: str) -> Recipe:
    """The recipe called name: built-in first, then registered; RecipeError when unknown."""
    if RECIPE_NAME.match(name) and (builtin_dir() / name / "cookiecutter.json").is_file():
        return load_recipe(name, builtin_dir() / name, BUILT_IN)
    entries = sorted(_entry_points(name), key=lambda entry: entry.value)  # as discover() does
    if entries:
        return _entry_recipe(entries[0])
    known = ", ".join(discover().recipes) or "none"
    raise RecipeError(f"unknown recipe {name!r}; known recipes: {known} (see emb recipes)")


def render_recipe(recipe: Recipe, lab_name: str, experiment: str, output_dir: Path) -> Path:
    """Render the recipe into output_dir/lab_name; returns that folder."""
    # cookiecutter logs a traceback when rendering fails; the one-line error is enough
    logging.getLogger("cookiecutter").setLevel(logging.CRITICAL)
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_context, generate_files
    from jinja2 import TemplateError

    try:
        context = generate_context(
            context_file=str(recipe.path / "cookiecutter.json"),
            extra_context={"lab": lab_name, "experiment": experiment},
        )
        context["cookiecutter"] |= {"_template": str(recipe.path), "_repo_dir": str(recipe.path)}
        rendered = generate_files(str(recipe.path), context, str(output_dir))
    except (CookiecutterException, TemplateError, OSError, ValueError) as error:
        raise RecipeError(f"rendering recipe {recipe.name!r} failed: {error}") from None
    experiment_file = Path(rendered) / "experiments" / f"{experiment}.py"
    if not experiment_file.is_file():
        raise RecipeError(f"recipe {recipe.name!r} did not write experiments/{experiment}.py")
    return Path(rendered)
