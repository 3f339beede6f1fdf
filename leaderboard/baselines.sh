#!/usr/bin/env bash
# Run every shipped strategy on one table under the common protocol and compare them:
# 300 queries x 25 seeds; NSGA-II and random search scored by the hypervolume gap on a
# latency column; random, evolution and BANANAS also under a latency limit (the median
# latency of that column). Results land in leaderboard/entries/TABLE/ (nasbench.study/2).
#
#   leaderboard/baselines.sh nb201-digits [DEVICE]      (DEVICE default: cpu-torch-b1)
set -euo pipefail
table=${1:?usage: leaderboard/baselines.sh TABLE [LATENCY_DEVICE]}
device=${2:-cpu-torch-b1}
out=leaderboard/entries/$table
mkdir -p "$out"
run() { local file=$1; shift; [ -f "$out/$file.json" ] || nasbench run "$@" --table "$table" --budget 300 --seeds 25 --out "$out/$file.json" > "$out/$file.txt"; }

for strategy in random evolution local-search reinforce bananas hyperband bohb; do
  run "$strategy" "$strategy"
done
run local-search-first local-search --param improvement=first
nasbench compare "$out"/{random,evolution,local-search,local-search-first,reinforce,bananas,hyperband,bohb}.json \
  --plot "$out/regret.png" --force > "$out/regret.txt"

run nsga2-hv nsga2 --latency-device "$device"
run random-hv random --latency-device "$device" --objective hypervolume
nasbench compare "$out"/{random-hv,nsga2-hv}.json --labels random nsga2 --plot "$out/hypervolume.png" --force > "$out/hypervolume.txt"

limit=$(python -c "import numpy as np; from nasbench.table import load_table; print(f'{float(np.nanmedian(load_table(\"$table\").latency(\"$device\"))):.4g}')")
for strategy in random evolution bananas; do
  run "$strategy-constrained" "$strategy" --latency-device "$device" --max-latency "$limit"
done
nasbench compare "$out"/{random,evolution,bananas}-constrained.json --labels random evolution bananas \
  --plot "$out/constrained.png" --force > "$out/constrained.txt"
cat "$out/regret.txt" "$out/hypervolume.txt" "$out/constrained.txt"
