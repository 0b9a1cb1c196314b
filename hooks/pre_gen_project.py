"""Validate the user's answers before the lab is written."""

import json
import sys
from pathlib import Path

# Values arrive as JSON in raw strings, so no answer can change this script's code; the quotes
# stay single (fmt: off), as the JSON inside holds double ones.
# fmt: off
REPO_DIR = Path(json.loads(r'{{ cookiecutter._repo_dir | tojson }}'))
LAB_NAME = json.loads(r'{{ cookiecutter.lab_name | tojson }}')
BASE_MODEL = json.loads(r'{{ cookiecutter.base_model | tojson }}')
# fmt: on

sys.dont_write_bytecode = True  # keep the template folder clean
sys.path.insert(0, str(REPO_DIR / "hooks"))
import labkit  # noqa: E402

problem = labkit.lab_name_error(LAB_NAME) or labkit.base_model_error(BASE_MODEL)
if problem:
    labkit.fail(problem)
