"""Write the leaderboard tracks of a finished table: regret, seconds, constrained, hypervolume
and proxies, as the nb201-digits flagship has them, with this table's identity hash, median
latency and training costs. Run once, after the table is final (its hash is in every track).

    python tables/nb201-mnist1d-hard/work/tracks.py nb201-mnist1d-hard [--latency-device cpu-torch-b1]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from nasbench.atomic import atomic_write_text
from nasbench.leaderboard.tracks import MIN_STRATEGY_SEEDS, Track, parse_track, tracks_dir
from nasbench.table import load_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--latency-device", default="cpu-torch-b1")
    parser.add_argument("--tracks", default=None, help="folder of track files (default: leaderboard/tracks)")
    args = parser.parse_args()
    table = load_table(args.table)
    name, sha, device = table.name, table.manifest.sha256, args.latency_device
    seeds = tuple(range(MIN_STRATEGY_SEEDS))
    limit = float(f"{float(np.nanmedian(table.latency(device))):.4g}")
    # a full training of the average cell, from every row's own per-cell cost (issue 9 item 3)
    full = float(np.nanmean(table.curve("epoch_seconds")[table.indices].sum(axis=-1)))
    seconds = float(f"{100 * full:.2g}")  # a third of what 300 full trainings cost
    common = dict(kind="strategy", benchmark="table", benchmark_name=name, benchmark_sha256=sha, seeds=seeds)
    tracks = [
        Track(name=f"{name}-regret", objective="regret", queries=300, **common,
              description=f"Test regret after 300 queries on {name}."),
        Track(name=f"{name}-seconds", objective="regret", seconds=seconds, **common,
              description=(f"Test regret after {seconds:g} simulated seconds of training on {name} (300 full "
                           f"trainings of random cells cost about {300 * full:.0f}; every cell is charged its own "
                           "cost): a query at fewer epochs costs less, so multi-fidelity strategies can spend "
                           "the budget differently.")),
        Track(name=f"{name}-constrained", objective="constrained-regret", queries=300, latency_device=device,
              max_latency_ms=limit, **common,
              description=(f"Regret against the best cell under the column's median latency ({limit:g} ms, "
                           f"{device}); only feasible cells count.")),
        Track(name=f"{name}-hypervolume", objective="hypervolume-gap", queries=300, latency_device=device,
              **common, description=("Gap between the hypervolume of the queried (test accuracy, latency) front "
                                     "and the table's, after 300 queries.")),
        Track(name=f"{name}-proxies", kind="proxy", benchmark="table", benchmark_name=name, benchmark_sha256=sha,
              objective="proxy-spearman", seeds=(0, 1, 2),
              description=("Spearman of the proxy's score on the untrained network (init seeds 0-2, the "
                           "table's recorded batch) against final test accuracy over the connected cells.")),
    ]
    for track in tracks:
        data = track.to_dict()
        parse_track(data, track.name)  # the loader's checks, before anything is written
        path = tracks_dir(args.tracks) / f"{track.name}.json"
        if path.exists():
            print(f"kept {path} (tracks are fixed once entries exist)")
            continue
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
