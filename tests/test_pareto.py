"""Pareto fronts, 2-D hypervolume and the hypervolume gap of a multi-objective run."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.oracle import Budget, Trajectory
from nasbench.pareto import REFERENCE, front_of, hypervolume, hypervolume_curve, pareto_mask
from nasbench.study import StudyResult, run_study
from strategies import NSGA2, RandomSearch

DEVICE = "synthetic-cpu-b1"


def brute_force_mask(acc: np.ndarray, latency: np.ndarray) -> np.ndarray:
    """O(n^2) reference: not dominated, and the first of any exact duplicates."""
    n = len(acc)
    keep = np.ones(n, dtype=bool)
    for j in range(n):
        for i in range(n):
            if i == j:
                continue
            dominates = acc[i] >= acc[j] and latency[i] <= latency[j] and (acc[i] > acc[j] or latency[i] < latency[j])
            duplicate_before = i < j and acc[i] == acc[j] and latency[i] == latency[j]
            if dominates or duplicate_before:
                keep[j] = False
    return keep


def trajectory_of(indices, values) -> Trajectory:
    indices = np.asarray(indices, dtype=np.int64)
    n = len(indices)
    return Trajectory(indices, np.full(n, 6, dtype=np.int32), np.asarray(values, dtype=np.float64),
                      np.ones(n), np.zeros(n, dtype=np.int64))


# -- pareto_mask -------------------------------------------------------------------------
def test_pareto_mask_hand_made_points():
    acc = [90, 80, 85, 90, 70, 95, 80, np.nan]
    lat = [2.0, 1.0, 1.5, 2.0, 3.0, 4.0, 1.2, 0.1]
    # (90,2) kept, (80,1) kept, (85,1.5) kept, second (90,2) a duplicate, (70,3) dominated,
    # (95,4) kept, (80,1.2) dominated by (80,1) on latency alone, NaN never on the front
    assert pareto_mask(acc, lat).tolist() == [True, True, True, False, False, True, False, False]


def test_pareto_mask_keeps_the_first_of_duplicates_and_handles_empty():
    assert pareto_mask([5, 5, 5], [1, 1, 1]).tolist() == [True, False, False]
    assert pareto_mask([], []).tolist() == []
    with pytest.raises(NasbenchError, match="latency"):
        pareto_mask([1, 2], [1])


def test_pareto_mask_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        acc = rng.integers(0, 8, 60).astype(float)  # small ranges: many ties
        lat = rng.integers(0, 8, 60).astype(float)
        np.testing.assert_array_equal(pareto_mask(acc, lat), brute_force_mask(acc, lat))


# -- hypervolume -------------------------------------------------------------------------
def test_hypervolume_hand_computation():
    # staircase: (0.5 acc from latency 0.2) and (0.8 acc from latency 0.6) up to latency 1
    area = 0.4 * 0.5 + 0.4 * 0.8
    assert hypervolume([0.5, 0.8], [0.2, 0.6], (0.0, 1.0)) == pytest.approx(area)
    # a dominated point, a point slower than the reference and one below it add nothing
    assert hypervolume([0.5, 0.8, 0.4, 0.99, -0.1], [0.2, 0.6, 0.5, 1.2, 0.0], (0.0, 1.0)) == pytest.approx(area)
    # the reference moves the box: accuracy from 0.3, latency up to 0.8
    assert hypervolume([0.5, 0.8], [0.2, 0.6], (0.3, 0.8)) == pytest.approx(0.4 * 0.2 + 0.2 * 0.5)
    assert hypervolume([], [], (0.0, 1.0)) == 0.0
    assert hypervolume([0.5], [1.0], (0.0, 1.0)) == 0.0


def test_hypervolume_matches_a_brute_force_grid_estimate():
    rng = np.random.default_rng(1)
    cells = 400
    centres = (np.arange(cells) + 0.5) / cells
    grid_acc, grid_lat = np.meshgrid(centres, centres, indexing="ij")
    for _ in range(5):
        acc, lat = rng.random(25), rng.random(25)
        dominated = np.zeros_like(grid_acc, dtype=bool)
        for a, latency in zip(acc, lat):
            dominated |= (grid_acc <= a) & (grid_lat >= latency)
        assert hypervolume(acc, lat, (0.0, 1.0)) == pytest.approx(dominated.mean(), abs=0.01)


# -- the gap of a run ----------------------------------------------------------------------
def true_front(table) -> np.ndarray:
    return np.flatnonzero(pareto_mask(table.final("test_acc"), table.latency(DEVICE)))


def test_gap_is_zero_once_the_whole_true_front_is_queried(full_table):
    rng = np.random.default_rng(2)
    front = true_front(full_table)
    others = rng.choice(full_table.space.size, 200, replace=False)
    indices = np.concatenate([others, rng.permutation(front)])
    test = full_table.final("test_acc").astype(float)
    curve = hypervolume_curve(full_table, trajectory_of(indices, test[indices]), DEVICE)
    assert curve.regret[len(others) - 1] > 0.5  # random archs alone: a real gap
    assert curve.regret[-1] == pytest.approx(0.0, abs=1e-9)
    assert curve.regret[len(others) + len(front) - 2] > 0  # one front member still missing
    assert curve.incumbents.tolist() == [-1] * len(indices)
    np.testing.assert_array_equal(curve.seconds, np.arange(1, len(indices) + 1))


def test_gap_is_non_increasing_when_validation_ranks_as_test(full_table):
    rng = np.random.default_rng(3)
    indices = rng.choice(full_table.space.size, 500, replace=False)
    test = full_table.final("test_acc").astype(float)
    gap = hypervolume_curve(full_table, trajectory_of(indices, test[indices]), DEVICE).regret
    assert np.all(np.diff(gap) <= 1e-12) and gap[0] > gap[-1] > 0
    assert gap[0] <= 100.0


def test_front_is_chosen_by_validation_and_scored_by_test(full_table):
    # A is the best on test; B is faster but worse on test. When B also validates better,
    # it dominates A on validation and pushes A off the found front: the gap (scored on
    # test, as regret scores its validation-chosen incumbent) grows.
    test = full_table.final("test_acc").astype(float)
    latency = full_table.latency(DEVICE)
    a = int(np.nanargmax(test))
    b = int(np.flatnonzero((latency < latency[a]) & (test < test[a] - 5))[0])
    trusted = hypervolume_curve(full_table, trajectory_of([a, b], [90.0, 50.0]), DEVICE).regret
    fooled = hypervolume_curve(full_table, trajectory_of([a, b], [50.0, 90.0]), DEVICE).regret
    assert trusted[0] == fooled[0]
    assert fooled[1] > trusted[1]
    assert [row["arch_index"] for row in front_of(full_table, trajectory_of([a, b], [50.0, 90.0]), DEVICE)] == [b]
    assert [row["arch_index"] for row in front_of(full_table, trajectory_of([a, b], [90.0, 50.0]), DEVICE)] == [b, a]


def test_front_of_lists_the_validation_front_fastest_first(full_table):
    rng = np.random.default_rng(4)
    indices = rng.choice(full_table.space.size, 150, replace=False)
    values = rng.uniform(40, 95, len(indices))
    latency = full_table.latency(DEVICE)
    front = front_of(full_table, trajectory_of(indices, values), DEVICE)
    expected = set(indices[pareto_mask(values, latency[indices])].tolist())
    assert {row["arch_index"] for row in front} == expected
    assert [row["latency_ms"] for row in front] == sorted(row["latency_ms"] for row in front)
    row = front[0]
    assert set(row) == {"arch_index", "arch_str", "valid_acc", "test_acc", "latency_ms", "query"}
    assert full_table.space.index(full_table.space.parse(row["arch_str"])) == row["arch_index"]
    assert row["valid_acc"] == values[row["query"] - 1]
    assert row["test_acc"] == pytest.approx(float(full_table.final("test_acc")[row["arch_index"]]))


def test_normalisation_and_reference(full_table):
    # the single fastest architecture, queried alone, covers (its accuracy) x (1 - its latency share)
    latency = full_table.latency(DEVICE).astype(float)
    test = full_table.final("test_acc").astype(float)
    fastest = int(np.nanargmin(latency))
    slowest = np.nanmax(latency)
    front = true_front(full_table)
    whole = hypervolume(test[front] / 100, latency[front] / slowest, REFERENCE)
    gap = hypervolume_curve(full_table, trajectory_of([fastest], [50.0]), DEVICE).regret[0]
    assert gap == pytest.approx(100 * (whole - test[fastest] / 100 * (1 - latency[fastest] / slowest)))


def test_feasible_mask_restricts_both_fronts(full_table):
    latency = full_table.latency(DEVICE).astype(float)
    feasible = latency <= np.nanquantile(latency, 0.3)
    test = full_table.final("test_acc").astype(float)
    front = np.flatnonzero(pareto_mask(np.where(feasible, test, np.nan), latency))
    slow = int(np.flatnonzero(~feasible)[0])
    indices = np.concatenate([[slow], front])
    curve = hypervolume_curve(full_table, trajectory_of(indices, test[indices]), DEVICE, feasible)
    assert curve.regret[-1] == pytest.approx(0.0, abs=1e-9)
    assert curve.regret[0] == curve.regret.max()  # the infeasible query counts for nothing


# -- run_study ------------------------------------------------------------------------------
def test_run_study_reports_the_hypervolume_gap_for_multi_objective_strategies(full_table, tmp_path):
    result = run_study(NSGA2, full_table, Budget(queries=40), [0, 1], latency_device=DEVICE)
    assert result.multi_objective and result.objective == "hypervolume gap"
    for run in result.runs:
        expected = hypervolume_curve(full_table, run.trajectory, DEVICE)
        np.testing.assert_array_equal(run.regret.regret, expected.regret)
    result.save(tmp_path / "nsga2.json")
    loaded = StudyResult.load(tmp_path / "nsga2.json")
    assert loaded.objective == "hypervolume gap"
    np.testing.assert_array_equal(loaded.curves[0].regret, result.curves[0].regret)
    single = run_study(RandomSearch, full_table, Budget(queries=10), [0], latency_device=DEVICE)
    assert not single.multi_objective and single.objective == "regret"
