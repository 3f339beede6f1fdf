"""The strategy protocol: ask for an architecture, be told what the oracle said.

A strategy sees the search space and its own numpy Generator, never the table or the
oracle: the run loop (nasbench.study) carries proposals to the oracle and observations
back. Every random choice must come from ``self.rng`` so that the same seed and the
same table give the same trajectory, bit for bit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from nasbench.oracle import Observation
from nasbench.spaces import SearchSpace


class Strategy(ABC):
    """Base class of search strategies (ask/tell).

    ``ask`` returns an architecture (or a string/index the space understands), or a
    tuple ``(architecture, epochs)`` to ask for a lower fidelity. ``tell`` receives the
    :class:`~nasbench.oracle.Observation` of the latest query.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    def __init__(self, space: SearchSpace, rng: np.random.Generator, max_epochs: int | None = None) -> None:
        self.space = space
        self.rng = rng
        self.max_epochs = max_epochs

    @abstractmethod
    def ask(self) -> Any:
        """The next architecture to query."""

    def tell(self, observation: Observation) -> None:  # noqa: B027 - optional hook
        """Learn from the result of the latest query (default: ignore it)."""
