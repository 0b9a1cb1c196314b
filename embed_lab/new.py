"""`emb new`: add an experiment from a recipe (embed_lab/registry.py) to an existing lab."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from embed_lab.merge import MergeReport, merge_tree
from embed_lab.registry import Recipe, RecipeError, find_recipe, render_recipe

EXPERIMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
EXPERIMENT_NAME_RULE = (
    "lowercase letters, digits and '_' ('-' becomes '_'), starting with a letter, "
    "at most 60 characters"
)
EXPERIMENT_FILE = re.compile(r"^exp_(\d+)_(.+)\.py$")


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
