"""The benchmark contract: (architecture, fidelity, trial randomness) -> validation value and
simulated cost; separately, the test value used only for scoring.

Two kinds implement it: :class:`~nasbench.benchmarks.table.TableBenchmark` (recorded runs)
and :class:`~nasbench.benchmarks.surrogate.SurrogateBenchmark` (a fitted model with a noise
model). The oracle asks :meth:`Benchmark.answer`; regret and hypervolume, computed after the
search, ask :meth:`Benchmark.test_accuracy`. Architectures are the space's cells; an integer
index exists only where the space is enumerable (``space.size`` is not None).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.hardware import HardwareView
from nasbench.spaces.base import SearchSpace


@dataclass(frozen=True)
class Answer:
    """A benchmark's answer to one query."""

    value: float  # validation accuracy (%) at the asked fidelity
    cost: float  # simulated seconds to train that far
    trial: int  # the recorded training seed that answered; -1: the mean over seeds; -2: a surrogate draw


class Benchmark(ABC):
    """Answers queries about the architectures of one space (see the module docstring).

    ``name`` and ``sha256`` identify what answered, in result files; ``space`` is the whole
    space and :attr:`searchable_space` what strategies search (a partial table's recorded cells).
    """

    kind: ClassVar[str] = ""
    name: str
    sha256: str
    synthetic: bool
    space: SearchSpace
    epochs: int

    @property
    def searchable_space(self) -> SearchSpace:
        """The space strategies search (the whole space unless the benchmark holds only part of it)."""
        return self.space

    @abstractmethod
    def answer(self, arch: Any, index: int, epochs: int, rng: np.random.Generator | None) -> Answer:
        """Validation value and cost of ``arch`` (a cell of :attr:`space`; ``index`` its integer
        index or -1 in a space that is not enumerable) after ``epochs``: one trial drawn with
        ``rng``, or the mean over trials when ``rng`` is None. Raises OutOfDomainError for an
        architecture the benchmark cannot answer for."""

    @abstractmethod
    def test_accuracy(self, archs: Sequence[Any]) -> np.ndarray:
        """Final test accuracy (%, mean over trials) of each architecture: for scoring only."""

    @abstractmethod
    def best_test_accuracy(self, hardware: HardwareView | None = None) -> float:
        """The best final test accuracy in the benchmark (among architectures within the
        limit of a constrained ``hardware`` view): the zero of regret."""

    @abstractmethod
    def hardware(self, device: str, max_ms: float | None = None) -> HardwareView:
        """The free latency look-up strategies get for ``device`` (with an optional limit)."""

    def final_test(self) -> np.ndarray:
        """(space size,) final test accuracy by index, NaN where there is none (enumerable
        spaces only: the accuracy-latency front of the whole space needs it)."""
        if self.space.size is None:
            raise NasbenchError(f"benchmark {self.name!r}: space {self.space.name} is not enumerable, "
                                "so it has no whole-space front")
        return self.test_accuracy(np.arange(self.space.size))

    @property
    def paths(self) -> tuple[Path, ...]:
        """Files that hold the benchmark's answers (an isolated strategy is denied them)."""
        return ()

    def identity(self) -> dict[str, Any]:
        """What result files cite: kind, name and sha256."""
        return {"kind": self.kind, "name": self.name, "sha256": self.sha256}
