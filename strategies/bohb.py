"""BOHB: Falkner, Klein & Hutter 2018, "BOHB: Robust and Efficient Hyperparameter
Optimization at Scale" (ICML), Algorithm 2, on the 6 categorical edge ops of NB201.

The bracket schedule and successive halving are Hyperband's (strategies/hyperband.py);
only the new configurations of a bracket's first rung differ. With probability
``random_fraction`` (1/3) a configuration is uniformly random; otherwise it comes from a
TPE-style model fitted on the largest fidelity ``b`` (epochs) with
``|D_b| >= N_min + 2`` observations, ``N_min = min_points_in_model`` (default d + 1 = 7
for d = 6 edges, the paper's setting). The observations at ``b`` are split by
validation accuracy into the best ``N_l = max(N_min, floor(q N_b))``, ``q =
top_n_percent / 100`` (15 %), and the worst ``N_g = max(N_min, N_b - N_l)`` (the two
overlap while ``N_b < 2 N_min``, as the paper's formulas imply), and a product
Aitchison-Aitken kernel density is fitted to each: ``l(x)`` on the good, ``g(x)`` on the
bad. ``num_samples`` (64) candidates are drawn from ``l`` with every bandwidth multiplied
by ``bandwidth_factor`` (3), and the one maximising ``l(x) / g(x)`` is proposed. Without a
model (too few observations) the configuration is random. Defaults are the paper's and
HpBandSter's (``top_n_percent=15, num_samples=64, random_fraction=1/3,
bandwidth_factor=3, min_bandwidth=1e-3``).

The kernel of one edge with ``c = 5`` ops and bandwidth ``lam`` puts ``1 - lam`` on the
observed op and ``lam / (c - 1)`` on each other op; ``lam = (c - 1) / c`` is uniform.
Bandwidths follow the normal-reference rule that BOHB uses through statsmodels,
``lam = 1.06 sigma n^(-1 / (4 + d))``, with ``sigma^2 = 1 - sum_k p_k^2`` the variance of
the edge's one-hot indicator (statsmodels applies it to integer codes, whose spread
depends on the arbitrary op order), clipped to ``[min_bandwidth, (c - 1) / c]``.

Model candidates that break a latency limit, or repeat an architecture of the current
Hyperband iteration, are dropped; if none is left the configuration is random
(:meth:`Strategy.sample_arch`). All randomness comes from ``self.rng``.

Cost is charged as for Hyperband: the recorded cumulative training seconds up to the
asked epoch, and a promoted architecture is trained again from scratch (a table has no
checkpoints). Compare BOHB under a seconds budget (``nasbench run bohb --seconds S``); a
query budget counts a 1-epoch probe like a full training.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.params import positive_int
from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import SearchSpace
from nasbench.spaces.nb201 import NUM_EDGES, OPS, op_ids_by_index
from strategies.hyperband import Hyperband
from strategies.registry import register

LEVELS = len(OPS)  # categories per edge
_TINY = 1e-32  # floor of a density in the l/g ratio (as HpBandSter)


@dataclass(frozen=True)
class CategoricalKDE:
    """Product Aitchison-Aitken kernel density over vectors of categories ``0..levels-1``."""

    data: np.ndarray  # (n, d) int
    bandwidth: np.ndarray  # (d,) in [min_bandwidth, (levels - 1) / levels]
    levels: int

    @classmethod
    def fit(cls, data: np.ndarray, levels: int, min_bandwidth: float = 1e-3) -> CategoricalKDE:
        """Bandwidths by the normal-reference rule on one-hot variance (module docstring)."""
        data = np.asarray(data, dtype=np.int64)
        n, d = data.shape
        counts = np.stack([np.bincount(column, minlength=levels) for column in data.T])
        sigma = np.sqrt(1.0 - np.sum((counts / n) ** 2, axis=1))
        bandwidth = 1.06 * sigma * n ** (-1.0 / (4 + d))
        return cls(data, np.clip(bandwidth, min_bandwidth, (levels - 1) / levels), levels)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Density at each row of ``x`` (m, d)."""
        x = np.asarray(x, dtype=np.int64)
        same = x[:, None, :] == self.data[None, :, :]  # (m, n, d)
        lam = self.bandwidth
        kernel = np.where(same, 1.0 - lam, lam / (self.levels - 1))
        return kernel.prod(axis=2).mean(axis=1)

    def sample(self, size: int, rng: np.random.Generator, bandwidth_factor: float = 1.0) -> np.ndarray:
        """``size`` draws from the density with bandwidths times ``bandwidth_factor``: a random
        data row, each category kept with probability ``1 - lam`` and otherwise replaced by
        one of the other ``levels - 1`` uniformly."""
        lam = np.minimum(self.bandwidth * bandwidth_factor, (self.levels - 1) / self.levels)
        rows = self.data[rng.integers(len(self.data), size=size)]
        change = rng.random(rows.shape) < lam
        shift = rng.integers(1, self.levels, size=rows.shape)
        return np.where(change, (rows + shift) % self.levels, rows)


@functools.lru_cache(maxsize=1)
def _index_of_ops() -> np.ndarray:
    """Base-``LEVELS`` code of an op-id vector -> NB201 index."""
    codes = op_ids_by_index().astype(np.int64) @ (LEVELS ** np.arange(NUM_EDGES - 1, -1, -1))
    out = np.empty(len(codes), dtype=np.int64)
    out[codes] = np.arange(len(codes))
    return out


def _number(value: Any) -> bool:
    numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return numeric and math.isfinite(value)


@register("bohb")
class BOHB(Hyperband):
    """Hyperband whose new configurations come from a TPE-style KDE model (module docstring).

    ``model_epochs_`` is the fidelity the latest model was fitted on (None: no model yet)
    and ``from_model_`` counts configurations proposed by the model.
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
        eta: float = 3,
        min_epochs: int = 1,
        min_points_in_model: int | None = None,
        top_n_percent: float = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
    ) -> None:
        super().__init__(space, rng, max_epochs, hardware, eta=eta, min_epochs=min_epochs)
        if getattr(space, "name", None) != "nb201":
            raise NasbenchError(f"space: bohb models the 6 edge ops of nb201, got {getattr(space, 'name', space)!r}")
        self.min_points_in_model = (
            NUM_EDGES + 1 if min_points_in_model is None else positive_int("min_points_in_model", min_points_in_model)
        )
        if not (_number(top_n_percent) and 0 < top_n_percent < 100):
            raise NasbenchError(f"top_n_percent: must be a number in (0, 100), got {top_n_percent!r}")
        self.top_n_percent = top_n_percent
        self.num_samples = positive_int("num_samples", num_samples)
        if not (_number(random_fraction) and 0 <= random_fraction <= 1):
            raise NasbenchError(f"random_fraction: must be a number in [0, 1], got {random_fraction!r}")
        self.random_fraction = random_fraction
        if not (_number(bandwidth_factor) and bandwidth_factor > 0):
            raise NasbenchError(f"bandwidth_factor: must be a positive number, got {bandwidth_factor!r}")
        self.bandwidth_factor = bandwidth_factor
        if not (_number(min_bandwidth) and 0 < min_bandwidth <= (LEVELS - 1) / LEVELS):
            cap = (LEVELS - 1) / LEVELS
            raise NasbenchError(f"min_bandwidth: must be a number in (0, {cap:g}], got {min_bandwidth!r}")
        self.min_bandwidth = min_bandwidth
        self._ops: dict[int, list[np.ndarray]] = {}  # epochs -> op-id vectors observed
        self._values: dict[int, list[float]] = {}  # epochs -> their validation accuracy
        self.model_epochs_: int | None = None
        self.from_model_ = 0

    def _observe(self, observation: Observation) -> None:
        index = self.space.index(self.space.coerce(observation.arch))
        value = float(observation.value)
        self._ops.setdefault(observation.epochs, []).append(op_ids_by_index()[index])
        self._values.setdefault(observation.epochs, []).append(-np.inf if np.isnan(value) else value)

    def model(self) -> tuple[CategoricalKDE, CategoricalKDE] | None:
        """``(l, g)``: the good and bad KDEs on the largest fidelity with ``N_min + 2``
        observations, or None when no fidelity has that many."""
        enough = [b for b, values in self._values.items() if len(values) >= self.min_points_in_model + 2]
        if not enough:
            self.model_epochs_ = None
            return None
        epochs = max(enough)
        ops = np.asarray(self._ops[epochs])
        values = np.asarray(self._values[epochs])
        n = len(values)
        n_good = max(self.min_points_in_model, math.floor(self.top_n_percent * n / 100))
        n_bad = max(self.min_points_in_model, n - n_good)
        order = np.argsort(-values, kind="stable")  # best first; ties: earlier observation first
        good = CategoricalKDE.fit(ops[order[:n_good]], LEVELS, self.min_bandwidth)
        bad = CategoricalKDE.fit(ops[order[n - n_bad:]], LEVELS, self.min_bandwidth)
        self.model_epochs_ = epochs
        return good, bad

    def _new_arch(self) -> Any:
        """Random with probability ``random_fraction`` or without a model; else the best
        feasible, not yet drawn candidate by ``l / g``."""
        if self.rng.random() < self.random_fraction:
            return self._sample_unseen()
        fitted = self.model()
        if fitted is None:
            return self._sample_unseen()
        good, bad = fitted
        candidates = good.sample(self.num_samples, self.rng, self.bandwidth_factor)
        indices = _index_of_ops()[candidates @ (LEVELS ** np.arange(NUM_EDGES - 1, -1, -1))]
        keep = np.array(
            [int(i) not in self._iteration_seen and self.feasible(self.space.from_index(int(i))) for i in indices]
        )
        if not keep.any():
            return self._sample_unseen()
        candidates, indices = candidates[keep], indices[keep]
        ratio = np.maximum(good.pdf(candidates), _TINY) / np.maximum(bad.pdf(candidates), _TINY)
        arch = self.space.from_index(int(indices[int(np.argmax(ratio))]))  # ties: first drawn
        self._mark_seen(arch)
        self.from_model_ += 1
        return arch
