"""REINFORCE: sampling follows the policy, the moving-average baseline and the Adam step
match NAS-Bench-201's torch code, and the policy concentrates on the best op."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.hardware import HardwareView
from nasbench.oracle import Budget, Observation, Oracle
from nasbench.spaces.nb201 import OP_ID, OPS
from nasbench.study import run_once
from strategies import Reinforce, get_strategy
from strategies.reinforce import Adam, MovingAverage


def _observe(arch, value: float, query: int = 1) -> Observation:
    return Observation(arch, 6, float(value), 1.0, query, float(query))


def test_registered_with_nas_bench_201_defaults(space):
    assert get_strategy("reinforce") is Reinforce
    strategy = Reinforce(space, np.random.default_rng(0))
    assert (strategy.learning_rate, strategy.ema_momentum) == (0.01, 0.9)
    np.testing.assert_array_equal(strategy.probabilities, np.full((6, 5), 0.2))
    assert strategy.baseline_ is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"learning_rate": "0.1"}, "learning_rate"),
        ({"ema_momentum": 1.0}, "ema_momentum"),
        ({"ema_momentum": -0.1}, "ema_momentum"),
    ],
)
def test_bad_hyperparameters_are_named(space, params, field):
    with pytest.raises(NasbenchError, match=field):
        Reinforce(space, np.random.default_rng(0), **params)


def test_needs_the_nb201_space():
    with pytest.raises(NasbenchError, match="space"):
        Reinforce(object(), np.random.default_rng(0))


def test_samples_follow_the_policy(space):
    strategy = Reinforce(space, np.random.default_rng(1))
    strategy.logits_[:] = np.random.default_rng(2).normal(scale=1.5, size=(6, 5))
    counts = np.zeros((6, 5))
    draws = 20000
    for _ in range(draws):
        for edge, op in enumerate(strategy.ask().ops):
            counts[edge, OP_ID[op]] += 1
    # 4 standard errors of a binomial proportion at most 0.5: 4 * 0.5 / sqrt(20000) ~ 0.014
    np.testing.assert_allclose(counts / draws, strategy.probabilities, atol=0.015)


def test_baseline_is_the_bias_corrected_moving_average(space):
    strategy = Reinforce(space, np.random.default_rng(3), ema_momentum=0.9)
    rewards = [0.5, 0.8, 0.2, 0.9]
    for query, reward in enumerate(rewards, 1):
        strategy.tell(_observe(strategy.ask(), 100 * reward, query))
        weights = 0.9 ** np.arange(query)[::-1]  # newest reward weighs most
        expected = np.dot(weights, rewards[:query]) / weights.sum()
        assert strategy.baseline_ == pytest.approx(expected, rel=1e-12)
    average = MovingAverage(0.0)
    average.update(3.0)
    average.update(7.0)
    assert average.value == 7.0  # momentum 0: the latest reward


def test_first_update_has_zero_advantage_and_leaves_the_policy(space):
    strategy = Reinforce(space, np.random.default_rng(4))
    strategy.tell(_observe(strategy.ask(), 90.0))
    assert strategy.baseline_ == pytest.approx(0.9)
    np.testing.assert_array_equal(strategy.logits_, np.zeros((6, 5)))


@pytest.mark.parametrize(("value", "sign"), [(95.0, 1), (5.0, -1)])
def test_reward_above_the_baseline_makes_the_architecture_more_likely(space, value, sign):
    strategy = Reinforce(space, np.random.default_rng(5))
    strategy.tell(_observe(strategy.ask(), 50.0, 1))
    arch = strategy.ask()
    chosen = [OP_ID[op] for op in arch.ops]
    before = strategy.probabilities[np.arange(6), chosen]
    strategy.tell(_observe(arch, value, 2))
    after = strategy.probabilities[np.arange(6), chosen]
    assert np.all(sign * (after - before) > 0)


def test_adam_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    param = rng.normal(size=(6, 5))
    reference = torch.tensor(param.copy(), requires_grad=True)
    optimizer = torch.optim.Adam([reference], lr=0.01)
    adam = Adam(param.shape, 0.01)
    for _ in range(50):
        grad = rng.normal(size=param.shape) * rng.uniform(0.01, 2)
        adam.step(param, grad)
        reference.grad = torch.tensor(grad)
        optimizer.step()
    np.testing.assert_allclose(param, reference.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_update_matches_nas_bench_201_torch_code(space):
    """Logits after a run equal those of NAS-Bench-201's loop (Categorical log-prob,
    loss -log_prob * (reward - baseline), torch Adam) fed the same architectures."""
    torch = pytest.importorskip("torch")
    strategy = Reinforce(space, np.random.default_rng(7))
    logits = torch.zeros((6, 5), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.01)
    average = MovingAverage(0.9)
    values = np.random.default_rng(8).uniform(10, 95, size=40)
    for query, value in enumerate(values, 1):
        arch = strategy.ask()
        strategy.tell(_observe(arch, value, query))
        actions = torch.tensor([OP_ID[op] for op in arch.ops])
        log_prob = torch.distributions.Categorical(logits=logits).log_prob(actions)
        reward = value / 100
        average.update(reward)
        loss = (-log_prob * (reward - average.value)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    np.testing.assert_allclose(strategy.logits_, logits.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_policy_concentrates_on_the_best_op_of_the_full_table(full_table):
    """The synthetic table rewards 3x3 convolutions most: its probability rises from 0.2."""
    best = OPS.index("nor_conv_3x3")
    for seed in (0, 1):
        oracle = Oracle(full_table, Budget(queries=300), rng=seed)
        strategy = Reinforce(full_table.space, np.random.default_rng(seed))
        while not oracle.exhausted:
            strategy.tell(oracle.evaluate(strategy.ask()))
        probabilities = strategy.probabilities
        assert probabilities[:, best].mean() > 0.3
        assert np.sum(probabilities.argmax(axis=1) == best) >= 4


def test_policy_learns_a_controlled_landscape(space):
    """Reward 90 % when edge 0 holds avg_pool_3x3, else 10 %: that op takes over edge 0."""
    strategy = Reinforce(space, np.random.default_rng(9), learning_rate=0.05)
    for query in range(1, 401):
        arch = strategy.ask()
        strategy.tell(_observe(arch, 90.0 if arch.ops[0] == "avg_pool_3x3" else 10.0, query))
    probabilities = strategy.probabilities
    assert probabilities[0, OP_ID["avg_pool_3x3"]] > 0.9


def test_latency_limit_falls_back_to_a_feasible_sample(full_table):
    feasible = [11, 222, 3333]
    latency = np.full(full_table.space.size, 10.0)
    latency[feasible] = 1.0
    hardware = HardwareView("tiny", full_table.space, latency, max_ms=2.0)
    trajectory = run_once(Reinforce, full_table, Budget(queries=30), 0, hardware=hardware)
    assert set(trajectory.indices.tolist()) <= set(feasible)
