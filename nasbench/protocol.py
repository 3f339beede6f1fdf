"""What a search strategy may import: the Observation it is told and the free hardware look-up.

Strategies (``strategies/``) depend on this module, the Strategy base and the search space
contract only, never on table I/O or on the oracle: the benchmark behind the oracle may be a
table or a surrogate, and a strategy cannot tell which (tests/test_protocol.py checks that
importing every built-in strategy loads no table module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasbench.hardware import HardwareView
from nasbench.spaces.base import SearchSpace

__all__ = ["HardwareView", "Observation", "SearchSpace"]


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
