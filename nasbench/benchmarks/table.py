"""A table as a benchmark: queries are answered from the recorded training runs.

``answer`` with a Generator returns the record of one training seed drawn from it (among the
seeds recorded for that cell), without one the mean over seeds; the cost is the recorded
training time up to that epoch. The draws are exactly those the oracle made before the
benchmark contract existed, so earlier result files re-run bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nasbench.benchmarks.base import Answer, Benchmark
from nasbench.errors import InvalidBudgetError, OutOfDomainError, TableError
from nasbench.hardware import HardwareView
from nasbench.spaces.base import SearchSpace
from nasbench.table.reader import Table, nanmean_quiet


class TableBenchmark(Benchmark):
    """Answers from ``table``'s curve ``metric`` (never a test metric)."""

    kind: ClassVar[str] = "table"

    def __init__(self, table: Table, metric: str = "valid_acc") -> None:
        if metric.startswith("test"):
            raise InvalidBudgetError(f"metric: the oracle never answers with test metrics, got {metric!r}")
        self.table = table
        self.metric = metric
        self.name = table.name
        self.sha256 = table.sha256
        self.synthetic = bool(table.manifest.synthetic)
        self.space = table.space
        self.epochs = table.epochs
        self._present = table.present
        self._values = table.curve(metric)
        self._cum_seconds = table.cumulative_seconds()
        self._seeds = table.seeds
        self._recorded = table.recorded
        self._all_recorded = bool(self._recorded.all(axis=1)[self._present].all())

    def __repr__(self) -> str:
        return f"TableBenchmark({self.name!r}, metric={self.metric!r})"

    def __reduce__(self) -> Any:  # pickles as (table, metric): the arrays come back from the table
        return type(self), (self.table, self.metric)

    @property
    def paths(self) -> tuple[Path, ...]:
        return (Path(self.table.path),)

    @functools.cached_property
    def searchable_space(self) -> SearchSpace:
        """The table's space, restricted to its recorded cells when it holds only some of them."""
        if self.space.size is None or bool(self._present.all()):
            return self.space
        from nasbench.spaces.subset import SubsetSpace

        return SubsetSpace(self.space, self.table.indices)

    @functools.cached_property
    def _means(self) -> tuple[np.ndarray, np.ndarray]:
        return nanmean_quiet(self._values, axis=1), nanmean_quiet(self._cum_seconds, axis=1)

    def answer(self, arch: Any, index: int, epochs: int, rng: np.random.Generator | None) -> Answer:
        if not self._present[index]:
            raise OutOfDomainError(f"architecture {index} ({arch}) is not in the table")
        if rng is None:
            values, seconds = self._means
            value, cost, trial = float(values[index, epochs - 1]), float(seconds[index, epochs - 1]), -1
        else:
            if self._all_recorded:
                position = int(rng.integers(len(self._seeds)))
            else:
                recorded = np.flatnonzero(self._recorded[index])
                position = int(recorded[rng.integers(len(recorded))])
            value = float(self._values[index, position, epochs - 1])
            cost = float(self._cum_seconds[index, position, epochs - 1])
            trial = int(self._seeds[position])
        if not cost >= 0.0:  # NaN too: budget arithmetic must never stall (loads refuse such tables)
            raise TableError(f"architecture {index}: training seconds {cost!r} are not a non-negative number")
        return Answer(value, cost, trial)

    def test_accuracy(self, archs: Sequence[Any]) -> np.ndarray:
        indices = archs if isinstance(archs, np.ndarray) and archs.dtype.kind == "i" else self.space.indices(archs)
        return self.final_test()[indices]

    def final_test(self) -> np.ndarray:
        return self._final_test

    @functools.cached_property
    def _final_test(self) -> np.ndarray:
        test = self.table.final("test_acc").astype(np.float64)
        test.flags.writeable = False
        return test

    def best_test_accuracy(self, hardware: HardwareView | None = None) -> float:
        test = self.final_test()
        if hardware is not None and hardware.constrained:
            test = np.where(hardware.feasible_mask(), test, np.nan)
        return float(np.nanmax(test))

    def hardware(self, device: str, max_ms: float | None = None) -> HardwareView:
        return HardwareView(device, self.space, np.array(self.table.latency(device), dtype=np.float64), max_ms)
