"""The budgeted oracle: the only view of a benchmark a search strategy gets.

``query(arch, epochs)`` returns the recorded validation accuracy at that fidelity and
charges the recorded training time to that epoch as simulated seconds. The oracle
enforces the budget, logs the trajectory, and never exposes test metrics or the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import BudgetExhausted, InvalidBudgetError, OutOfDomainError, TableError
from nasbench.hardware import HardwareView
from nasbench.table.reader import Table, nanmean_quiet

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
class Observation:
    """What a strategy learns from one query."""

    arch: Any
    epochs: int
    value: float  # validation accuracy (%) at ``epochs``
    cost: float  # simulated seconds charged for this query
    query: int  # 1-based query number
    elapsed: float  # simulated seconds spent so far, this query included
    latency: float | None = None  # ms on the run's latency device, when it has one


@dataclass(frozen=True)
class Trajectory:
    """Everything queried in one run, in order (arrays of equal length)."""

    indices: np.ndarray  # int64 architecture indices
    epochs: np.ndarray  # int32 fidelity of each query
    values: np.ndarray  # float64 validation accuracy returned
    costs: np.ndarray  # float64 simulated seconds charged
    trials: np.ndarray  # int64 table seed whose record answered (-1: mean over seeds)

    @property
    def elapsed(self) -> np.ndarray:
        return np.cumsum(self.costs)

    def __len__(self) -> int:
        return len(self.indices)


class Oracle:
    """Answers queries from a table within a budget.

    ``trial="sample"`` answers each query with the record of one training seed drawn
    from ``rng`` (the noise a real evaluation has); ``trial="mean"`` averages the seeds.
    """

    def __init__(
        self,
        table: Table,
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
        self._space = table.space
        self._present = table.present
        self._values = table.curve(metric)
        self._cum_seconds = table.cumulative_seconds()
        self._seeds = table.seeds
        self._epochs = table.epochs
        self._mean_values = nanmean_quiet(self._values, axis=1) if trial == "mean" else None
        self._mean_seconds = nanmean_quiet(self._cum_seconds, axis=1) if trial == "mean" else None
        recorded = table.recorded
        self._all_recorded = bool(recorded.all(axis=1)[table.present].all())
        self._recorded = recorded
        self.budget = budget
        self.trial = trial
        self.hardware = hardware
        self._rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._log: list[tuple[int, int, float, float, int]] = []
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
        """Validation accuracy (%) of ``arch`` after ``epochs`` (default: all recorded)."""
        return self.evaluate(arch, epochs).value

    def evaluate(self, arch: Any, epochs: int | None = None) -> Observation:
        """Like :meth:`query`, returning the full :class:`Observation`."""
        budget = self.budget
        if budget.queries is not None and len(self._log) >= budget.queries:
            raise BudgetExhausted(f"budget: all {budget.queries} queries are spent")
        cell = self._space.coerce(arch)
        index = self._space.index(cell)
        if not self._present[index]:
            raise OutOfDomainError(f"architecture {index} ({cell}) is not in the table")
        if epochs is None:
            epochs = self._epochs
        elif isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or not 1 <= epochs <= self._epochs:
            raise OutOfDomainError(f"epochs: expected an integer in 1..{self._epochs}, got {epochs!r}")
        if self._mean_values is not None:
            value = float(self._mean_values[index, epochs - 1])
            cost = float(self._mean_seconds[index, epochs - 1])
            trial = -1
        else:
            if self._all_recorded:
                position = int(self._rng.integers(len(self._seeds)))
            else:
                recorded = np.flatnonzero(self._recorded[index])
                position = int(recorded[self._rng.integers(len(recorded))])
            value = float(self._values[index, position, epochs - 1])
            cost = float(self._cum_seconds[index, position, epochs - 1])
            trial = int(self._seeds[position])
        if not cost >= 0.0:  # NaN too: budget arithmetic must never stall (loads refuse such tables)
            raise TableError(f"architecture {index}: training seconds {cost!r} are not a non-negative number")
        if budget.seconds is not None and self._elapsed + cost > budget.seconds:
            raise BudgetExhausted(
                f"budget: {budget.seconds:g} simulated seconds; {self._elapsed:.1f} spent, "
                f"this query needs {cost:.1f} more"
            )
        self._elapsed += cost
        self._log.append((index, epochs, value, cost, trial))
        latency = None if self.hardware is None else float(self.hardware.latency_ms[index])
        return Observation(cell, int(epochs), value, cost, len(self._log), self._elapsed, latency)

    def trajectory(self) -> Trajectory:
        """The queries made so far, as arrays."""
        if not self._log:
            empty = np.empty(0)
            return Trajectory(empty.astype(np.int64), empty.astype(np.int32), empty, empty, empty.astype(np.int64))
        index, epochs, values, costs, trials = zip(*self._log)
        return Trajectory(
            np.asarray(index, dtype=np.int64),
            np.asarray(epochs, dtype=np.int32),
            np.asarray(values, dtype=np.float64),
            np.asarray(costs, dtype=np.float64),
            np.asarray(trials, dtype=np.int64),
        )
