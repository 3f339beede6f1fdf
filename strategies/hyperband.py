"""Hyperband: Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar 2018, "Hyperband: A Novel
Bandit-Based Approach to Hyperparameter Optimization" (JMLR 18(185)), Algorithm 1.

The fidelity is training epochs, ``min_epochs..max_epochs`` (``max_epochs`` is the
table's number of recorded epochs). With ``R = max_epochs / min_epochs`` and
``s_max = floor(log_eta R)`` each Hyperband iteration runs the brackets
``s = s_max, ..., 0``: bracket ``s`` starts ``n = ceil((s_max + 1) eta^s / (s + 1))``
configurations at ``r = max_epochs eta^-s`` epochs, and its rung ``i`` evaluates
``n_i = floor(n eta^-i)`` of them at ``r_i = r eta^i`` epochs (rounded to whole epochs,
clipped to ``[min_epochs, max_epochs]``; when rounding gives two rungs the same epochs
only the first is kept). Successive halving promotes the best ``n_{i+1}``
(``= floor(n_i / eta)`` for an integer ``eta``) of a rung by the validation accuracy
observed there. When the last bracket ends the next iteration starts with fresh random
architectures, until the budget ends the run. ``eta = 3`` is the paper's default.

ask/tell is sequential, so the strategy keeps the current rung as a queue of
``(arch, epochs)`` and promotes only once every result of the rung has been told. New
architectures come from :meth:`Strategy.sample_arch` (so a latency limit holds) and are
not repeated within one Hyperband iteration unless the (feasible) space runs short.

Cost: the oracle charges a query at ``epochs`` the recorded *cumulative* training seconds
up to that epoch and counts it as one query. A table keeps no checkpoints, so an
architecture promoted from 2 to 6 epochs is trained again from scratch and charged the
full 6 epochs (not the 4 extra ones); this is the conservative accounting of Hyperband
without model reuse. The natural budget is therefore simulated seconds
(``nasbench run hyperband --seconds S``): a query budget counts a 1-epoch probe like a
full training, which hides exactly the saving multi-fidelity methods are built for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import NasbenchError, StrategyError
from nasbench.params import positive_int
from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import SearchSpace
from strategies.base import MAX_MUTATION_TRIES, Strategy
from strategies.registry import register

_EPS = 1e-9  # guards floor/ceil against float error in eta ** s


@dataclass(frozen=True)
class Rung:
    """One successive-halving stage: evaluate ``n`` architectures at ``epochs``."""

    n: int
    epochs: int


def _s_max(max_epochs: int, min_epochs: int, eta: float) -> int:
    """floor(log_eta(max / min)), computed by powers to avoid log rounding (log_3 9 = 1.999...)."""
    s = 0
    while min_epochs * eta ** (s + 1) <= max_epochs * (1 + _EPS):
        s += 1
    return s


def bracket_schedule(max_epochs: int, min_epochs: int = 1, eta: float = 3) -> tuple[tuple[Rung, ...], ...]:
    """The brackets of one Hyperband iteration, ``s = s_max`` first (Li et al. 2018, Alg. 1)."""
    s_max = _s_max(max_epochs, min_epochs, eta)
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) * eta**s / (s + 1) - _EPS)
        rungs: list[Rung] = []
        for i in range(s + 1):
            n_i = max(1, math.floor(n / eta**i + _EPS))
            r_i = math.floor(max_epochs * eta ** (i - s) + 0.5)  # round half up
            r_i = min(max(r_i, min_epochs), max_epochs)
            if rungs and rungs[-1].epochs == r_i:
                continue  # rounding collapsed two rungs: keep the first (more configurations)
            rungs.append(Rung(n_i, r_i))
        brackets.append(tuple(rungs))
    return tuple(brackets)


@register("hyperband")
class Hyperband(Strategy):
    """Hyperband over epochs with random architectures (see the module docstring).

    ``schedule`` holds the brackets of one iteration; ``iteration_``, ``bracket_`` and
    ``rung_`` say where the search is; ``rung_archs_`` and ``rung_values_`` are the current
    rung's architectures and the values told so far (None while pending).
    """

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
    ) -> None:
        super().__init__(space, rng, max_epochs, hardware)
        if max_epochs is None:
            raise NasbenchError(f"max_epochs: {type(self).name} needs the table's number of epochs, got None")
        self.max_epochs = positive_int("max_epochs", max_epochs)
        if isinstance(eta, bool) or not isinstance(eta, (int, float, np.integer, np.floating)) or not (
            math.isfinite(eta) and eta > 1
        ):
            raise NasbenchError(f"eta: must be a number greater than 1, got {eta!r}")
        self.eta = eta
        self.min_epochs = positive_int("min_epochs", min_epochs)
        if self.min_epochs > self.max_epochs:
            raise NasbenchError(f"min_epochs: must be at most max_epochs ({self.max_epochs}), got {min_epochs!r}")
        self.schedule = bracket_schedule(self.max_epochs, self.min_epochs, eta)
        self.iteration_ = 0
        self.bracket_ = 0
        self.rung_ = 0
        self.rung_archs_: list[Any] = []
        self.rung_values_: list[float | None] = []
        self._asked = 0  # slots of the current rung handed out by ask()
        self._pending: list[int] = []  # slots asked and not yet told, oldest first
        self._iteration_seen: set[int] = set()  # indices drawn in this Hyperband iteration

    # -- ask/tell ----------------------------------------------------------------------
    @property
    def current_rung(self) -> Rung:
        return self.schedule[self.bracket_][self.rung_]

    def ask(self) -> tuple[Any, int]:
        """The next ``(architecture, epochs)`` of the current rung, promoting when it is done."""
        rung = self.current_rung
        if self._asked == rung.n and not self._pending:
            self._advance()
            rung = self.current_rung
        if self._asked == rung.n:
            raise StrategyError(
                f"{self.name}: ask() before the {len(self._pending)} pending result(s) of the rung were told"
            )
        slot = self._asked
        if slot == len(self.rung_archs_):  # first rung of a bracket: draw lazily, with the latest data
            self.rung_archs_.append(self._new_arch())
            self.rung_values_.append(None)
        self._asked += 1
        self._pending.append(slot)
        return self.rung_archs_[slot], rung.epochs

    def tell(self, observation: Observation) -> None:
        """Record the value of the oldest pending query that matches (arch, epochs)."""
        self._observe(observation)
        index = self.space.index(self.space.coerce(observation.arch))
        for position, slot in enumerate(self._pending):
            if (
                observation.epochs == self.current_rung.epochs
                and self.space.index(self.rung_archs_[slot]) == index
            ):
                del self._pending[position]
                self.rung_values_[slot] = float(observation.value)
                return

    # -- successive halving ------------------------------------------------------------
    def _advance(self) -> None:
        """Promote the best of the finished rung, or start the next bracket (and iteration)."""
        bracket = self.schedule[self.bracket_]
        if self.rung_ + 1 < len(bracket):
            keep = bracket[self.rung_ + 1].n
            values = np.array([-np.inf if v is None or np.isnan(v) else v for v in self.rung_values_])
            order = np.argsort(-values, kind="stable")[:keep]  # ties: earlier slot first
            self.rung_archs_ = [self.rung_archs_[i] for i in order]
            self.rung_ += 1
        else:
            self.bracket_ += 1
            self.rung_ = 0
            self.rung_archs_ = []
            if self.bracket_ == len(self.schedule):
                self.bracket_ = 0
                self.iteration_ += 1
                self._iteration_seen.clear()
        self.rung_values_ = [None] * len(self.rung_archs_)
        self._asked = 0

    # -- hooks for model-based variants (BOHB) -----------------------------------------
    def _observe(self, observation: Observation) -> None:
        """Called with every observation before successive halving uses it (default: nothing)."""

    def _new_arch(self) -> Any:
        """A configuration for the first rung of a bracket: here uniformly random."""
        return self._sample_unseen()

    def _sample_unseen(self) -> Any:
        """``sample_arch()``, redrawn while it repeats an architecture of this iteration."""
        for _ in range(MAX_MUTATION_TRIES):
            arch = self.sample_arch()
            if self.space.index(arch) not in self._iteration_seen:
                break
        self._mark_seen(arch)
        return arch

    def _mark_seen(self, arch: Any) -> None:
        self._iteration_seen.add(self.space.index(arch))
