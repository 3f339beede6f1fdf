"""Local search with restarts: White, Nolen, Savani & Neiswanger 2021, "Exploring the Loss
Landscape in Neural Architecture Search" (UAI).

Hill climbing over the space's neighbourhood (on NB201: the 24 cells that differ on one
edge). From a random architecture it queries the neighbours in a random order and moves
to a better one: ``improvement="best"`` (the paper's default) queries every neighbour
and moves to the best if it beats the current architecture; ``improvement="first"``
moves as soon as a neighbour beats it. When no neighbour is better (a local optimum)
the search restarts from a new random architecture.

An architecture is never queried twice in a run: a neighbour queried earlier is skipped
at no cost, and its remembered value still counts when looking for a better neighbour
(so a local optimum is one that no known neighbour beats). Restarts draw architectures
not queried yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import SearchSpace
from strategies.base import MAX_MUTATION_TRIES, Strategy
from strategies.registry import register

IMPROVEMENTS = ("best", "first")


@register("local-search")
class LocalSearch(Strategy):
    """Best- or first-improvement hill climbing with random restarts, no repeated queries.

    ``current_`` is the architecture being climbed from, as ``(arch, value)`` (None
    before a start or right after a local optimum); ``restarts_`` counts the starts.
    """

    version = "1"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        max_epochs: int | None = None,
        hardware: HardwareView | None = None,
        *,
        improvement: str = "best",
    ) -> None:
        super().__init__(space, rng, max_epochs, hardware)
        if improvement not in IMPROVEMENTS:
            raise NasbenchError(f"improvement: expected one of {', '.join(IMPROVEMENTS)}, got {improvement!r}")
        self.improvement = improvement
        self.current_: tuple[Any, float] | None = None
        self.restarts_ = 0
        self._values: dict[Any, float] = {}  # arch -> value of every architecture queried
        self._queue: list[Any] = []  # neighbours of current_ still to look at (popped from the end)
        self._best: tuple[Any, float] | None = None  # best neighbour seen (best-improvement)
        self._starting = False  # whether the pending query is a (re)start

    # -- ask/tell -------------------------------------------------------------------------
    def ask(self) -> Any:
        """The next unqueried neighbour, or a fresh random start at a local optimum."""
        while True:
            if self.current_ is None:
                self._starting = True
                return self._fresh_arch()
            while self._queue:
                neighbour = self._queue.pop()
                known = self._values.get(neighbour)
                if known is None:
                    return neighbour
                if self._consider(neighbour, known):
                    break  # moved for free: look at the new current's neighbours
            else:
                if self._best is not None and self._best[1] > self.current_[1]:
                    self._move(self._best)
                else:
                    self.current_ = None  # local optimum: restart

    def tell(self, observation: Observation) -> None:
        """Record the value; start a climb from a fresh start, or weigh a neighbour."""
        self._values[observation.arch] = observation.value
        if self._starting:
            self._starting = False
            self.restarts_ += 1
            self._move((observation.arch, observation.value))
        else:
            self._consider(observation.arch, observation.value)

    # -- helpers --------------------------------------------------------------------------
    def _consider(self, arch: Any, value: float) -> bool:
        """Weigh one neighbour of the current architecture; True when the search moved to it."""
        if self.improvement == "first":
            if value > self.current_[1]:
                self._move((arch, value))
                return True
            return False
        if self._best is None or value > self._best[1]:
            self._best = (arch, value)
        return False

    def _move(self, member: tuple[Any, float]) -> None:
        """Make ``member`` the current architecture and queue its neighbours in a random order."""
        self.current_ = member
        self._best = None
        neighbours = self.feasible_neighbours(member[0])
        self._queue = [neighbours[i] for i in self.rng.permutation(len(neighbours))]

    def _fresh_arch(self) -> Any:
        """A random (feasible) architecture not queried yet; StopIteration when none is left."""
        for _ in range(MAX_MUTATION_TRIES):
            arch = self.sample_arch()
            if arch not in self._values:
                return arch
        if not self.space.size:
            raise StopIteration("local search: found no unqueried architecture to restart from")
        pool = self.allowed_indices()
        queried = np.fromiter((self.space.index(a) for a in self._values), dtype=np.int64, count=len(self._values))
        left = pool[~np.isin(pool, queried)]
        if len(left) == 0:
            raise StopIteration("local search has queried every (feasible) architecture")
        return self.space.from_index(int(left[self.rng.integers(len(left))]))
