#!/usr/bin/env bash
# The GPU check of issue #20 in one device call, after benchmarks/gpu_prepare.sh (DEVELOPERS.md):
#   run(command="bash benchmarks/gpu_run.sh", carry=[".gpu"], timeout_s=600)
# 1. benchmarks/gpu_check.py: encoding documents/s (today's default against the new, and where
#    the time goes), then the lab's baseline against a hand-written script (target <= 1.10x);
# 2. benchmarks/bench_corpus_scale.py: a 1M-document synthetic corpus end to end (target <= 10 min).
# Each step has its own time limit, so that one slow step leaves the others their time.
set -u
cd "$(dirname "$0")/.."
KIT=${KIT:-.gpu}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export JAX_PLATFORMS=cpu  # JAX, where installed, must not take the GPU's memory
site=$(mktemp -d)
python3 -m pip install --quiet --no-deps --no-index --target "$site" "$KIT"/whl/*.whl || exit 3
export PYTHONPATH="$site:$PWD"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch, transformers, sentence_transformers as st
print("torch", torch.__version__, "transformers", transformers.__version__, "st", st.__version__)'
echo "== gpu_check"; start=$SECONDS
timeout "${CHECK_S:-240}" python3 benchmarks/gpu_check.py --model "$KIT/model" "$@"
echo "(gpu_check: exit $?, $((SECONDS - start)) s)"
echo "== bench_corpus_scale"; start=$SECONDS
timeout "${SCALE_S:-300}" python3 benchmarks/bench_corpus_scale.py --model "$KIT/model" \
    --device cuda --docs "${DOCS:-1000000}"
echo "(bench_corpus_scale: exit $?, $((SECONDS - start)) s)"
