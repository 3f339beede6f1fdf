#!/usr/bin/env bash
# Everything nb201-mnist1d-hard needs after its last training chunk, in order; every step is
# resumable or skipped once done, so rerun it after an interruption. Run from the repository
# root on a quiet machine (the latency and cost stages time networks: nothing else running).
#
#   bash tables/nb201-mnist1d-hard/work/finish.sh            # ~3-4 h on the 2-core VM
#
# A dry run on a small table elsewhere (extra arguments go to generate; no leaderboard runs):
#   NASBENCH_TABLES=/tmp/dry TRACKS=/tmp/dry/tracks NO_BASELINES=1 bash tables/nb201-mnist1d-hard/work/finish.sh \
#     /tmp/dry/nb201-dry --archs 16 --epochs 2
set -euo pipefail
dir=${1:-tables/nb201-mnist1d-hard}
table=$(basename "$dir")
shift $(( $# > 0 ? 1 : 0 ))
step() { echo; echo "== $(date +%H:%M:%S) $*"; }

# 1. Train what is missing (nothing, once every chunk is in), run the cost stage (every
#    cell's own training-step time; resumable segments under work/costs) and assemble.
step generate
nasbench generate --dataset mnist1d-hard --seeds 0 1 2 --out "$dir" --workers 2 --chunk-size 64 "$@"

# 2. Latency, drift-corrected: random order, reference re-timed every 8 cells, 2 passes.
has() { python -c "import json,sys; m=json.load(open('$dir/manifest.json')); sys.exit('$1' not in m['latency_devices'])"; }
for runtime in torch ort; do
  if has "cpu-$runtime-b64"; then echo "cpu-$runtime-b1/b64 already measured"; continue; fi
  step "latency measure --runtime $runtime"
  nasbench latency measure "$dir" --runtime "$runtime" --batches 1 64 --every 8 --passes 2
done
if ! has cpu-torch-b1-lut; then
  step "latency LUT (estimate column cpu-torch-b1-lut)"
  nasbench latency profile --device cpu --table "$dir" --out "$dir/work/lut-cpu-b1.json" --force
  nasbench latency fill --device cpu --table "$dir" --lut "$dir/work/lut-cpu-b1.json"
fi

# 3. Name and units into the Parquet metadata, resolution figures, proxies, datasheet.
step stamp;       nasbench tables stamp "$table"
step resolution;  nasbench tables resolution "$table" --write
step proxies;     nasbench proxies compute --table "$table" --seeds 0 1 2 --workers 2 --chunk-size 256
step correlate;   nasbench proxies correlate --table "$table" --draws 200
notes=(); [ -f "$dir/work/datasheet-notes.md" ] && notes=(--notes "$dir/work/datasheet-notes.md")
step datasheet;   nasbench tables datasheet "$table" "${notes[@]}"
step verify;      nasbench tables verify "$table"

# 4. Its leaderboard tracks (regret, seconds, constrained, hypervolume, proxies); then issue 9's
#    item 6, every strategy at 300 queries x 25 seeds with CIs and Holm-significant pairs, and
#    the tracks' entries: every built-in strategy and proxy (append-only: reruns add the missing).
step tracks;      python "$(dirname "$0")/tracks.py" "$table" ${TRACKS:+--tracks "$TRACKS"}
if [ -z "${NO_BASELINES:-}" ]; then
  step baselines; leaderboard/baselines.sh "$table"
  step entries;   leaderboard/run-entries.sh
fi
step done
