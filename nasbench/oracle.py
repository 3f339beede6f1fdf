"""The budgeted oracle: the only view of a benchmark a search strategy gets.

``query(arch, epochs)`` returns the benchmark's validation accuracy at that fidelity (a table's
recorded value or a surrogate's prediction) and charges its simulated training seconds. The
oracle enforces the budget, logs the trajectory, and never exposes test metrics or the
benchmark. Trajectories name architectures by canonical string, and by integer index where
the space is enumerable (-1 where it is not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.benchmarks import Benchmark, as_benchmark
from nasbench.errors import BudgetExhausted, InvalidBudgetError, OutOfDomainError
from nasbench.hardware import HardwareView
from nasbench.protocol import Observation

TRIAL_MODES = ("sample", "mean")


@dataclass(frozen=True)
class Budget:
    """Stop after ``queries`` queries and/or ``seconds`` simulated seconds."""

    queries: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.queries is None and self.seconds is None:
            raise InvalidBudgetError("budget: give queries and/or seconds")
        if self.queries is not None and (
            isinstance(self.queries, bool) or not isinstance(self.queries, (int, np.integer)) or self.queries <= 0
        ):
            raise InvalidBudgetError(f"budget queries: must be a positive integer, got {self.queries!r}")
        if self.seconds is not None and not (
            isinstance(self.seconds, (int, float, np.floating)) and math.isfinite(self.seconds) and self.seconds > 0
        ):
            raise InvalidBudgetError(f"budget seconds: must be a positive number, got {self.seconds!r}")


@dataclass(frozen=True)
class Trajectory:
    """Everything queried in one run, in order (arrays of equal length)."""

    indices: np.ndarray  # int64 architecture indices
    epochs: np.ndarray  # int32 fidelity of each query
    values: np.ndarray  # float64 validation accuracy returned
    costs: np.ndarray  # float64 simulated seconds charged
    trials: np.ndarray  # int64 table seed whose record answered (-1: mean over seeds; -2: a surrogate's draw)
    archs: tuple[str, ...] = ()  # canonical strings (empty only for hand-made trajectories in tests)

    @property
    def elapsed(self) -> np.ndarray:
        return np.cumsum(self.costs)

    def __len__(self) -> int:
        return len(self.indices)


class Oracle:
    """Answers queries from a benchmark (a table or a surrogate) within a budget.

    ``trial="sample"`` answers each query with one trial drawn from ``rng`` (the noise a real
    evaluation has: a recorded training seed, or a draw of a surrogate's noise model);
    ``trial="mean"`` gives the mean over trials. A loaded table may be passed for
    ``benchmark`` (it answers with its curve ``metric``).
    """

    def __init__(
        self,
        benchmark: Benchmark | Any,
        budget: Budget,
        rng: np.random.Generator | int = 0,
        trial: str = "sample",
        metric: str = "valid_acc",
        hardware: HardwareView | None = None,
    ) -> None:
        if trial not in TRIAL_MODES:
            raise InvalidBudgetError(f"trial: expected one of {', '.join(TRIAL_MODES)}, got {trial!r}")
        if metric.startswith("test"):
            raise InvalidBudgetError(f"metric: the oracle never answers with test metrics, got {metric!r}")
        self._benchmark = as_benchmark(benchmark, metric)
        self._space = self._benchmark.space
        self._enumerable = self._space.size is not None
        self._epochs = self._benchmark.epochs
        self.budget = budget
        self.trial = trial
        self.hardware = hardware
        self._rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._log: list[tuple[Any, int, int, float, float, int]] = []
        self._elapsed = 0.0

    @property
    def space(self) -> Any:
        return self._space

    @property
    def max_epochs(self) -> int:
        return self._epochs

    @property
    def queries_used(self) -> int:
        return len(self._log)

    @property
    def seconds_used(self) -> float:
        return self._elapsed

    @property
    def exhausted(self) -> bool:
        b = self.budget
        return (b.queries is not None and len(self._log) >= b.queries) or (
            b.seconds is not None and self._elapsed >= b.seconds
        )

    def query(self, arch: Any, epochs: int | None = None) -> float:
        """Validation accuracy (%) of ``arch`` after ``epochs`` (default: all of them)."""
        return self.evaluate(arch, epochs).value

    def evaluate(self, arch: Any, epochs: int | None = None) -> Observation:
        """Like :meth:`query`, returning the full :class:`~nasbench.protocol.Observation`."""
        budget = self.budget
        if budget.queries is not None and len(self._log) >= budget.queries:
            raise BudgetExhausted(f"budget: all {budget.queries} queries are spent")
        cell = self._space.coerce(arch)
        index = self._space.index(cell) if self._enumerable else -1
        if epochs is None:
            epochs = self._epochs
        elif isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or not 1 <= epochs <= self._epochs:
            raise OutOfDomainError(f"epochs: expected an integer in 1..{self._epochs}, got {epochs!r}")
        state = self._rng.bit_generator.state  # a refused query must not use up a draw
        answer = self._benchmark.answer(cell, index, int(epochs), None if self.trial == "mean" else self._rng)
        value, cost = answer.value, answer.cost
        if budget.seconds is not None and self._elapsed + cost > budget.seconds:
            self._rng.bit_generator.state = state
            raise BudgetExhausted(
                f"budget: {budget.seconds:g} simulated seconds; {self._elapsed:.1f} spent, "
                f"this query needs {cost:.1f} more"
            )
        self._elapsed += cost
        self._log.append((cell, index, int(epochs), value, cost, answer.trial))
        latency = None if self.hardware is None else self.hardware.latency(cell)
        return Observation(cell, int(epochs), value, cost, len(self._log), self._elapsed, latency)

    def trajectory(self) -> Trajectory:
        """The queries made so far, as arrays (and the architectures' canonical strings)."""
        if not self._log:
            empty = np.empty(0)
            return Trajectory(empty.astype(np.int64), empty.astype(np.int32), empty, empty, empty.astype(np.int64))
        cells, index, epochs, values, costs, trials = zip(*self._log)
        to_string = self._space.to_string
        return Trajectory(
            np.asarray(index, dtype=np.int64),
            np.asarray(epochs, dtype=np.int32),
            np.asarray(values, dtype=np.float64),
            np.asarray(costs, dtype=np.float64),
            np.asarray(trials, dtype=np.int64),
            tuple(map(to_string, cells)),
        )
