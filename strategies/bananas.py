"""BANANAS: Bayesian optimisation with an ensemble of neural predictors on path encodings.

White, Neiswanger & Savani 2021, "BANANAS: Bayesian Optimization with Neural Architectures
for Neural Architecture Search", AAAI. After ``num_init`` random architectures, every
round (1) fits an ensemble of feed-forward nets (:class:`predictors.MLPEnsemble`) on the
path encodings and validation accuracies seen so far, (2) builds ``num_candidates``
unqueried candidates by single mutations of the ``num_parents`` best architectures,
(3) scores them with an acquisition function over the ensemble's mean and spread, and
(4) queries the ``batch_size`` best-scoring candidates one per ``ask`` before refitting.

Defaults (paper / authors' code -> here): 10 random initial architectures; batches of
k = 10; 100 candidates; independent Thompson sampling (one draw from N(mean, std) per
candidate); 5 nets of 10 layers x 20 units, Adam lr 0.01, 200 epochs. Candidates: the
authors' code mutates the best architecture and, as repeats are dropped, the next best
ones up to the 5th; NASLib mutates the top 2 without dropping repeats. On NB201 one
architecture has only 24 single-edit neighbours, so here the top 5 are mutated in turn
(about 20 fresh candidates each) and already-queried architectures are dropped.
NASLib's nets are bigger (20 layers x 20, 500 epochs, lr 0.001, 3 members); the paper's
smaller ones are kept here because the ensemble fit is nearly all of the run time.
Initial architectures are distinct too, and ties in the acquisition value go to the
higher predicted mean (EI underflows to 0 for candidates far below the incumbent).

``predictor`` swaps the ensemble for any registered predictor of architectures
(``nasbench predictors list``; e.g. ``--param predictor=xgb``): one with its own spread
(``gp``, ``bagged-xgb``) is used as it is; one without is bagged ``n_models`` times on
bootstrap resamples (:class:`predictors.bagging.BaggedEnsemble`). Its encoding is the
predictor's own unless ``encoding`` is given (the MLP ensemble's: path, as in the paper).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.params import number_at_least, positive_int
from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import SearchSpace
from strategies.base import Strategy
from strategies.registry import register

ACQUISITIONS = ("its", "ucb", "ei")
PATIENCE = 5  # mutation (and sampling) tries per wanted candidate before giving up


def acquisition_scores(
    kind: str, mean: np.ndarray, std: np.ndarray, best: float, rng: np.random.Generator, beta: float = 0.5
) -> np.ndarray:
    """Acquisition values (higher is better) of candidates with predicted ``mean``/``std``.

    ``its``: one independent draw from N(mean, std) per candidate (Thompson sampling);
    ``ucb``: mean + beta * std; ``ei``: expected improvement over ``best``.
    """
    if kind == "its":
        return rng.normal(mean, std)
    if kind == "ucb":
        return mean + beta * std
    if kind == "ei":
        from scipy.stats import norm  # scipy and scikit-learn load only when BANANAS runs

        gain = mean - best
        safe = np.where(std > 0, std, 1.0)
        z = gain / safe
        return np.where(std > 0, gain * norm.cdf(z) + safe * norm.pdf(z), np.maximum(gain, 0.0))
    raise NasbenchError(f"acquisition: expected one of {', '.join(ACQUISITIONS)}, got {kind!r}")


@register("bananas")
class Bananas(Strategy):
    """BANANAS (see the module docstring): neural-ensemble BO with mutation candidates."""

    version = "1"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        max_epochs: int | None = None,
        hardware: HardwareView | None = None,
        *,
        num_init: int = 10,
        batch_size: int = 10,
        num_candidates: int = 100,
        num_parents: int = 5,
        acquisition: str = "its",
        beta: float = 0.5,
        encoding: str | None = None,
        predictor: str = "mlp-ensemble",
        n_models: int = 5,
        num_layers: int = 10,
        layer_width: int = 20,
        learning_rate: float = 0.01,
        epochs: int = 200,
    ) -> None:
        super().__init__(space, rng, max_epochs, hardware)
        self.num_init = positive_int("num_init", num_init)
        self.batch_size = positive_int("batch_size", batch_size)
        self.num_candidates = positive_int("num_candidates", num_candidates)
        self.num_parents = positive_int("num_parents", num_parents)
        if acquisition not in ACQUISITIONS:
            raise NasbenchError(f"acquisition: expected one of {', '.join(ACQUISITIONS)}, got {acquisition!r}")
        self.acquisition = acquisition
        self.beta = number_at_least("beta", beta, 0.0, strict=False)
        from predictors.registry import PREDICTORS, load_predictors  # a light import: no model library

        load_predictors()
        self.predictor = predictor
        spec = PREDICTORS.get(predictor) if isinstance(predictor, str) else None
        if spec is None or spec.curve:
            known = ", ".join(name for name in PREDICTORS if not PREDICTORS.get(name).curve)
            raise NasbenchError(f"predictor: expected one of {known} (a predictor of architectures alone), "
                                f"got {predictor!r}")
        encoding = ("path" if predictor == "mlp-ensemble" else spec.encoding) if encoding is None else encoding
        known = tuple(getattr(space, "encodings", ()))
        if encoding not in known:
            raise NasbenchError(f"encoding: {space.name} has encodings {', '.join(known) or 'none'}, got {encoding!r}")
        self.encoding = encoding
        self.n_models = positive_int("n_models", n_models)
        self.num_layers = positive_int("num_layers", num_layers)
        self.layer_width = positive_int("layer_width", layer_width)
        self.learning_rate = number_at_least("learning_rate", learning_rate, 0.0, strict=True)
        self.epochs = positive_int("epochs", epochs)
        self._archs: list[Any] = []  # told architectures, in query order
        self._values: list[float] = []  # their validation accuracies (%)
        self._queried: set[Any] = set()  # every architecture asked so far
        self._batch: list[Any] = []  # chosen by the last round, not yet asked
        self.rounds = 0  # ensembles fitted so far

    # -- ask/tell -------------------------------------------------------------------------
    def ask(self) -> Any:
        if not self._batch:
            if len(self._queried) < self.num_init or not self._values:
                self._batch = self._fresh_samples(1)
            else:
                self._batch = self._next_batch()
            if not self._batch:
                raise StopIteration("bananas: every architecture within reach has been queried")
        arch = self._batch.pop(0)
        self._queried.add(arch)
        return arch

    def tell(self, observation: Observation) -> None:
        self._archs.append(observation.arch)
        self._values.append(float(observation.value))

    # -- one round of BO ------------------------------------------------------------------
    def make_ensemble(self) -> Any:
        """A fresh predictor with a spread, seeded from ``self.rng``: the MLP ensemble with this
        run's hyperparameters, another registered predictor that has a spread, or ``n_models``
        bagged copies of one that has none."""
        from predictors.ensemble import MLPEnsemble

        if self.predictor != "mlp-ensemble":
            return self._registered_predictor()
        return MLPEnsemble(
            n_models=self.n_models, hidden_layer_sizes=(self.layer_width,) * self.num_layers,
            learning_rate_init=self.learning_rate, max_iter=self.epochs,
            # Up to 200 points a minibatch is the whole set, so shuffling changes nothing
            # but costs about a third of the fit time (scikit-learn re-indexes every epoch).
            shuffle=False, random_state=int(self.rng.integers(2**32)),
        )

    def _registered_predictor(self) -> Any:
        from predictors.registry import PREDICTORS, make_predictor

        seed = int(self.rng.integers(2**32))
        if PREDICTORS.get(self.predictor).std:
            return make_predictor(self.predictor, space=self.space, random_state=seed)
        from predictors.bagging import BaggedEnsemble

        member = make_predictor(self.predictor, space=self.space, random_state=seed)
        return BaggedEnsemble(estimator=member, n_estimators=self.n_models, random_state=seed % 2**31)

    def _next_batch(self) -> list[Any]:
        """Fit the ensemble, score fresh candidates, return the ``batch_size`` best."""
        from sklearn.exceptions import ConvergenceWarning  # scikit-learn loads only when BANANAS fits

        with warnings.catch_warnings():  # a kernel parameter at its bound, an MLP at max_iter: not faults
            warnings.simplefilter("ignore", ConvergenceWarning)
            ensemble = self.make_ensemble().fit(self.space.encode(self._archs, self.encoding), self._values)
        self.rounds += 1
        candidates = self.candidates()
        if not candidates:
            return []
        mean, std = ensemble.predict(self.space.encode(candidates, self.encoding), return_std=True)
        scores = acquisition_scores(self.acquisition, mean, std, max(self._values), self.rng, self.beta)
        # Ties (e.g. EI underflowing to 0 far below the incumbent) go to the higher mean.
        order = np.lexsort((-mean, -scores))[: self.batch_size]
        return [candidates[i] for i in order]

    def parents(self) -> list[Any]:
        """The ``num_parents`` best told architectures (ties: the earlier query first)."""
        order = np.argsort(-np.asarray(self._values), kind="stable")
        return [self._archs[i] for i in order[: self.num_parents]]

    def candidates(self) -> list[Any]:
        """Up to ``num_candidates`` distinct unqueried mutations of the parents, in turn;
        random architectures make up a shortfall below ``batch_size``."""
        parents = self.parents()
        seen = set(self._queried)
        out: list[Any] = []
        for attempt in range(self.num_candidates * PATIENCE):
            if len(out) >= self.num_candidates:
                break
            child = self.mutate_arch(parents[attempt % len(parents)])
            if child not in seen:
                seen.add(child)
                out.append(child)
        if len(out) < self.batch_size:
            out += self._fresh_samples(self.batch_size - len(out), seen)
        return out

    def _fresh_samples(self, count: int, seen: set[Any] | None = None) -> list[Any]:
        """Up to ``count`` random unqueried architectures (feasible ones under a limit)."""
        seen = set(self._queried) if seen is None else seen
        out: list[Any] = []
        for _ in range(count * PATIENCE * 10):
            if len(out) >= count:
                return out
            arch = self.sample_arch()
            if arch not in seen:
                seen.add(arch)
                out.append(arch)
        if self.space.size:  # an enumerable space: pick among what is really left
            pool = self.allowed_indices()
            left = [int(i) for i in pool if self.space.from_index(int(i)) not in seen]
            picks = self.rng.permutation(len(left))[: count - len(out)]
            out += [self.space.from_index(left[i]) for i in picks]
        return out
