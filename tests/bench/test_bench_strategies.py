"""Strategy overhead: seconds a strategy spends per query in ask() and tell(), oracle excluded,
and regularized evolution end to end (target: 100 seeds x 300 queries < 3 s).

Each strategy runs one 300-query search on the shipped synthetic table (multi-objective
ones with its latency column); ``extra_info["overhead_us_per_query"]`` records the mean
time per query spent inside the strategy, measured by wrapping ask/tell. Run with
``pytest tests/bench/test_bench_strategies.py --benchmark-enable -s`` to see the figures;
in the default run each benchmark executes once as a smoke test.
"""

from __future__ import annotations

import time

import pytest

from nasbench.hardware import HardwareView
from nasbench.oracle import Budget
from nasbench.study import run_once, run_study
from nasbench.table import load_table
from strategies import STRATEGIES, get_strategy

QUERIES = 300
DEVICE = "synthetic-cpu-b1"


@pytest.fixture(scope="module")
def table():
    return load_table("synthetic-nb201")


def _timed(strategy_cls: type) -> tuple[type, list[float]]:
    """A subclass whose ask/tell add their wall time to the returned list."""
    spent = [0.0]

    class Timed(strategy_cls):  # type: ignore[misc, valid-type]
        def ask(self):
            start = time.perf_counter()
            try:
                return super().ask()
            finally:
                spent[0] += time.perf_counter() - start

        def tell(self, observation):
            start = time.perf_counter()
            super().tell(observation)
            spent[0] += time.perf_counter() - start

    Timed.name = strategy_cls.name
    return Timed, spent


@pytest.mark.parametrize("name", sorted(STRATEGIES.names()))
def test_strategy_overhead_per_query(benchmark, table, name):
    strategy_cls = get_strategy(name)
    hardware = HardwareView.from_table(table, DEVICE) if strategy_cls.multi_objective else None
    timed, spent = _timed(strategy_cls)
    runs = []

    def search():
        spent[0] = 0.0
        trajectory = run_once(timed, table, Budget(queries=QUERIES), 0, hardware=hardware)
        runs.append((spent[0], len(trajectory)))

    benchmark.pedantic(search, rounds=3 if benchmark.enabled else 1, iterations=1)
    per_query = min(s / n for s, n in runs)
    benchmark.extra_info["overhead_us_per_query"] = per_query * 1e6
    print(f"\n{name}: {per_query * 1e6:,.1f} us strategy overhead per query")
    assert all(n == QUERIES for _, n in runs)


def test_evolution_100_seeds_300_queries(benchmark, table):
    strategy_cls = get_strategy("evolution")
    result = benchmark.pedantic(
        run_study, args=(strategy_cls, table, Budget(queries=QUERIES), range(100)), rounds=1, iterations=1
    )
    assert len(result.runs) == 100
