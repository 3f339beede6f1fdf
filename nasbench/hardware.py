"""A free look-up of one latency column, and an optional latency limit.

Hardware cost is measured without training, so (as in HW-NAS-Bench) a strategy may look up
the latency of any architecture at no charge to its budget: that is what lets it search
under a latency constraint, or trade accuracy against latency. The view holds a read-only
array, never the table, so test metrics stay out of a strategy's reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.errors import InvalidBudgetError
from nasbench.spaces.base import SearchSpace

if TYPE_CHECKING:  # strategies import this module: it must not pull in table I/O
    from nasbench.table.reader import Table


@dataclass(frozen=True, eq=False)
class HardwareView:
    """Latency in ms of every architecture on the device column ``device``.

    ``max_ms`` (optional) is the constraint of a latency-constrained search: an
    architecture is feasible when its latency is at most ``max_ms``.
    """

    device: str
    space: SearchSpace
    latency_ms: np.ndarray  # (space size,) float; NaN where the table has no row
    max_ms: float | None = None
    feasible_indices: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_ms is not None and not (
            isinstance(self.max_ms, (int, float, np.floating)) and not isinstance(self.max_ms, bool)
            and math.isfinite(self.max_ms) and self.max_ms > 0
        ):
            raise InvalidBudgetError(f"max_latency: must be a positive number of ms, got {self.max_ms!r}")
        latency = np.asarray(self.latency_ms, dtype=np.float64)
        latency.flags.writeable = False
        object.__setattr__(self, "latency_ms", latency)
        ok = np.isfinite(latency) if self.max_ms is None else latency <= self.max_ms
        feasible = np.flatnonzero(ok)
        feasible.flags.writeable = False
        object.__setattr__(self, "feasible_indices", feasible)
        if self.max_ms is not None and len(feasible) == 0:
            lowest = np.nanmin(latency) if np.isfinite(latency).any() else float("nan")
            raise InvalidBudgetError(
                f"max_latency: no architecture has {self.device} latency <= {self.max_ms:g} ms "
                f"(the fastest takes {lowest:.4g} ms)"
            )

    @classmethod
    def from_table(cls, table: Table, device: str, max_ms: float | None = None) -> HardwareView:
        """The view of ``table``'s column ``latency_<device>_ms``."""
        return cls(device, table.space, np.array(table.latency(device), dtype=np.float64), max_ms)

    @property
    def constrained(self) -> bool:
        return self.max_ms is not None

    def latency(self, arch: Any) -> float:
        """Latency (ms) of one architecture (cell, string or index)."""
        return float(self.latency_ms[self.space.index(self.space.coerce(arch))])

    def feasible(self, arch: Any) -> bool:
        """Whether ``arch`` meets the latency limit (always, when there is none)."""
        value = self.latency(arch)
        return bool(np.isfinite(value) and (self.max_ms is None or value <= self.max_ms))

    def feasible_mask(self) -> np.ndarray:
        """(space size,) bool: which indices meet the limit."""
        mask = np.zeros(len(self.latency_ms), dtype=bool)
        mask[self.feasible_indices] = True
        return mask

