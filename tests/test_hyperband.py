"""Hyperband (strategies/hyperband.py): the bracket schedule of Li et al. 2018, successive
halving inside a bracket, rung bookkeeping under sequential ask/tell, and that it beats
random search by simulated seconds on the synthetic table."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasbench.errors import NasbenchError, StrategyError
from nasbench.evaluation import summarize_by_seconds
from nasbench.oracle import Budget, Observation
from nasbench.study import run_once, run_study
from strategies import get_strategy
from strategies.hyperband import Hyperband, Rung, bracket_schedule


def _brackets(schedule) -> list[list[tuple[int, int]]]:
    return [[(rung.n, rung.epochs) for rung in bracket] for bracket in schedule]


def observe(arch, epochs: int, value: float) -> Observation:
    """A hand-made observation (the strategy only reads arch, epochs and value)."""
    return Observation(arch, epochs, value, cost=float(epochs), query=0, elapsed=0.0)


# -- bracket schedule ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("max_epochs", "expected"),
    [
        # s_max = 1, B = 2R: s=1 -> n = ceil(2 * 3 / 2) = 3 at R/3, 1 at R; s=0 -> 2 at R
        (6, [[(3, 2), (1, 6)], [(2, 6)]]),
        (7, [[(3, 2), (1, 7)], [(2, 7)]]),  # 7/3 = 2.33 -> 2
        (5, [[(3, 2), (1, 5)], [(2, 5)]]),  # 5/3 = 1.67 -> 2
        # the shipped synthetic table's 20 epochs: s_max = 2, B = 60
        (20, [[(9, 2), (3, 7), (1, 20)], [(5, 7), (1, 20)], [(3, 20)]]),
    ],
)
def test_bracket_schedule_eta_3(max_epochs, expected):
    assert _brackets(bracket_schedule(max_epochs, 1, 3)) == expected


def test_bracket_schedule_is_table_1_of_the_paper():
    """Li et al. 2018, Table 1: R = 81, eta = 3."""
    assert _brackets(bracket_schedule(81, 1, 3)) == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]


def test_bracket_schedule_min_epochs_and_other_eta():
    assert _brackets(bracket_schedule(6, 2, 3)) == [[(3, 2), (1, 6)], [(2, 6)]]  # R = 3
    assert _brackets(bracket_schedule(6, 6, 3)) == [[(1, 6)]]  # R = 1: one full training
    # eta = 2, R = 6: s_max = 2, B = 18; 6/4 = 1.5 rounds half up to 2
    assert _brackets(bracket_schedule(6, 1, 2)) == [[(4, 2), (2, 3), (1, 6)], [(3, 3), (1, 6)], [(3, 6)]]


def test_bracket_schedule_drops_rungs_that_rounding_collapses():
    # eta = 1.2, R = 2: s_max = 3; bracket s=3 has r_i = 1.16, 1.39, 1.67, 2 -> epochs 1, 1, 2, 2
    assert bracket_schedule(2, 1, 1.2)[0] == (Rung(2, 1), Rung(1, 2))
    for max_epochs in range(1, 30):
        for min_epochs in (1, 2, 3):
            for eta in (1.5, 2, 3, 4):
                if min_epochs > max_epochs:
                    continue
                for bracket in bracket_schedule(max_epochs, min_epochs, eta):
                    epochs = [rung.epochs for rung in bracket]
                    assert epochs == sorted(set(epochs)), (max_epochs, min_epochs, eta)
                    assert min_epochs <= epochs[0] and epochs[-1] == max_epochs
                    assert all(a.n >= b.n >= 1 for a, b in itertools.pairwise(bracket))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"eta": 1}, "eta"),
        ({"eta": True}, "eta"),
        ({"eta": float("inf")}, "eta"),
        ({"min_epochs": 0}, "min_epochs"),
        ({"min_epochs": 2.5}, "min_epochs"),
        ({"min_epochs": 7}, "min_epochs"),
    ],
)
def test_bad_hyperparameters_are_named(space, kwargs, field):
    with pytest.raises(NasbenchError, match=f"^{field}: "):
        Hyperband(space, np.random.default_rng(0), 6, **kwargs)


def test_needs_max_epochs(space):
    with pytest.raises(NasbenchError, match="^max_epochs: "):
        Hyperband(space, np.random.default_rng(0))


# -- successive halving ----------------------------------------------------------------
def test_successive_halving_promotes_exactly_the_top(space):
    """20 epochs: 9 at 2 epochs -> best 3 at 7 -> best 1 at 20; then the next bracket."""
    hb = Hyperband(space, np.random.default_rng(0), 20)
    values = [50.0, 80.0, 20.0, 70.0, 90.0, 10.0, 60.0, 30.0, 40.0]
    first = []
    for value in values:
        arch, epochs = hb.ask()
        assert epochs == 2
        first.append(arch)
        hb.tell(observe(arch, epochs, value))
    assert hb.ask() == (first[4], 7)  # the best 3 in order: 90, 80, 70
    hb.tell(observe(first[4], 7, 30.0))
    assert hb.ask() == (first[1], 7)
    hb.tell(observe(first[1], 7, 95.0))
    assert hb.ask() == (first[3], 7)
    hb.tell(observe(first[3], 7, 60.0))
    # at 7 epochs the order is now 80-arch (95), 70-arch (60), 90-arch (30)
    assert hb.ask() == (first[1], 20)
    hb.tell(observe(first[1], 20, 96.0))
    arch, epochs = hb.ask()  # bracket s=1 starts with 5 new architectures at 7 epochs
    assert (hb.bracket_, hb.rung_, epochs) == (1, 0, 7) and arch not in first


def test_ties_keep_the_earlier_architecture(space):
    hb = Hyperband(space, np.random.default_rng(1), 6)
    archs = []
    for _ in range(3):
        arch, epochs = hb.ask()
        archs.append(arch)
        hb.tell(observe(arch, epochs, 50.0))
    assert hb.ask() == (archs[0], 6)


def test_a_rung_finishes_before_promotion(space):
    """All results of a rung are needed; they are matched by architecture, in any order."""
    hb = Hyperband(space, np.random.default_rng(2), 6)
    asked = [hb.ask() for _ in range(3)]
    assert [epochs for _, epochs in asked] == [2, 2, 2]
    with pytest.raises(StrategyError, match="pending"):
        hb.ask()
    hb.tell(observe(asked[2][0], 2, 10.0))
    hb.tell(observe(asked[0][0], 2, 30.0))
    assert hb.rung_values_ == [30.0, None, 10.0]
    with pytest.raises(StrategyError, match="1 pending"):
        hb.ask()
    hb.tell(observe(asked[1][0], 2, 20.0))
    assert hb.ask() == (asked[0][0], 6)


def test_iterations_restart_with_new_architectures_without_repeats(space):
    hb = Hyperband(space, np.random.default_rng(3), 20)
    per_iteration: dict[int, list] = {}
    for step in range(2 * 22 + 1):  # an iteration of the 20-epoch schedule: 9+3+1 + 5+1 + 3 = 22 queries
        arch, epochs = hb.ask()
        if hb.rung_ == 0:
            per_iteration.setdefault(hb.iteration_, []).append(arch)
        hb.tell(observe(arch, epochs, float(step % 7)))
    assert set(per_iteration) == {0, 1, 2} and len(per_iteration[2]) == 1
    assert len(per_iteration[0]) == 9 + 5 + 3
    for archs in per_iteration.values():
        assert len(set(archs)) == len(archs)  # no repeats within an iteration
    assert per_iteration[1] != per_iteration[0][: len(per_iteration[1])]  # fresh architectures


def test_epochs_and_promotions_on_the_table(full_table):
    """Through the real oracle: epochs follow the schedule, the promoted arch is the rung's
    best, and it is charged the full cumulative seconds again (no checkpoints)."""
    trajectory = run_once(get_strategy("hyperband"), full_table, Budget(queries=5 * 5), 0)
    epochs = trajectory.epochs.tolist()
    assert epochs == [2, 2, 2, 6, 6, 6] * 4 + [2]
    cum = full_table.cumulative_seconds()
    for start in range(0, 24, 6):
        rung = slice(start, start + 3)
        best = trajectory.indices[rung][np.argmax(trajectory.values[rung])]
        assert trajectory.indices[start + 3] == best
        seed = np.flatnonzero(full_table.seeds == trajectory.trials[start + 3])[0]
        assert trajectory.costs[start + 3] == pytest.approx(cum[best, seed, 5])


def test_same_seed_same_run_under_a_seconds_budget(full_table):
    budget = Budget(seconds=300.0)
    a = run_once(get_strategy("hyperband"), full_table, budget, 7)
    b = run_once(get_strategy("hyperband"), full_table, budget, 7)
    for field in ("indices", "epochs", "values", "costs", "trials"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_beats_random_search_by_simulated_seconds(full_table):
    """Mean regret over 20 seeds at the end of a 50-full-trainings seconds budget, and
    averaged over a log grid of checkpoints (measured: hyperband 3.52 / 5.73, random
    3.62 / 6.36; s_max is only 1 with 6 epochs, so the margin is small)."""
    full = float(np.nanmedian(full_table.cumulative_seconds()[:, :, -1]))
    budget = Budget(seconds=50 * full)
    grid = np.geomspace(5 * full, 50 * full, 8)
    means = {}
    for name in ("random", "hyperband"):
        result = run_study(get_strategy(name), full_table, budget, range(20))
        means[name] = summarize_by_seconds(result.curves, grid).mean
    assert means["hyperband"][-1] < means["random"][-1]
    assert means["hyperband"].mean() < means["random"].mean()
