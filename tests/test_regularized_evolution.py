"""Regularized (aging) evolution: a random start population, tournaments whose winner is
the best of the sample, children one mutation away, and the oldest member removed."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.oracle import Budget, Observation
from nasbench.study import run_study
from strategies import RandomSearch, RegularizedEvolution, get_strategy


def _observe(arch, value: float, query: int) -> Observation:
    return Observation(arch, 6, float(value), 1.0, query, float(query))


def _value(arch) -> float:
    """A made-up landscape: a fixed pseudo-random value per architecture."""
    return float(np.random.default_rng(arch.index).uniform(10, 95))


def test_registered_with_nas_bench_201_defaults(space):
    assert get_strategy("evolution") is RegularizedEvolution
    strategy = RegularizedEvolution(space, np.random.default_rng(0))
    assert (strategy.population_size, strategy.sample_size) == (10, 3)


def test_population_never_exceeds_p_and_the_oldest_dies(space):
    strategy = RegularizedEvolution(space, np.random.default_rng(1), population_size=5, sample_size=2)
    for query in range(1, 61):
        before = strategy.population
        arch = strategy.ask()
        strategy.tell(_observe(arch, _value(arch), query))
        after = strategy.population
        assert len(after) == min(query, 5)
        if query <= 5:
            assert after == before + ((arch, _value(arch)),)
        else:  # the oldest member left, whatever its value; the child joined at the end
            assert after == before[1:] + ((arch, _value(arch)),)


def test_oldest_dies_even_when_it_is_the_best(space):
    strategy = RegularizedEvolution(space, np.random.default_rng(2), population_size=3, sample_size=2)
    values = iter([99.0, 20.0, 30.0, 40.0])
    for query in range(1, 5):
        arch = strategy.ask()
        strategy.tell(_observe(arch, next(values), query))
    assert [value for _, value in strategy.population] == [20.0, 30.0, 40.0]


def test_start_population_is_random_then_children_are_one_mutation_from_the_parent(space):
    strategy = RegularizedEvolution(space, np.random.default_rng(3))
    for query in range(1, 101):
        arch = strategy.ask()
        if query <= strategy.population_size:
            assert strategy.last_parent_ is None
        else:
            parent = strategy.last_parent_[0]
            assert sum(a != b for a, b in zip(arch.ops, parent.ops)) == 1
        strategy.tell(_observe(arch, _value(arch), query))


def test_tournament_parent_is_the_best_of_its_sample(space):
    strategy = RegularizedEvolution(space, np.random.default_rng(4), population_size=10, sample_size=3)
    samples = set()
    for query in range(1, 201):
        population = strategy.population
        arch = strategy.ask()
        if query > 10:
            sample = strategy.last_sample_
            assert len(sample) == 3  # drawn with replacement, as in Real et al.
            assert all(0 <= i < 10 for i in sample)
            best = max(population[i][1] for i in sample)
            assert strategy.last_parent_[1] == best
            assert strategy.last_parent_ in [population[i] for i in sample]
            samples.add(tuple(sorted(sample)))
        strategy.tell(_observe(arch, _value(arch), query))
    assert len(samples) > 50  # the tournaments draw many different samples
    assert any(len(set(s)) < 3 for s in samples)  # a member may be drawn twice


def test_tournament_draws_uniformly_with_replacement(space):
    strategy = RegularizedEvolution(space, np.random.default_rng(5), population_size=4, sample_size=4)
    counts = np.zeros(4)
    for query in range(1, 2001):
        arch = strategy.ask()
        if query > 4:
            np.add.at(counts, list(strategy.last_sample_), 1)
        strategy.tell(_observe(arch, _value(arch), query))
    share = counts / counts.sum()
    assert np.all(np.abs(share - 0.25) < 0.02)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"population_size": 0}, "population_size"),
        ({"population_size": 2.5}, "population_size"),
        ({"sample_size": True}, "sample_size"),
        ({"sample_size": 0}, "sample_size"),
        ({"population_size": 5, "sample_size": 6}, "sample_size"),
    ],
)
def test_bad_hyperparameters_are_named(space, params, field):
    with pytest.raises(NasbenchError, match=field):
        RegularizedEvolution(space, np.random.default_rng(0), **params)


def test_beats_random_search_on_the_full_table(full_table):
    budget, seeds = Budget(queries=300), range(10)
    evolution = run_study(RegularizedEvolution, full_table, budget, seeds)
    random = run_study(RandomSearch, full_table, budget, seeds)
    evo_regret = np.mean([curve.regret[-1] for curve in evolution.curves])
    random_regret = np.mean([curve.regret[-1] for curve in random.curves])
    assert evo_regret < random_regret
