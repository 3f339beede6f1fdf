"""Local search: best- and first-improvement moves on controlled landscapes, restarts at
local optima, and never a repeated query."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.hardware import HardwareView
from nasbench.oracle import Budget, Observation
from nasbench.spaces.nb201 import OP_ID, all_cells
from nasbench.study import run_once
from strategies import LocalSearch, get_strategy

WEIGHTS = np.random.default_rng(7).normal(size=(6, 5))  # an additive landscape: one optimum


def _additive(arch) -> float:
    return float(sum(WEIGHTS[edge, OP_ID[op]] for edge, op in enumerate(arch.ops)))


def _distance(a, b) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


class Driver:
    """Runs ask/tell against a value function, recording every query."""

    def __init__(self, strategy: LocalSearch, value) -> None:
        self.strategy, self.value, self.queried = strategy, value, []

    def step(self):
        arch = self.strategy.ask()
        self.queried.append(arch)
        self.strategy.tell(Observation(arch, 6, self.value(arch), 1.0, len(self.queried), float(len(self.queried))))
        return arch


def test_registered_with_best_improvement_by_default(space):
    assert get_strategy("local-search") is LocalSearch
    assert LocalSearch(space, np.random.default_rng(0)).improvement == "best"


def test_bad_improvement_is_named(space):
    with pytest.raises(NasbenchError, match="improvement.*'worst'"):
        LocalSearch(space, np.random.default_rng(0), improvement="worst")


def test_best_improvement_queries_all_neighbours_then_moves_to_the_best(space):
    driver = Driver(LocalSearch(space, np.random.default_rng(1), improvement="best"), _additive)
    start = driver.step()
    neighbours = [driver.step() for _ in range(24)]
    assert set(neighbours) == set(space.neighbours(start))
    assert driver.strategy.current_[0] == start  # no move before every neighbour is known
    best = max(neighbours, key=_additive)
    assert _additive(best) > _additive(start)  # WEIGHTS make the random start improvable
    nxt = driver.step()
    assert driver.strategy.current_ == (best, _additive(best))
    assert _distance(nxt, best) == 1 and nxt not in driver.queried[:-1]


def test_best_improvement_climbs_an_additive_landscape_to_its_optimum(space):
    optimum = max(all_cells(), key=_additive)
    driver = Driver(LocalSearch(space, np.random.default_rng(2), improvement="best"), _additive)
    for _ in range(1 + 6 * 24):
        driver.step()
        if driver.strategy.current_[0] == optimum:
            break
    assert driver.strategy.current_[0] == optimum
    assert driver.strategy.restarts_ == 1


def test_first_improvement_moves_at_the_first_better_neighbour(space):
    strategy = LocalSearch(space, np.random.default_rng(3), improvement="first")
    driver = Driver(strategy, _additive)
    current = driver.step()
    moves = 0
    while True:  # one climb, up to the (only) optimum
        arch = driver.step()
        if strategy.restarts_ > 1:
            break
        assert _distance(arch, current) == 1
        if _additive(arch) > _additive(current):
            assert strategy.current_[0] == arch  # moved at once
            current, moves = arch, moves + 1
        else:
            assert strategy.current_[0] == current  # a worse neighbour does not move it
    assert current == max(all_cells(), key=_additive) and moves >= 2


def test_first_improvement_queries_fewer_neighbours_per_move(space):
    driver = Driver(LocalSearch(space, np.random.default_rng(4), improvement="first"), _additive)
    driver.step()
    for _ in range(24):
        driver.step()
        if driver.strategy.current_[0] != driver.queried[0]:
            break
    assert driver.strategy.current_[0] != driver.queried[0]
    assert len(driver.queried) < 25  # WEIGHTS make the start improvable well before 24 neighbours


@pytest.mark.parametrize("improvement", ["best", "first"])
def test_restarts_from_a_fresh_random_architecture_at_a_local_optimum(space, improvement):
    peak = []

    def peaked(arch) -> float:
        """Highest at the first architecture queried: the start is a local optimum."""
        if not peak:
            peak.append(arch)
        return 100.0 - _distance(arch, peak[0])

    strategy = LocalSearch(space, np.random.default_rng(5), improvement=improvement)
    driver = Driver(strategy, peaked)
    start = driver.step()
    assert strategy.restarts_ == 1
    neighbours = [driver.step() for _ in range(24)]
    assert set(neighbours) == set(space.neighbours(start))
    assert strategy.current_ == (start, 100.0)  # nothing beat the start
    fresh = driver.step()
    assert strategy.restarts_ == 2 and strategy.current_ == (fresh, peaked(fresh))
    assert fresh not in driver.queried[:-1]


@pytest.mark.parametrize("improvement", ["best", "first"])
def test_never_queries_an_architecture_twice(full_table, improvement):
    trajectory = run_once(LocalSearch, full_table, Budget(queries=1500), 0, {"improvement": improvement})
    assert len(trajectory) == 1500
    assert len(np.unique(trajectory.indices)) == 1500


def test_already_queried_neighbours_are_skipped_for_free(space):
    """On a flat landscape every start is a local optimum: many restarts, many overlapping
    neighbourhoods, and still no architecture is asked for twice."""
    driver = Driver(LocalSearch(space, np.random.default_rng(6), improvement="best"), lambda arch: 50.0)
    for _ in range(2000):
        driver.step()
    assert len(set(driver.queried)) == len(driver.queried)
    assert driver.strategy.restarts_ >= 2000 // 25


def test_stops_when_every_feasible_architecture_is_queried(full_table):
    feasible = [11, 222, 3333, 4444, 15000]
    latency = np.full(full_table.space.size, 10.0)
    latency[feasible] = 1.0
    hardware = HardwareView("tiny", full_table.space, latency, max_ms=2.0)
    trajectory = run_once(LocalSearch, full_table, Budget(queries=50), 0, hardware=hardware)
    assert sorted(trajectory.indices.tolist()) == feasible
