"""Random search: architectures drawn uniformly without repetition (Bergstra & Bengio 2012)."""

from __future__ import annotations

import numpy as np

from nasbench.protocol import HardwareView
from nasbench.spaces import SearchSpace
from strategies.base import Strategy
from strategies.registry import register


@register("random")
class RandomSearch(Strategy):
    """Queries architectures in a seeded random order, never the same one twice.

    On an enumerable space this walks a random permutation of all indices (of the feasible
    ones, under a latency limit); otherwise it samples and skips repeats.
    """

    version = "1"

    def __init__(self, space: SearchSpace, rng: np.random.Generator, max_epochs: int | None = None,
                 hardware: HardwareView | None = None) -> None:
        super().__init__(space, rng, max_epochs, hardware)
        if self.constrained or space.domain is not None:
            self._order = rng.permutation(self.allowed_indices())
        else:
            self._order = rng.permutation(space.size) if space.size else None
        self._next = 0
        self._seen: set = set()

    def ask(self):
        if self._order is not None:
            if self._next >= len(self._order):
                raise StopIteration("random search has queried every architecture")
            index = int(self._order[self._next])
            self._next += 1
            return self.space.from_index(index)
        while True:
            arch = self.sample_arch()
            if arch not in self._seen:
                self._seen.add(arch)
                return arch
