"""Predictors on architectures themselves: a scikit-learn transformer from architectures
(objects, canonical strings or indices of any space) to one of the space's encodings, and
the pipeline that puts it in front of a registered predictor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from nasbench.errors import InvalidParameterError


class ArchitectureEncoder(TransformerMixin, BaseEstimator):
    """Encodes architectures with ``space.encode(archs, encoding)`` (stateless: fit learns nothing
    but checks the encoding)."""

    def __init__(self, space: Any = None, encoding: str = "onehot") -> None:
        self.space = space
        self.encoding = encoding

    def fit(self, archs: Sequence[Any], y: Any = None) -> ArchitectureEncoder:
        known = tuple(getattr(self.space, "encodings", ()))
        if self.encoding not in known:
            name = getattr(self.space, "name", self.space)
            raise InvalidParameterError(f"encoding: space {name} has encodings {', '.join(known) or 'none'}, "
                                        f"got {self.encoding!r}")
        self.width_ = int(self.space.encode([self.space.sample(np.random.default_rng(0))], self.encoding).shape[1])
        return self

    def transform(self, archs: Sequence[Any]) -> np.ndarray:
        return np.asarray(self.space.encode(list(archs), self.encoding), dtype=np.float64)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # architectures, not a feature matrix
        tags.requires_fit = False
        return tags


def make_arch_predictor(name: str, space: Any, encoding: str | None = None, random_state: Any = None,
                        **params: Any) -> Pipeline:
    """A pipeline that fits predictor ``name`` on architectures of ``space`` (its default
    encoding unless ``encoding``); ``fit(archs, y)``, ``predict(archs)``."""
    from predictors.registry import PREDICTORS, make_predictor

    spec = PREDICTORS.get(name)
    if spec.curve:
        raise InvalidParameterError(f"predictor {name!r} reads learning curves as well: fit it on "
                                    f"predictors.features.build_features(...) instead")
    model = make_predictor(name, space=space, random_state=random_state, **params)
    return Pipeline([("encode", ArchitectureEncoder(space, encoding or spec.encoding)), ("predict", model)])
