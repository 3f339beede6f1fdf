"""How far the calibration study's estimates could land from the full table's figures.

Redraws the study's stratified sample design (strata of nasbench.calibration.sample, ranked
by the v1 nb201-mnist1d table, as the study was) with many seeds from this table's own
unique trainings, and prints each resolution figure on the full table beside the 95% range
of its weighted estimate from one sample: the spread a 200-class calibration carries.

    python tables/nb201-mnist1d-hard/work/calibration_check.py [--draws 200]
"""

from __future__ import annotations

import argparse

import numpy as np

from nasbench.calibration.sample import sample_from_table
from nasbench.resolution import resolution, table_arrays
from nasbench.table import load_table

FIGURES = ("seed_spearman", "top10_spearman", "top1_overlap", "top1_spread", "top1_noise", "last_gain", "best",
           "top1_span", "regret_floor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="nb201-mnist1d-hard")
    parser.add_argument("--reference", default="nb201-mnist1d")
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    table, reference = load_table(args.table), load_table(args.reference)
    index = table.indices
    reps = index[table.scalar("trained_as")[index] == index]
    position = {int(r): i for i, r in enumerate(reps)}
    acc, test, curves = table_arrays(table)
    full = resolution(acc, test, curves)
    draws = []
    for seed in range(args.draws):
        sample = sample_from_table(reference, seed=seed)
        rows = np.array([position[int(i)] for i in sample.indices])
        draws.append(resolution(acc[rows], test[rows], curves[rows], sample.weights))
    print(f"{args.table}: full table vs the study's 200-class design redrawn {args.draws} times "
          f"(ranked by {args.reference}, seed 0 is the study's own draw)")
    print(f"{'figure':<16}{'full table':>12}{'seed-0 sample':>15}{'95% of samples':>22}")
    for name in FIGURES:
        values = np.array([getattr(d, name) for d in draws])
        lo, hi = np.percentile(values, [2.5, 97.5])
        print(f"{name:<16}{getattr(full, name):>12.3f}{values[0]:>15.3f}{f'[{lo:.3f}, {hi:.3f}]':>22}")


if __name__ == "__main__":
    main()
