"""Recipes: small cookiecutter templates that add one experiment (and what it needs) to a lab.

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
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from embed_lab.merge import MergeReport, merge_tree
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
EXPERIMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
EXPERIMENT_NAME_RULE = (
    "lowercase letters, digits and '_' ('-' becomes '_'), starting with a letter, "
    "at most 60 characters"
)
EXPERIMENT_FILE = re.compile(r"^exp_(\d+)_(.+)\.py$")


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


def is_lab(path: Path) -> bool:
    """A lab is a folder holding inventory/ and experiments/."""
    return (path / "inventory").is_dir() and (path / "experiments").is_dir()


def experiment_name(name: str) -> str:
    """NAME as it goes into exp_NN_NAME.py ('-' becomes '_'); RecipeError when not allowed."""
    normalized = name.replace("-", "_")
    if not EXPERIMENT_NAME.match(normalized):
        raise RecipeError(
            f"the experiment name {name!r} is not allowed; use {EXPERIMENT_NAME_RULE}"
        )
    return normalized


def next_experiment(experiments: Path, name: str) -> str:
    """exp_NN_<name> with NN one above the highest number in use; RecipeError if name exists."""
    numbers = [0]
    for path in sorted(experiments.glob("exp_*.py")):
        match = EXPERIMENT_FILE.match(path.name)
        if not match:
            continue
        if match.group(2) == name:
            raise RecipeError(
                f"experiments/{path.name} already exists; choose another name for the experiment"
            )
        numbers.append(int(match.group(1)))
    return f"exp_{max(numbers) + 1:02d}_{name}"


@dataclass
class NewReport:
    lab: Path
    recipe: Recipe
    experiment: str
    merge: MergeReport
    missing: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        experiment_file = f"experiments/{self.experiment}.py"
        lines = [f"Added {experiment_file} to {self.lab} (recipe {self.recipe.name})"]
        lines += [f"  added {path}" for path in self.merge.created if path != experiment_file]
        lines += [f"  kept {path} (already in the lab, the same)" for path in self.merge.identical]
        lines += [
            f"  kept {path} (already in the lab, differs from the recipe's; left as it is)"
            for path in self.merge.skipped
        ]
        lines += [
            f"  appended to {path}: {', '.join(added)}"
            for path, added in self.merge.appended.items()
        ]
        lines.append(f"Next, in the lab folder: python {experiment_file}")
        return lines

    def warning(self) -> str | None:
        if not self.missing:
            return None
        return (
            f"warning: recipe {self.recipe.name} needs {'; '.join(self.missing)}; "
            "add them before running the experiment"
        )


def missing_data(lab: Path, needs: Iterable[str]) -> list[str]:
    """What the lab's data/ lacks of a recipe's needs (unknown needs are not checked)."""
    data = lab / "data"
    missing = []
    for need in needs:
        if need == "pos" and not (data / "train.jsonl").is_file():
            missing.append("pos (data/train.jsonl is missing)")
        elif need == "neg" and not _has_negatives(data / "train.jsonl"):
            missing.append("neg (no line of data/train.jsonl has negatives)")
        elif need == "corpus" and not (data / "corpus.jsonl").is_file():
            missing.append("corpus (data/corpus.jsonl is missing)")
    return missing


def _has_negatives(train: Path) -> bool:
    if not train.is_file():
        return False
    with train.open("rb") as lines:
        for line in lines:
            try:
                value = json.loads(line)
            except ValueError:
                continue  # `emb check` reports it
            if isinstance(value, dict) and isinstance(value.get("neg"), list) and value["neg"]:
                return True
    return False


def new_experiment(lab: Path, name: str, recipe_name: str) -> NewReport:
    """Add experiments/exp_NN_<name>.py from the recipe to lab, and inventory modules it lacks."""
    lab = lab.expanduser().absolute()
    recipe = find_recipe(recipe_name)
    if not is_lab(lab):
        raise RecipeError(
            f"{lab} is not a lab (no inventory/ and experiments/ folders); create one with emb init"
        )
    experiment = next_experiment(lab / "experiments", experiment_name(name))
    with tempfile.TemporaryDirectory(prefix="embed-lab-recipe-") as scratch:
        rendered = render_recipe(recipe, lab.resolve().name or "lab", experiment, Path(scratch))
        try:
            merge = merge_tree(rendered, lab)
        except OSError as error:
            raise RecipeError(f"cannot add the experiment to {lab}: {error}") from None
    return NewReport(lab, recipe, experiment, merge, missing_data(lab, recipe.needs))
