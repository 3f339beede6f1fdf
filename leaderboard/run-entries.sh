#!/usr/bin/env bash
# Every built-in strategy, proxy and predictor on every track it applies to, then the page.
# Entries already written are kept (entries are append-only), so a rerun only adds the missing
# ones. WORKERS (default 2) worker processes share the seeds of each strategy entry.
#
#   leaderboard/run-entries.sh
set -euo pipefail
workers=${WORKERS:-2}
entry() {  # entry TRACK NAME ARGS...
  local track=$1 name=$2; shift 2
  [ -f "leaderboard/entries/$track/$name.json" ] ||
    nasbench leaderboard run "$@" --track "$track" --name "$name" --workers "$workers"
}
single="random evolution local-search reinforce bananas hyperband bohb"
for track in nb201-digits-regret nb201-mnist1d-regret nb201-digits-mlp50-regret nb201-digits-constrained; do
  for strategy in $single; do entry "$track" "$strategy" "$strategy"; done
done
for strategy in nsga2 random; do entry nb201-digits-hypervolume "$strategy" "$strategy"; done
for proxy in $(python -c "from predictors.proxies import PROXIES, load_proxies; load_proxies(); print(*PROXIES.names())"); do
  entry nb201-digits-proxies "$proxy" "$proxy"
done
for predictor in $(python -c "from predictors.registry import PREDICTORS, load_predictors; load_predictors(); print(*PREDICTORS.names())"); do
  entry nb201-digits-predictors "$predictor" "$predictor"
done
nasbench leaderboard render
