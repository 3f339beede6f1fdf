"""The budgeted oracle: answers, charges, budget enforcement, trajectory, isolation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbench.errors import (
    BudgetExhausted,
    InvalidArchitectureError,
    InvalidBudgetError,
    NasbenchError,
    OutOfDomainError,
)
from nasbench.oracle import Budget, Observation, Oracle
from nasbench.table import Table

EPOCHS = 6  # of the session tables


def _position(table: Table, trial: int) -> int:
    position = int(np.searchsorted(table.seeds, trial))
    assert table.seeds[position] == trial
    return position


def test_query_answers_from_the_sampled_seed(full_table):
    oracle = Oracle(full_table, Budget(queries=100), rng=3)
    asked = [(17, None), (4242, 1), (17, 3), (9, EPOCHS), (15_000, None), (2, 2)]
    values = [oracle.query(index, epochs) for index, epochs in asked]
    trajectory = oracle.trajectory()
    valid = full_table.curve("valid_acc")
    for k, (index, epochs) in enumerate(asked):
        epoch = EPOCHS if epochs is None else epochs
        position = _position(full_table, int(trajectory.trials[k]))
        assert values[k] == float(valid[index, position, epoch - 1])
        expected_cost = float(np.sum(full_table.curve("epoch_seconds")[index, position, :epoch], dtype=np.float64))
        assert trajectory.costs[k] == pytest.approx(expected_cost, rel=1e-12)
        assert trajectory.epochs[k] == epoch
    assert set(trajectory.trials.tolist()) <= set(full_table.seeds.tolist())


def test_sampled_trials_cover_every_seed(full_table):
    oracle = Oracle(full_table, Budget(queries=200), rng=0)
    for _ in range(200):
        oracle.query(11)
    trials = oracle.trajectory().trials
    assert set(trials.tolist()) == {0, 1}
    assert 60 < np.sum(trials == 0) < 140  # a fair coin over 200 draws


def test_trial_mean_returns_the_seed_mean(full_table):
    oracle = Oracle(full_table, Budget(queries=10), rng=0, trial="mean")
    for index, epoch in [(17, EPOCHS), (4242, 2), (100, 1)]:
        observation = oracle.evaluate(index, epoch)
        assert observation.value == pytest.approx(float(full_table.lookup([index], epoch=epoch)[0]), rel=1e-6)
        per_seed = full_table.curve("valid_acc")[index, :, epoch - 1].astype(np.float64)
        assert observation.value == pytest.approx(per_seed.mean(), rel=1e-6)
        seconds = full_table.curve("epoch_seconds")[index, :, :epoch].astype(np.float64).sum(axis=1)
        assert observation.cost == pytest.approx(seconds.mean(), rel=1e-6)
    assert oracle.trajectory().trials.tolist() == [-1, -1, -1]


def test_lower_fidelity_costs_less(full_table):
    oracle = Oracle(full_table, Budget(queries=10), rng=0, trial="mean")
    costs = [oracle.evaluate(55, epoch).cost for epoch in range(1, EPOCHS + 1)]
    assert all(a < b for a, b in zip(costs, costs[1:]))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"queries": 0}, "queries"),
        ({"queries": -1}, "queries"),
        ({"queries": 1.5}, "queries"),
        ({"queries": True}, "queries"),
        ({"queries": "10"}, "queries"),
        ({}, "queries and/or seconds"),
        ({"queries": None, "seconds": None}, "queries and/or seconds"),
        ({"seconds": 0}, "seconds"),
        ({"seconds": -3.0}, "seconds"),
        ({"seconds": math.nan}, "seconds"),
        ({"seconds": math.inf}, "seconds"),
        ({"seconds": "60"}, "seconds"),
        ({"queries": 5, "seconds": -1}, "seconds"),
    ],
)
def test_budget_validation(kwargs, field):
    with pytest.raises(InvalidBudgetError) as info:
        Budget(**kwargs)
    assert field in str(info.value)


def test_valid_budgets():
    assert Budget(queries=np.int64(3)).queries == 3
    assert Budget(seconds=2).seconds == 2
    assert Budget(queries=1, seconds=0.5) == Budget(queries=1, seconds=0.5)


def test_query_budget(full_table):
    oracle = Oracle(full_table, Budget(queries=3), rng=0)
    for index in (1, 2, 3):
        assert not oracle.exhausted
        oracle.query(index)
    assert oracle.exhausted and oracle.queries_used == 3
    spent = oracle.seconds_used
    with pytest.raises(BudgetExhausted, match="3 queries"):
        oracle.query(4)
    with pytest.raises(BudgetExhausted):
        oracle.query("not even an architecture")  # the budget is checked first
    assert oracle.queries_used == 3 and oracle.seconds_used == spent
    assert len(oracle.trajectory()) == 3


def test_seconds_budget_refuses_and_does_not_charge(full_table):
    full_cost = Oracle(full_table, Budget(queries=1), trial="mean").evaluate(77).cost
    oracle = Oracle(full_table, Budget(seconds=1.5 * full_cost), rng=0, trial="mean")
    first = oracle.evaluate(77)
    assert first.cost == pytest.approx(full_cost) and first.elapsed == first.cost and first.query == 1
    assert not oracle.exhausted
    with pytest.raises(BudgetExhausted, match="simulated seconds"):
        oracle.evaluate(77)  # would need 2 x full_cost > 1.5 x full_cost
    assert oracle.seconds_used == first.cost and oracle.queries_used == 1
    cheap = oracle.evaluate(77, 1)  # one epoch still fits
    assert cheap.cost < 0.5 * full_cost
    assert oracle.seconds_used == pytest.approx(first.cost + cheap.cost)
    assert len(oracle.trajectory()) == 2


def test_exhausted_when_seconds_spent_exactly(full_table):
    cost = Oracle(full_table, Budget(queries=1), trial="mean").evaluate(5).cost
    oracle = Oracle(full_table, Budget(seconds=cost), trial="mean")
    oracle.evaluate(5)
    assert oracle.exhausted


def test_trajectory_records_everything(full_table, space):
    oracle = Oracle(full_table, Budget(queries=10), rng=1)
    empty = oracle.trajectory()
    assert len(empty) == 0 and empty.indices.dtype == np.int64 and empty.values.dtype == np.float64
    cell = space.from_index(321)
    observations = [oracle.evaluate(arch, epochs) for arch, epochs in [(cell, None), (str(cell), 2), ("9", 4), (np.int64(10), 1)]]
    assert all(isinstance(o, Observation) for o in observations)
    assert observations[0].arch == cell == observations[1].arch
    trajectory = oracle.trajectory()
    np.testing.assert_array_equal(trajectory.indices, [321, 321, 9, 10])
    np.testing.assert_array_equal(trajectory.epochs, [EPOCHS, 2, 4, 1])
    np.testing.assert_array_equal(trajectory.values, [o.value for o in observations])
    np.testing.assert_array_equal(trajectory.costs, [o.cost for o in observations])
    np.testing.assert_array_equal(trajectory.elapsed, [o.elapsed for o in observations])
    assert [o.query for o in observations] == [1, 2, 3, 4]
    assert trajectory.indices.dtype == np.int64 and trajectory.epochs.dtype == np.int32
    assert trajectory.costs.dtype == np.float64 and trajectory.trials.dtype == np.int64
    assert oracle.seconds_used == pytest.approx(trajectory.costs.sum())


@pytest.mark.parametrize("metric", ["test_acc", "test_loss"])
def test_oracle_refuses_test_metrics(full_table, metric):
    with pytest.raises(NasbenchError, match=metric):
        Oracle(full_table, Budget(queries=5), metric=metric)


def test_oracle_rejects_unknown_trial_mode(full_table):
    with pytest.raises(NasbenchError, match="'median'"):
        Oracle(full_table, Budget(queries=5), trial="median")


@pytest.mark.parametrize("arch", [-1, 15_625, "15625", np.int64(20_000)])
def test_unknown_architecture(full_table, arch):
    oracle = Oracle(full_table, Budget(queries=5), rng=0)
    with pytest.raises(OutOfDomainError):
        oracle.query(arch)
    assert oracle.queries_used == 0


def test_malformed_architecture(full_table):
    oracle = Oracle(full_table, Budget(queries=5), rng=0)
    with pytest.raises(InvalidArchitectureError, match="conv_5x5"):
        oracle.query("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert oracle.queries_used == 0


def test_architecture_absent_from_a_partial_table(small_table, space):
    oracle = Oracle(small_table, Budget(queries=5), rng=0)
    value = oracle.query(199)  # the last present architecture
    position = _position(small_table, int(oracle.trajectory().trials[0]))
    assert value == float(small_table.curve("valid_acc")[199, position, -1])
    for arch in (200, str(space.from_index(5000))):
        with pytest.raises(OutOfDomainError, match="not in the table"):
            oracle.query(arch)
    assert oracle.queries_used == 1


@pytest.mark.parametrize("epochs", [0, -1, EPOCHS + 1, 1.0, True, "3"])
def test_bad_fidelity(full_table, epochs):
    oracle = Oracle(full_table, Budget(queries=5), rng=0)
    with pytest.raises(OutOfDomainError, match="epochs"):
        oracle.query(3, epochs)
    assert oracle.queries_used == 0 and oracle.seconds_used == 0


def test_same_seed_same_answers(full_table):
    rng = np.random.default_rng(0)
    queries = [(int(i), int(e)) for i, e in zip(rng.integers(0, 15_625, 60), rng.integers(1, EPOCHS + 1, 60))]

    def answers(seed):
        oracle = Oracle(full_table, Budget(queries=60), rng=np.random.default_rng(seed))
        return [oracle.query(i, e) for i, e in queries], oracle.trajectory()

    (a, ta), (b, tb), (_, tc) = answers(5), answers(5), answers(6)
    assert a == b
    for name in ("indices", "epochs", "values", "costs", "trials"):
        np.testing.assert_array_equal(getattr(ta, name), getattr(tb, name))
    assert not np.array_equal(ta.trials, tc.trials)


def test_integer_and_generator_seeds_agree(full_table):
    by_int = Oracle(full_table, Budget(queries=20), rng=9)
    by_gen = Oracle(full_table, Budget(queries=20), rng=np.random.default_rng(9))
    assert [by_int.query(i) for i in range(20)] == [by_gen.query(i) for i in range(20)]


def test_oracle_does_not_expose_the_table(full_table):
    oracle = Oracle(full_table, Budget(queries=5), trial="mean")
    assert not any(isinstance(value, Table) for value in vars(oracle).values())
    assert oracle.space is full_table.space and oracle.max_epochs == EPOCHS
    test = full_table.curve("test_acc")
    assert not any(value is test for value in vars(oracle).values())


def test_budgets_are_per_oracle(full_table):
    budget = Budget(queries=2)
    first, second = Oracle(full_table, budget), Oracle(full_table, budget)
    first.query(1)
    first.query(2)
    assert first.exhausted and not second.exhausted
    second.query(3)
    assert second.queries_used == 1


def test_a_refused_query_does_not_use_up_a_seed_draw(full_table):
    """Sample mode: what the oracle draws next is the same whether or not a query was refused."""
    probe = Oracle(full_table, Budget(queries=2), trial="mean")
    one, full = probe.evaluate(77, 1).cost, probe.evaluate(77).cost
    assert full > 4 * one
    for seed in range(8):
        answers = []
        for refuse_first in (False, True):
            oracle = Oracle(full_table, Budget(seconds=5 * one), rng=seed, trial="sample")
            oracle.evaluate(77, 1)
            if refuse_first:
                with pytest.raises(BudgetExhausted):
                    oracle.evaluate(77)  # all epochs: over the budget
            for _ in range(3):
                oracle.evaluate(77, 1)
            answers.append(oracle.trajectory().trials[-3:].tolist())  # the seeds drawn
        assert answers[0] == answers[1]
