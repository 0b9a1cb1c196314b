"""Write the sample dataset and initialise git in the freshly generated lab."""

import json
import sys
from pathlib import Path

# Values arrive as JSON in raw strings, so no answer can change this script's code; the quotes
# stay single (fmt: off), as the JSON inside holds double ones.
# fmt: off
REPO_DIR = Path(json.loads(r'{{ cookiecutter._repo_dir | tojson }}'))
INIT_GIT = json.loads(r'{{ cookiecutter.init_git | tojson }}')
# fmt: on

sys.dont_write_bytecode = True  # keep the template folder clean
sys.path.insert(0, str(REPO_DIR / "hooks"))
import labkit  # noqa: E402

lab_dir = Path.cwd()
for split in labkit.write_sample_data(REPO_DIR / "hooks" / "sample_data", lab_dir):
    print(f"kept existing data/{split}")
if labkit.is_yes(INIT_GIT):
    print(labkit.init_git(lab_dir))
