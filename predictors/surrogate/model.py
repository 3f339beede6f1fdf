"""A surrogate of a table: predicts an architecture's mean validation learning curve, its
training cost per epoch and its final test accuracy, and draws single training runs from
a noise model fitted on the table's seed-to-seed variation.

The mean model is one multi-output MLP ensemble (:mod:`predictors.surrogate.mlp`) on
``space.encode(archs, encoding)``; its outputs are the seed-mean validation curve (all
epochs), the log of the seed-mean seconds of each epoch, and the seed-mean final test
accuracy. Accuracies are learned as the log of the error rate, ``log(100 + ERROR_OFFSET -
acc)``: predictions can never pass 100%, and the top of the table, where a few tenths of a
point separate the best cells, is spread out instead of squeezed against the ceiling (fitted
on raw accuracy, an MLP predicted up to 106% for some cells, and regret measured against that). The noise model is :mod:`predictors.surrogate.noise`. Predictions are memoised
per architecture (for an enumerable space, the whole space is predicted on first use), so
the one-architecture-at-a-time queries of an oracle cost a lookup. Fitting imports
scikit-learn and scipy; a loaded model needs numpy alone.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.errors import InvalidParameterError
from predictors.surrogate.memo import PredictionMemo
from predictors.surrogate.mlp import MLP_DEFAULTS, MLPWeights
from predictors.surrogate.noise import NOISE_PENALTY, NoiseModel

if TYPE_CHECKING:
    from nasbench.spaces import SearchSpace
    from nasbench.table.reader import Table

ACCURACY_BOUNDS = (0.0, 100.0)
ERROR_OFFSET = 0.5  # points added to the error rate before its log: 100% accuracy stays finite  # the schema's range of accuracies (percent); draws are clipped to it
HYPER_KEYS = (*MLP_DEFAULTS, "noise_penalty")


class SurrogateModel:
    """A fitted surrogate (build with :meth:`fit` or :func:`predictors.surrogate.load`).

    ``info`` is the JSON-ready provenance: table name and sha256, encoding, seed,
    hyperparameters, epochs; ``train_indices`` the table indices it was fitted on.
    """

    def __init__(self, space: SearchSpace, encoding: str, epochs: int, mean_net: MLPWeights, noise: NoiseModel,
                 info: dict[str, Any], train_indices: np.ndarray) -> None:
        """Store the fitted parts (see :meth:`fit`); nothing is computed here."""
        self.space = space
        self.encoding = encoding
        self.epochs = int(epochs)
        self.mean_net = mean_net
        self.noise = noise
        self.info = info
        self.train_indices = np.asarray(train_indices, dtype=np.int64)
        self._memo = PredictionMemo(space, self._predict_encoded)

    # -- fitting --------------------------------------------------------------------------
    @classmethod
    def fit(cls, table: Table, train_indices: Sequence[int] | np.ndarray, *, encoding: str = "onehot",
            seed: int = 0, **hyper: Any) -> SurrogateModel:
        """Fit on the table's architectures ``train_indices`` (deduplicated, sorted); the
        MLP members' seeds are spawned from ``seed``; ``hyper`` overrides MLP_DEFAULTS and
        ``noise_penalty``."""
        from predictors.surrogate.mlp import fit_mlp_ensemble
        from predictors.surrogate.noise import fit_noise

        space = table.space
        if encoding not in space.encodings:
            raise InvalidParameterError(f"encoding: space {space.name} has encodings {', '.join(space.encodings)}, "
                                        f"got {encoding!r}")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise InvalidParameterError(f"seed: expected an integer >= 0, got {seed!r}")
        unknown = sorted(set(hyper) - set(HYPER_KEYS))
        if unknown:
            raise InvalidParameterError(f"hyper: unknown hyperparameter {unknown[0]!r} (known: {', '.join(HYPER_KEYS)})")
        idx = np.unique(table.check_indices(np.asarray(train_indices, dtype=np.int64).ravel()))
        if len(idx) < 8:
            raise InvalidParameterError(f"train_indices: {len(idx)} architectures; a surrogate needs at least 8")
        targets = training_targets(table, idx)
        X = np.asarray(space.encode(idx, encoding), dtype=np.float64)
        noise_penalty = float(hyper.pop("noise_penalty", NOISE_PENALTY))
        mlp_hyper = {**MLP_DEFAULTS, **hyper}
        mean_seed, _ = np.random.SeedSequence(int(seed)).spawn(2)
        epochs = table.epochs
        learned = targets.copy()
        learned[:, :epochs] = to_log_error(targets[:, :epochs])
        learned[:, 2 * epochs] = to_log_error(targets[:, 2 * epochs])
        net = fit_mlp_ensemble(X, learned, mean_seed, **mlp_hyper)
        noise = fit_noise(X, table.curve("valid_acc")[idx].astype(np.float64),
                          from_log_error(net.predict(X)[:, :epochs]), penalty=noise_penalty)
        info = {
            "space": space.name, "encoding": encoding, "epochs": epochs, "seed": int(seed),
            "table": {"name": table.name, "sha256": table.sha256, "seeds": [int(s) for s in table.seeds],
                      "synthetic": bool(table.manifest.synthetic)},
            "hyperparameters": {**{k: list(v) if isinstance(v, tuple) else v for k, v in mlp_hyper.items()},
                                "noise_penalty": noise_penalty},
        }
        return cls(space, encoding, epochs, net, noise, info, idx)

    # -- predictions ----------------------------------------------------------------------
    def _predict_encoded(self, archs: Sequence[Any]) -> np.ndarray:
        """(n, 3 * epochs + 1): mean curve, cumulative seconds, std per epoch, test accuracy."""
        E = self.epochs
        X = np.asarray(self.space.encode(archs, self.encoding), dtype=np.float64)
        out = self.mean_net.predict(X)
        mean = from_log_error(out[:, :E])
        seconds = np.cumsum(np.exp(out[:, E:2 * E]), axis=1)
        std = self.noise.std(X, mean)
        return np.hstack([mean, seconds, std, from_log_error(out[:, 2 * E:2 * E + 1])])

    def _rows(self, archs: Any) -> np.ndarray:
        return self._memo.rows(archs)

    def mean_curves(self, archs: Any) -> np.ndarray:
        """(n, epochs) predicted seed-mean validation accuracy (percent) at every epoch."""
        return self._rows(archs)[:, :self.epochs].copy()

    def cumulative_seconds(self, archs: Any) -> np.ndarray:
        """(n, epochs) predicted training seconds up to and including each epoch."""
        return self._rows(archs)[:, self.epochs:2 * self.epochs].copy()

    def noise_std(self, archs: Any) -> np.ndarray:
        """(n, epochs) std of one training run's validation accuracy about the mean curve."""
        return self._rows(archs)[:, 2 * self.epochs:3 * self.epochs].copy()

    def test_accuracy(self, archs: Any) -> np.ndarray:
        """(n,) predicted seed-mean final test accuracy (the value regret is measured on)."""
        return self._rows(archs)[:, 3 * self.epochs].copy()

    def sample_curves(self, archs: Any, rng: np.random.Generator) -> np.ndarray:
        """(n, epochs) one simulated training run per architecture: mean + std * z,
        z ~ N(0, R) (a whole coherent curve), clipped to the accuracy range."""
        rows = self._rows(archs)
        E = self.epochs
        z = rng.standard_normal((len(rows), E)) @ self.noise.cholesky.T
        return np.clip(rows[:, :E] + rows[:, 2 * E:3 * E] * z, *ACCURACY_BOUNDS)


def to_log_error(accuracy: np.ndarray) -> np.ndarray:
    """Accuracy (%) -> the log of its error rate (what the mean model learns)."""
    return np.log(100.0 + ERROR_OFFSET - np.clip(accuracy, *ACCURACY_BOUNDS))


def from_log_error(value: np.ndarray) -> np.ndarray:
    """The inverse of :func:`to_log_error`, clipped to 0-100%."""
    return np.clip(100.0 + ERROR_OFFSET - np.exp(value), *ACCURACY_BOUNDS)


def training_targets(table: Table, idx: np.ndarray) -> np.ndarray:
    """(n, 2 * epochs + 1) targets: seed-mean valid curve, log seed-mean seconds per epoch
    (whose cumulative sum is the table's mean cumulative seconds), seed-mean final test accuracy."""
    from nasbench.table.reader import nanmean_quiet

    valid = nanmean_quiet(table.curve("valid_acc")[idx].astype(np.float64), axis=1)
    seconds = nanmean_quiet(table.curve("epoch_seconds")[idx].astype(np.float64), axis=1)
    test = table.final("test_acc")[idx].astype(np.float64)
    targets = np.hstack([valid, np.log(np.maximum(seconds, 1e-9)), test[:, None]])
    bad = ~np.isfinite(targets).all(axis=1)
    if bad.any():
        raise InvalidParameterError(f"train_indices: architecture {int(idx[bad][0])} of table {table.name!r} "
                                    f"has an epoch recorded by no seed")
    return targets
