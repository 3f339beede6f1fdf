"""NSGA-II: non-dominated sorting, crowding distance, selection, and its search."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.hardware import HardwareView
from nasbench.oracle import Budget, Observation
from nasbench.pareto import hypervolume_curve
from nasbench.spaces import get_space
from nasbench.study import run_once, run_study
from strategies import NSGA2, RandomSearch
from strategies.nsga2 import crowding_distance, environmental_selection, non_dominated_sort, rank_and_crowding

DEVICE = "synthetic-cpu-b1"


@pytest.fixture(scope="module")
def hardware(full_table) -> HardwareView:
    return HardwareView.from_table(full_table, DEVICE)


def make(hardware, seed=0, **params) -> NSGA2:
    return NSGA2(get_space("nb201"), np.random.default_rng(seed), 6, hardware, **params)


def observe(strategy: NSGA2, arch, value: float, latency: float, query: int = 1) -> None:
    strategy.tell(Observation(arch, 6, value, 1.0, query, float(query), latency))


# -- sorting and crowding (all objectives minimised) -----------------------------------------
def test_non_dominated_sort_hand_example():
    points = np.array([(1, 5), (2, 3), (3, 1), (2, 4), (3, 3), (4, 4), (5, 5), (2, 3)], dtype=float)
    # front 0: (1,5) (2,3) (3,1) and the duplicate (2,3); (2,4) and (3,3) fall to (2,3);
    # (4,4) to (3,3) and (2,4); (5,5) to (4,4)
    assert non_dominated_sort(points).tolist() == [0, 0, 0, 1, 1, 2, 3, 0]
    assert non_dominated_sort(np.empty((0, 2))).tolist() == []
    with pytest.raises(NasbenchError, match="objectives"):
        non_dominated_sort(np.array([1.0, 2.0]))


def test_non_dominated_sort_agrees_with_peeling_fronts():
    rng = np.random.default_rng(0)
    points = rng.integers(0, 10, (60, 2)).astype(float)
    ranks = non_dominated_sort(points)
    left = np.arange(len(points))
    rank = 0
    while len(left):
        f = points[left]
        dominated = np.array([any(np.all(g <= p) and np.any(g < p) for g in f) for p in f])
        np.testing.assert_array_equal(ranks[left[~dominated]], rank)
        left = left[dominated]
        rank += 1


def test_crowding_distance_hand_example():
    front = np.array([(1, 6), (3, 5), (4, 2), (5, 1)], dtype=float)
    # ranges 4 and 5; (3,5): (4-1)/4 + (6-2)/5; (4,2): (5-3)/4 + (5-1)/5; ends: infinite
    np.testing.assert_allclose(crowding_distance(front), [np.inf, 0.75 + 0.8, 0.5 + 0.8, np.inf])
    np.testing.assert_array_equal(crowding_distance(np.array([(1.0, 2.0), (2.0, 1.0)])), [np.inf, np.inf])
    # an objective constant on the front adds nothing, not even infinite ends
    np.testing.assert_allclose(crowding_distance(np.array([(0, 1), (0, 2), (0, 4)], dtype=float)),
                               [np.inf, 1.0, np.inf])
    np.testing.assert_array_equal(crowding_distance(np.full((3, 2), 7.0)), [0.0, 0.0, 0.0])


def test_rank_and_crowding_is_per_front():
    points = np.array([(1, 3), (2, 2), (3, 1), (2, 3), (3, 2)], dtype=float)
    ranks, crowding = rank_and_crowding(points)
    assert ranks.tolist() == [0, 0, 0, 1, 1]
    np.testing.assert_allclose(crowding, [np.inf, 2.0, np.inf, np.inf, np.inf])


def test_environmental_selection_takes_whole_fronts_then_the_least_crowded():
    front0 = [(0, 5), (5, 0)]
    front1 = [(1, 11), (2, 9), (3, 8.9), (11, 1)]  # each dominated by a front-0 point
    points = np.array(front0 + front1 + [(20, 20)], dtype=float)
    # front 1 crowding (ranges 10 and 10): (2,9): 0.2 + 0.21; (3,8.9): 0.9 + 0.8; ends infinite
    np.testing.assert_allclose(crowding_distance(points[2:6]), [np.inf, 0.41, 1.7, np.inf])
    keep = environmental_selection(points, 5)
    # front 0 whole; of front 1 its two ends and the middle point with the larger crowding
    assert keep.tolist() == [0, 1, 2, 4, 5]
    assert environmental_selection(points, 7).tolist() == list(range(7))


# -- the strategy ---------------------------------------------------------------------------
def test_hyperparameters_are_validated(hardware):
    with pytest.raises(NasbenchError, match="population_size"):
        make(hardware, population_size=1)
    with pytest.raises(NasbenchError, match="crossover_prob"):
        make(hardware, crossover_prob=1.5)
    with pytest.raises(NasbenchError, match="mutation_prob"):
        make(hardware, mutation_prob=-0.1)
    with pytest.raises(NasbenchError, match="hardware"):
        NSGA2(get_space("nb201"), np.random.default_rng(0), 6, None)


def test_initial_population_is_random_then_a_generation_is_selected(hardware):
    s = make(hardware, population_size=4)
    space = s.space
    archs = []
    for value, latency in ((50.0, 1.0), (60.0, 2.0), (40.0, 3.0), (70.0, 4.0)):  # random first generation
        arch = s.ask()
        observe(s, arch, value, latency)
        archs.append(arch)
    assert s.generation == 0 and len(s.population) == 4
    np.testing.assert_array_equal(s._ranks, [0, 0, 1, 0])
    # four children; two of them dominate everything, two are dominated by everything
    children = []
    for value, latency in ((99.0, 0.5), (10.0, 9.0), (98.0, 0.4), (11.0, 9.5)):
        child = s.ask()
        assert space.index(child) not in {space.index(a) for a in archs + children}  # no repeats
        children.append(child)
        observe(s, child, value, latency)
    assert s.generation == 1 and s.children == []
    survivors = {space.index(arch) for arch, _, _ in s.population}
    # merged: rank 0 = the two dominating children; rank 1 = (50,1) (60,2) (70,4), cut to
    # its two ends (infinite crowding); (40,3) and the two dominated children are dropped
    assert survivors == {space.index(a) for a in (children[0], children[2], archs[0], archs[3])}


def test_binary_tournament_prefers_rank_then_crowding(hardware):
    s = make(hardware, population_size=2)
    good, bad = s.space.from_index(0), s.space.from_index(1)
    observe(s, bad, 50.0, 2.0)
    observe(s, good, 60.0, 1.0)  # dominates
    assert all(s._tournament() == good for _ in range(50))
    s = make(hardware, population_size=3)
    ends, middle = [s.space.from_index(0), s.space.from_index(1)], s.space.from_index(2)
    observe(s, ends[0], 50.0, 1.0)
    observe(s, middle, 60.0, 2.0)  # same front, finite crowding between two infinite ends
    observe(s, ends[1], 70.0, 3.0)
    picks = [s._tournament() for _ in range(200)]
    assert middle not in picks and set(picks) == set(ends)


def test_uniform_crossover_takes_each_edge_from_a_parent(hardware):
    s = make(hardware, crossover_prob=1.0)
    first = type(s.space.from_index(0))(("none",) * 6)
    second = type(first)(("nor_conv_3x3",) * 6)
    children = [s.crossover(first, second) for _ in range(200)]
    assert all(set(c.ops) <= {"none", "nor_conv_3x3"} for c in children)
    from_second = np.mean([[op == "nor_conv_3x3" for op in c.ops] for c in children], axis=0)
    assert np.all((from_second > 0.35) & (from_second < 0.65))  # each edge a fair coin
    never = make(hardware, crossover_prob=0.0)
    assert all(never.crossover(first, second) == first for _ in range(20))


def test_same_seed_same_trajectory_and_no_repeats(full_table, hardware):
    a = run_once(NSGA2, full_table, Budget(queries=200), 5, hardware=hardware)
    b = run_once(NSGA2, full_table, Budget(queries=200), 5, hardware=hardware)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.values, b.values)
    assert len(np.unique(a.indices)) == 200
    c = run_once(NSGA2, full_table, Budget(queries=200), 5, {"population_size": 10}, hardware=hardware)
    assert not np.array_equal(a.indices, c.indices)


def test_latency_limit_is_respected(full_table):
    latency = full_table.latency(DEVICE)
    limit = float(np.nanquantile(latency, 0.2))
    hardware = HardwareView.from_table(full_table, DEVICE, limit)
    trajectory = run_once(NSGA2, full_table, Budget(queries=120), 0, {"crossover_prob": 1.0}, hardware=hardware)
    assert np.all(latency[trajectory.indices] <= limit)


def test_later_generations_move_towards_the_front(full_table, hardware):
    # the population's validation front after 300 queries beats the random first generation
    trajectory = run_once(NSGA2, full_table, Budget(queries=300), 0, hardware=hardware)
    gap = hypervolume_curve(full_table, trajectory, DEVICE).regret
    assert gap[-1] < gap[19] - 1.0


def test_nsga2_beats_random_search_on_hypervolume_gap(full_table):
    seeds = range(8)
    budget = Budget(queries=300)
    nsga2 = run_study(NSGA2, full_table, budget, seeds, latency_device=DEVICE)
    random = run_study(RandomSearch, full_table, budget, seeds, latency_device=DEVICE)
    nsga2_gap = np.mean([run.regret.regret[-1] for run in nsga2.runs])
    random_gap = np.mean([hypervolume_curve(full_table, run.trajectory, DEVICE).regret[-1] for run in random.runs])
    print(f"hypervolume gap at 300 queries over 8 seeds: nsga2 {nsga2_gap:.3f}, random {random_gap:.3f}")
    assert nsga2_gap < random_gap
