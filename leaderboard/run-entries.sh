#!/usr/bin/env bash
# Every built-in strategy, proxy and predictor on every track it applies to, then the page.
# `nasbench leaderboard missing` lists the (track, built-in) pairs without an entry; entries
# are append-only, so a rerun only adds the missing ones. WORKERS (default 2) worker
# processes share the seeds of each entry.
#
#   leaderboard/run-entries.sh
set -euo pipefail
workers=${WORKERS:-2}
todo=$(mktemp)
nasbench leaderboard missing > "$todo" || true
while read -r track name; do
  nasbench leaderboard run "$name" --track "$track" --workers "$workers"
done < "$todo"
rm -f "$todo"
nasbench leaderboard render
