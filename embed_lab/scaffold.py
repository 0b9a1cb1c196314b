"""`emb init`: render the lab template into a temporary folder, then merge it into PATH."""

from __future__ import annotations

import logging
import os
import shlex
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embed_lab.merge import MergeReport, merge_tree
from embed_lab.registry import DEFAULT_RECIPE, Recipe, RecipeError, find_recipe, render_recipe
from embed_lab.template import load_labkit, template_dir

BASELINE = "exp_01_baseline"  # the lab template's experiment: the default recipe's


class ScaffoldError(Exception):
    """A problem the user can fix; its message is one line."""


@dataclass
class InitReport:
    lab_dir: Path
    merge: MergeReport
    git: str | None
    dependencies: list[str]
    dev_dependencies: list[str]
    experiment: str = BASELINE

    def lines(self) -> list[str]:
        merge = self.merge
        lines = [f"Lab ready in {self.lab_dir}: {len(merge.created)} files created"]
        if merge.identical:
            lines.append(f"  {len(merge.identical)} files already there, unchanged")
        for relative in merge.skipped:
            lines.append(f"  skipped {relative} (exists; left as it is)")
        for relative, added in merge.appended.items():
            lines.append(f"  appended to {relative}: {', '.join(added)}")
        if "pyproject.toml" in merge.skipped:
            lines.append(
                "  your pyproject.toml was kept: add the lab's dependencies with "
                + dependency_line(self.dependencies, self.dev_dependencies)
            )
        if self.git:
            lines.append(self.git)
        lines.append(f"Next: uv run experiments/{self.experiment}.py")
        return lines


def dependency_line(dependencies: list[str], dev_dependencies: list[str]) -> str:
    """The uv command that adds a lab's dependencies (its pyproject.toml's) to a project; the
    README's quickstart holds the same line."""
    return f"uv add {shlex.join(dependencies)} && uv add --dev {shlex.join(dev_dependencies)}"


def _check_target(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ScaffoldError(f"{path} exists and is not a folder")
    existing = next(parent for parent in (path, *path.parents) if parent.exists())
    if not existing.is_dir():
        raise ScaffoldError(f"cannot create {path}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ScaffoldError(f"cannot write to {existing}: permission denied")


def _answers(
    template: Path, overrides: dict[str, Any], no_input: bool, git: bool
) -> dict[str, Any]:
    """The template's variables, from defaults, the user's config, options and prompts."""
    from cookiecutter.config import get_user_config
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    context = generate_context(
        context_file=str(template / "cookiecutter.json"),
        default_context=get_user_config()["default_context"],
        extra_context=overrides,
    )
    if not git:  # --no-git has answered that question already
        del context["cookiecutter"]["init_git"]
    return dict(prompt_for_config(context, no_input))


def _render(template: Path, answers: dict[str, Any], output_dir: Path) -> Path:
    # cookiecutter logs a traceback when a hook fails; the hook's own message is enough
    logging.getLogger("cookiecutter").setLevel(logging.CRITICAL)
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_files

    answers = answers | {
        "_template": str(template),
        "_repo_dir": str(template),
        "_output_dir": str(output_dir),
        "_checkout": None,
        # git belongs in the final folder, not in this temporary one
        "init_git": False,
    }
    try:
        return Path(generate_files(str(template), {"cookiecutter": answers}, str(output_dir)))
    except CookiecutterException as error:
        raise ScaffoldError(f"rendering the lab failed: {error}") from None


def init_lab(
    path: Path,
    *,
    name: str | None = None,
    base_model: str | None = None,
    git: bool = True,
    no_input: bool = False,
    recipe: str = DEFAULT_RECIPE,
) -> InitReport:
    """Create (or complete) a lab in path without overwriting anything already there.

    The lab's first experiment comes from the recipe: the default one is the template's own
    experiments/exp_01_baseline.py; another recipe R gives experiments/exp_01_<R>.py instead.
    """
    path = path.expanduser().absolute()
    _check_target(path)
    try:
        first = find_recipe(recipe)
    except RecipeError as error:
        raise ScaffoldError(str(error)) from None
    template = template_dir()
    labkit = load_labkit(template)

    overrides: dict[str, Any] = {"lab_name": path.resolve().name if name is None else name}
    if base_model is not None:
        overrides["base_model"] = base_model
    answers = _answers(template, overrides, no_input, git)
    # Checked here as the pre-generation hook would, to fail in one line before rendering.
    checks = {"lab_name": labkit.lab_name_error, "base_model": labkit.base_model_error}
    for key, check in checks.items():
        problem = check(str(answers[key]))
        if problem:
            from_folder = key == "lab_name" and name is None and no_input
            hint = " (choose one with --name)" if from_folder else ""
            raise ScaffoldError(problem + hint)

    with tempfile.TemporaryDirectory(prefix="embed-lab-") as scratch:
        rendered = _render(template, answers, Path(scratch) / "lab")
        experiment = BASELINE
        if first.name != DEFAULT_RECIPE:
            experiment = _first_experiment(first, rendered, Path(scratch) / "recipe")
        pyproject = tomllib.loads((rendered / "pyproject.toml").read_text(encoding="utf-8"))
        try:
            merge = merge_tree(rendered, path)
        except OSError as error:
            raise ScaffoldError(f"cannot write the lab into {path}: {error}") from None

    git_message = None
    if git and labkit.is_yes(answers["init_git"]):
        git_message = labkit.init_git(path, merge.created + list(merge.appended))
    dev = pyproject.get("dependency-groups", {}).get("dev", [])  # pytest runs the lab's tests
    dependencies = pyproject["project"]["dependencies"]
    return InitReport(path, merge, git_message, dependencies, dev, experiment)


def _first_experiment(recipe: Recipe, rendered: Path, scratch: Path) -> str:
    """Replace the rendered lab's baseline with the recipe's experiment; returns its name."""
    experiment = "exp_01_" + recipe.name.replace("-", "_")
    (rendered / "experiments" / f"{BASELINE}.py").unlink()
    try:
        merge_tree(render_recipe(recipe, rendered.name, experiment, scratch), rendered)
    except RecipeError as error:
        raise ScaffoldError(str(error)) from None
    return experiment
