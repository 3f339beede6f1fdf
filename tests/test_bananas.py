"""BANANAS: the rounds, candidates, acquisition functions and selection, on synthetic tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.hardware import HardwareView
from nasbench.oracle import Budget, Observation
from nasbench.study import run_once, run_study
from predictors import MLPEnsemble
from strategies import get_strategy
from strategies.bananas import Bananas, acquisition_scores

FAST = {"n_models": 3, "num_layers": 3, "epochs": 50}  # small nets: these tests check logic


def _value(arch: Any) -> float:
    """A made-up accuracy: 3x3 convs help, ``none`` edges hurt."""
    return 50.0 + 8.0 * arch.ops.count("nor_conv_3x3") - 3.0 * arch.ops.count("none")


def _drive(strategy: Bananas, queries: int) -> list[Any]:
    """Ask/tell ``queries`` times against ``_value``; the architectures asked."""
    asked = []
    for q in range(1, queries + 1):
        arch = strategy.ask()
        asked.append(arch)
        strategy.tell(Observation(arch, 1, _value(arch), 1.0, q, float(q)))
    return asked


def _edits(a: Any, b: Any) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


def test_registered_under_bananas():
    assert get_strategy("bananas") is Bananas


def test_initial_random_phase_then_one_fit_per_batch(space):
    strategy = Bananas(space, np.random.default_rng(0), num_init=10, batch_size=5, **FAST)
    _drive(strategy, 10)
    assert strategy.rounds == 0  # the initial architectures are random: no predictor yet
    _drive(strategy, 1)
    assert strategy.rounds == 1
    _drive(strategy, 4)
    assert strategy.rounds == 1  # the batch of 5 is asked one by one before refitting
    _drive(strategy, 1)
    assert strategy.rounds == 2


def test_never_queries_an_architecture_twice(space):
    asked = _drive(Bananas(space, np.random.default_rng(1), **FAST), 80)
    assert len(set(asked)) == len(asked)


def test_candidates_are_unqueried_single_mutations_of_the_best(space):
    strategy = Bananas(space, np.random.default_rng(2), num_parents=3, num_candidates=40, **FAST)
    asked = _drive(strategy, 30)
    parents = strategy.parents()
    best = sorted(range(len(asked)), key=lambda i: -_value(asked[i]))[:3]
    assert sorted(_value(p) for p in parents) == sorted(_value(asked[i]) for i in best)
    candidates = strategy.candidates()
    assert len(candidates) == 40 and len(set(candidates)) == 40
    assert not set(candidates) & set(asked)
    assert all(min(_edits(c, p) for p in parents) == 1 for c in candidates)


def test_parents_break_ties_by_query_order(space):
    strategy = Bananas(space, np.random.default_rng(0), num_parents=2)
    archs = [space.from_index(i) for i in (5, 6, 7, 8)]
    for q, (arch, value) in enumerate(zip(archs, (70.0, 90.0, 80.0, 90.0)), start=1):
        strategy.tell(Observation(arch, 1, value, 1.0, q, float(q)))
    assert strategy.parents() == [archs[1], archs[3]]


class _KnownPredictor:
    """Stands in for the ensemble: mean = encoding @ weights, the same spread everywhere."""

    def __init__(self, weights: np.ndarray, spread: float) -> None:
        self.weights, self.spread = weights, spread

    def fit(self, X: np.ndarray, y: Any) -> _KnownPredictor:
        return self

    def predict(self, X: np.ndarray, return_std: bool = False) -> Any:
        assert return_std
        return X @ self.weights, np.full(len(X), self.spread)


@pytest.mark.parametrize(("acquisition", "spread"), [("its", 0.0), ("ucb", 0.0), ("ucb", 1.0), ("ei", 1.0)])
def test_batch_is_the_best_scoring_candidates(space, acquisition, spread):
    """With a known predictor (an equal spread everywhere, so every acquisition function
    ranks by the mean) the batch is exactly the top 10 candidates by predicted value."""
    weights = np.random.default_rng(3).normal(size=84)

    class Known(Bananas):
        def make_ensemble(self):
            return _KnownPredictor(weights, spread)

    strategy = Known(space, np.random.default_rng(4), acquisition=acquisition, batch_size=10)
    _drive(strategy, 10)
    strategy.rng = np.random.default_rng(0)
    batch = strategy._next_batch()
    strategy.rng = np.random.default_rng(0)  # replay the same draws: the same candidates
    candidates = strategy.candidates()
    predicted = space.encode(candidates, "path") @ weights
    assert len(candidates) == 100
    assert batch == [candidates[i] for i in np.argsort(-predicted, kind="stable")[:10]]


def test_acquisition_scores():
    mean = np.array([1.0, 2.0, 3.0])
    std = np.array([2.0, 1.0, 0.0])
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(acquisition_scores("ucb", mean, std, 0.0, rng, beta=0.5), [2.0, 2.5, 3.0])
    ei = acquisition_scores("ei", mean, std, 2.5, rng)
    assert np.all(ei >= 0) and ei[2] == pytest.approx(0.5)  # no spread: the plain gain
    assert ei[0] > ei[1]  # same shortfall scale, more spread, more expected improvement
    draws = np.array([acquisition_scores("its", mean, std, 0.0, rng) for _ in range(4000)])
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.1)
    np.testing.assert_allclose(draws.std(axis=0), std, atol=0.1)
    assert np.all(draws[:, 2] == 3.0)  # no spread, no noise


def test_its_draws_come_from_the_strategy_rng():
    mean, std = np.zeros(5), np.ones(5)
    a = acquisition_scores("its", mean, std, 0.0, np.random.default_rng(1))
    b = acquisition_scores("its", mean, std, 0.0, np.random.default_rng(1))
    c = acquisition_scores("its", mean, std, 0.0, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_ensemble_is_seeded_from_the_strategy_rng(space):
    a = Bananas(space, np.random.default_rng(9)).make_ensemble()
    b = Bananas(space, np.random.default_rng(9)).make_ensemble()
    assert isinstance(a, MLPEnsemble) and a.random_state == b.random_state
    assert a.hidden_layer_sizes == (20,) * 10 and a.n_models == 5 and a.learning_rate_init == 0.01


@pytest.mark.parametrize("acquisition", ["its", "ucb", "ei"])
def test_same_seed_same_trajectory(full_table, acquisition):
    params = {"acquisition": acquisition, **FAST}
    a = run_once(Bananas, full_table, Budget(queries=40), 5, params)
    b = run_once(Bananas, full_table, Budget(queries=40), 5, params)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.values, b.values)


def test_its_and_ucb_choose_differently(full_table):
    its = run_once(Bananas, full_table, Budget(queries=40), 5, {"acquisition": "its", **FAST})
    ucb = run_once(Bananas, full_table, Budget(queries=40), 5, {"acquisition": "ucb", **FAST})
    np.testing.assert_array_equal(its.indices[:10], ucb.indices[:10])  # the same random start
    assert not np.array_equal(its.indices[10:], ucb.indices[10:])


def test_stops_when_every_feasible_architecture_is_queried(full_table):
    """Under a latency limit that only 15 cells meet, the run queries each once and stops."""
    latency = full_table.latency("synthetic-cpu-b1")
    limit = float(np.sort(latency)[14])
    hardware = HardwareView.from_table(full_table, "synthetic-cpu-b1", limit)
    feasible = set(hardware.feasible_indices.tolist())
    trajectory = run_once(Bananas, full_table, Budget(queries=40), 0, FAST, hardware=hardware)
    assert len(trajectory) == len(feasible) and set(trajectory.indices.tolist()) == feasible


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("num_init", 0),
        ("batch_size", 0),
        ("num_candidates", -1),
        ("num_parents", 1.5),
        ("acquisition", "pi"),
        ("beta", -1.0),
        ("encoding", "graph2vec"),
        ("predictor", "xgboostt"),
        ("predictor", "lcsvr"),
        ("n_models", 0),
        ("num_layers", 0),
        ("layer_width", True),
        ("learning_rate", 0),
        ("epochs", "200"),
    ],
)
def test_bad_hyperparameters_name_field_and_value(space, field, value):
    with pytest.raises(NasbenchError, match=field) as info:
        Bananas(space, np.random.default_rng(0), **{field: value})
    assert repr(value) in str(info.value)


def test_beats_random_search_at_150_queries(full_table):
    """Mean regret after 150 queries over 8 seeds, BANANAS (defaults) vs random search."""
    budget, seeds = Budget(queries=150), range(8)
    bananas = run_study(Bananas, full_table, budget, seeds)
    random = run_study(get_strategy("random"), full_table, budget, seeds)
    mean = {name: float(np.mean([c.regret[-1] for c in r.curves])) for name, r in
            (("bananas", bananas), ("random", random))}
    print(f"mean regret at 150 queries, 8 seeds: {mean}")
    assert mean["bananas"] < mean["random"]


@pytest.mark.parametrize(("predictor", "kind"), [("xgb", "BaggedEnsemble"), ("gp", "GaussianProcessRegressor"),
                                                 ("bagged-xgb", "BaggedEnsemble")])
def test_any_registered_predictor_can_drive_the_search(full_table, predictor, kind):
    """A predictor with a spread is used as it is, one without is bagged; the run is seeded."""
    strategy = Bananas(full_table.space, np.random.default_rng(0), predictor=predictor)
    assert type(strategy.make_ensemble()).__name__ == kind and strategy.encoding == "onehot"
    a = run_once(Bananas, full_table, Budget(queries=30), 5, {"predictor": predictor})
    b = run_once(Bananas, full_table, Budget(queries=30), 5, {"predictor": predictor})
    np.testing.assert_array_equal(a.indices, b.indices)
    assert len(set(a.indices.tolist())) == 30
