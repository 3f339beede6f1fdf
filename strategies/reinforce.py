"""REINFORCE (Williams 1992, "Simple statistical gradient-following algorithms for
connectionist reinforcement learning") with a factorised categorical policy, as the
NAS-Bench-201 baseline (Dong & Yang 2020, ``exps/NATS-algos/reinforce.py``, after Zoph &
Le 2017, "Neural Architecture Search with Reinforcement Learning").

The policy holds one logit per (edge, op) of the NB201 cell (6 x 5, all 0 at the start,
where NAS-Bench-201 draws them from 1e-3 * N(0, 1)). Each query samples every edge's op
from the softmax of its logits; the reward is validation accuracy / 100. After each
query the baseline, a bias-corrected exponential moving average of the rewards (momentum
0.9, updated with the new reward *before* the advantage is taken, as in NAS-Bench-201),
is subtracted, and one Adam step (lr 0.01 as in NAS-Bench-201's runs; betas 0.9/0.999,
eps 1e-8, torch's defaults) is taken on the loss ``-log p(arch) * (reward - baseline)``.
Adam is written out in numpy (no torch here).

Under a latency limit the policy is resampled until the architecture is feasible (up to
100 draws), then a uniformly random feasible one is taken; the update then uses the
log-probability of the architecture actually queried under the unconstrained policy.
"""

from __future__ import annotations

import math

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import NB201Space, SearchSpace
from nasbench.spaces.nb201 import NUM_EDGES, OP_ID, OPS, NB201Cell
from strategies.base import MAX_MUTATION_TRIES, Strategy
from strategies.registry import register

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax (numerically stable)."""
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class Adam:
    """Adam (Kingma & Ba 2015) on one array, the same update as ``torch.optim.Adam``."""

    def __init__(self, shape: tuple[int, ...], lr: float, betas: tuple[float, float] = ADAM_BETAS,
                 eps: float = ADAM_EPS) -> None:
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m = np.zeros(shape)
        self.v = np.zeros(shape)
        self.t = 0

    def step(self, param: np.ndarray, grad: np.ndarray) -> None:
        """Descend ``grad`` in place on ``param``."""
        b1, b2 = self.betas
        self.t += 1
        self.m *= b1
        self.m += (1 - b1) * grad
        self.v *= b2
        self.v += (1 - b2) * grad * grad
        denom = np.sqrt(self.v) / math.sqrt(1 - b2**self.t) + self.eps
        param -= (self.lr / (1 - b1**self.t)) * self.m / denom


class MovingAverage:
    """Bias-corrected exponential moving average (NAS-Bench-201's ExponentialMovingAverage)."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self._numerator = 0.0
        self._denominator = 0.0

    def update(self, value: float) -> None:
        self._numerator = self.momentum * self._numerator + (1 - self.momentum) * value
        self._denominator = self.momentum * self._denominator + (1 - self.momentum)

    @property
    def value(self) -> float | None:
        """The average so far (None before the first update)."""
        return self._numerator / self._denominator if self._denominator else None


@register("reinforce")
class Reinforce(Strategy):
    """Policy-gradient search over NB201 cells with a per-edge categorical policy.

    ``logits_`` is the (6, 5) policy (edges in string order, ops in ``OPS`` order);
    ``baseline_`` the current moving-average reward (None before the first tell).
    """

    spaces = ("nb201",)  # models the 6 edge ops of an NB201 cell

    version = "1"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        max_epochs: int | None = None,
        hardware: HardwareView | None = None,
        *,
        learning_rate: float = 0.01,
        ema_momentum: float = 0.9,
    ) -> None:
        super().__init__(space, rng, max_epochs, hardware)
        if getattr(space, "name", None) != NB201Space.name:  # the space, or a partial table's view (SubsetSpace)
            raise NasbenchError(f"space: reinforce needs the nb201 space, got {getattr(space, 'name', space)!r}")
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
                or not math.isfinite(learning_rate) or learning_rate <= 0:
            raise NasbenchError(f"learning_rate: must be a positive number, got {learning_rate!r}")
        if isinstance(ema_momentum, bool) or not isinstance(ema_momentum, (int, float)) \
                or not 0 <= ema_momentum < 1:
            raise NasbenchError(f"ema_momentum: must be a number in [0, 1), got {ema_momentum!r}")
        self.learning_rate = float(learning_rate)
        self.ema_momentum = float(ema_momentum)
        self.logits_ = np.zeros((NUM_EDGES, len(OPS)))
        self._optimizer = Adam(self.logits_.shape, self.learning_rate)
        self._baseline = MovingAverage(self.ema_momentum)

    @property
    def baseline_(self) -> float | None:
        return self._baseline.value

    @property
    def probabilities(self) -> np.ndarray:
        """(6, 5) current probability of each op on each edge."""
        return _softmax(self.logits_)

    def ask(self) -> NB201Cell:
        """An architecture drawn from the policy (a feasible one, under a latency limit)."""
        cumulative = np.cumsum(self.probabilities, axis=1)
        for _ in range(MAX_MUTATION_TRIES if self.constrained or self.space.domain is not None else 1):
            draws = self.rng.random(NUM_EDGES)
            ops = np.minimum((cumulative < draws[:, None]).sum(axis=1), len(OPS) - 1)
            arch = NB201Cell(tuple(OPS[i] for i in ops.tolist()))
            if self.feasible(arch):
                return arch
        return self.sample_arch()

    def tell(self, observation: Observation) -> None:
        """Update the baseline with the reward, then take one Adam step on the policy."""
        reward = observation.value / 100.0
        if not math.isfinite(reward):
            return
        self._baseline.update(reward)
        advantage = reward - self._baseline.value
        chosen = np.zeros_like(self.logits_)
        cell = self.space.coerce(observation.arch)
        chosen[np.arange(NUM_EDGES), [OP_ID[op] for op in cell.ops]] = 1.0
        # d(-log p(arch) * advantage) / d logits, summed over the independent edges.
        grad = -advantage * (chosen - self.probabilities)
        self._optimizer.step(self.logits_, grad)
