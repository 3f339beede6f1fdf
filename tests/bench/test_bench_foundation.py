"""Speed of the foundation on a 15,625-architecture table (the shipped synthetic one).

Targets: load < 100 ms, single query < 10 us, >= 1e6 vectorised lookups/s, random search
100 seeds x 300 queries < 2 s. Run with ``pytest tests/bench --benchmark-enable``; in the
default run each benchmark executes once as a smoke test.
"""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.oracle import Budget, Oracle
from nasbench.study import run_study
from nasbench.table import load_table, read_table, resolve_table
from strategies import RandomSearch


@pytest.fixture(scope="module")
def table():
    return load_table("synthetic-nb201")


def test_table_load(benchmark):
    folder = resolve_table("synthetic-nb201")
    loaded = benchmark(read_table, folder)
    assert loaded.present.all()


def test_single_query(benchmark, table):
    oracle = Oracle(table, Budget(queries=10**9), rng=0)
    cell = table.space.from_index(1234)
    value = benchmark(oracle.query, cell)
    assert 0 <= value <= 100


def test_vectorised_lookup_all_indices(benchmark, table):
    indices = np.arange(table.space.size)
    values = benchmark(table.lookup, indices, "valid_acc")
    assert values.shape == (table.space.size,)
    if benchmark.stats:
        benchmark.extra_info["lookups_per_second"] = len(indices) / benchmark.stats.stats.mean


def test_random_search_100_seeds_300_queries(benchmark, table):
    result = benchmark.pedantic(
        run_study, args=(RandomSearch, table, Budget(queries=300), range(100)), rounds=3, iterations=1
    )
    assert len(result.runs) == 100 and all(len(r.trajectory) == 300 for r in result.runs)
