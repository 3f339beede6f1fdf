"""The conformance suite every registered strategy must pass (as Optuna's sampler suite).

Seeded determinism, budgets, valid proposals, no torch, and under a latency limit only
feasible queries. A new strategy joins by registering itself: nothing to add here.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nasbench.oracle import Budget
from nasbench.study import run_once, run_study
from strategies import STRATEGIES, get_strategy

NAMES = sorted(STRATEGIES.names())
DEVICE = "synthetic-cpu-b1"
QUERIES = 60


def _kwargs(name: str, table) -> dict:
    """Multi-objective strategies run with a latency device; the others without."""
    return {"latency_device": DEVICE} if get_strategy(name).multi_objective else {}


def _hardware(name: str, table, max_ms: float | None = None):
    from nasbench.hardware import HardwareView

    if get_strategy(name).multi_objective or max_ms is not None:
        return HardwareView.from_table(table, DEVICE, max_ms)
    return None


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_trajectory(full_table, name):
    budget = Budget(queries=QUERIES)
    a = run_once(get_strategy(name), full_table, budget, 3, hardware=_hardware(name, full_table))
    b = run_once(get_strategy(name), full_table, budget, 3, hardware=_hardware(name, full_table))
    for field in ("indices", "epochs", "values", "costs", "trials"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("name", NAMES)
def test_seeds_differ(full_table, name):
    budget = Budget(queries=QUERIES)
    runs = [run_once(get_strategy(name), full_table, budget, s, hardware=_hardware(name, full_table)) for s in (0, 1)]
    assert not np.array_equal(runs[0].indices, runs[1].indices)


@pytest.mark.parametrize("name", NAMES)
def test_query_budget_is_spent_and_never_exceeded(full_table, name):
    trajectory = run_once(get_strategy(name), full_table, Budget(queries=QUERIES), 0,
                          hardware=_hardware(name, full_table))
    assert len(trajectory) == QUERIES
    assert np.all((trajectory.epochs >= 1) & (trajectory.epochs <= full_table.epochs))
    assert full_table.present[trajectory.indices].all()


@pytest.mark.parametrize("name", NAMES)
def test_seconds_budget_is_never_exceeded(full_table, name):
    seconds = float(np.nanmedian(full_table.cumulative_seconds()[:, :, -1])) * 40
    trajectory = run_once(get_strategy(name), full_table, Budget(seconds=seconds), 0,
                          hardware=_hardware(name, full_table))
    assert 0 < len(trajectory) and trajectory.elapsed[-1] <= seconds


@pytest.mark.parametrize("name", NAMES)
def test_study_over_seeds_reports_finite_regret(full_table, name):
    result = run_study(get_strategy(name), full_table, Budget(queries=30), range(3), **_kwargs(name, full_table))
    assert result.seeds == [0, 1, 2]
    for curve in result.curves:
        assert np.all(np.isfinite(curve.regret)) and np.all(curve.regret >= 0)
        assert np.all(np.diff(curve.seconds) >= 0)


@pytest.mark.parametrize("name", [n for n in NAMES if not get_strategy(n).multi_objective])
def test_latency_limit_is_respected(full_table, name):
    latency = full_table.latency(DEVICE)
    limit = float(np.nanquantile(latency, 0.2))
    hardware = _hardware(name, full_table, limit)
    trajectory = run_once(get_strategy(name), full_table, Budget(queries=QUERIES), 0, hardware=hardware)
    assert len(trajectory) == QUERIES
    assert np.all(latency[trajectory.indices] <= limit), f"{name} queried architectures over the latency limit"


def test_strategies_do_not_import_torch():
    code = (
        "import sys, strategies\n"
        "from strategies import STRATEGIES\n"
        "assert 'torch' not in sys.modules, 'strategies imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the NB101 space: a table of sampled cells (a subset of 423,624) ----------------------------

GENERIC = [n for n in NAMES if get_strategy(n).spaces is None]
SPECIFIC = [n for n in NAMES if get_strategy(n).spaces is not None]


def test_which_strategies_are_space_generic():
    assert set(SPECIFIC) == {"bohb", "reinforce"}  # both model the 6 edge ops of an NB201 cell
    assert {"random", "evolution", "local-search", "bananas", "hyperband", "nsga2"} <= set(GENERIC)


@pytest.mark.parametrize("name", GENERIC)
def test_space_generic_strategies_run_on_nb101(nb101_table, name):
    budget = Budget(queries=20)
    hardware = _hardware(name, nb101_table)
    a = run_once(get_strategy(name), nb101_table, budget, 4, hardware=hardware)
    b = run_once(get_strategy(name), nb101_table, budget, 4, hardware=hardware)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert len(a) == 20 and nb101_table.present[a.indices].all()
    space = nb101_table.space
    assert [space.index(space.parse(s)) for s in a.archs] == a.indices.tolist()


@pytest.mark.parametrize("name", SPECIFIC)
def test_space_specific_strategies_refuse_nb101_naming_it(nb101_table, name):
    from nasbench.errors import NasbenchError

    with pytest.raises(NasbenchError, match="nb101"):
        run_once(get_strategy(name), nb101_table, Budget(queries=10), 0)
