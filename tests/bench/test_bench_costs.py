"""Cost of the generator's cost stage: core-minutes to time the training step of all
15,625 cells under the drift-free protocol (2 passes, a reference every 16 cells), on
MNIST-1D's calibrated config, extrapolated from ``CELLS`` random cells (process CPU time,
one torch thread, model building included). Aim: well under 30 core-minutes. Measured on
the shared 2-core VM (load ~3): 10.8 CPU-minutes for the full nb201-mnist1d table.

Run with ``pytest tests/bench/test_bench_costs.py --benchmark-enable -s`` (about a minute);
in the default run (``--benchmark-disable``) it times 6 cells of digits once, as a smoke test.
"""

from __future__ import annotations

import numpy as np

from nasbench.datasets import load_dataset
from nasbench.generator.costs import CostSettings, step_timer
from nasbench.timing import run_protocol
from nasbench.training import CALIBRATED, init_worker

CELLS = 512


def test_cost_stage_core_minutes(benchmark):
    init_worker(1)
    name, cells = ("digits", 6) if benchmark.disabled else ("mnist1d", CELLS)
    data = load_dataset(name)
    settings = CostSettings()
    items = np.random.default_rng(0).choice(15_625, cells, replace=False)
    timer = step_timer(CALIBRATED[name].to_dict(), data, settings.steps, settings.warmup)

    def workload():
        return run_protocol(items, timer, int(items[0]), settings.protocol())

    result = benchmark.pedantic(workload, rounds=1, iterations=1)
    minutes = result.cpu_seconds / cells * 15_625 / 60
    benchmark.extra_info["core_minutes_for_15625_cells"] = round(minutes, 2)
    print(f"\ncost stage on {name}: {minutes:.1f} core-minutes for 15,625 cells "
          f"(order explains {100 * result.reports[0].order_share_before:.1f}% -> "
          f"{100 * result.reports[0].order_share_after:.1f}%)")
    assert np.all(result.values > 0)
