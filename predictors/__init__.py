"""Learned accuracy predictors (fit/predict on encodings) and zero-cost proxies.

Predictors are registered by name (:mod:`predictors.registry`, the built-ins in
:mod:`predictors.catalog`): ``make_predictor("xgb", random_state=0)`` gives an unfitted
scikit-learn style estimator, :func:`predictors.encoder.make_arch_predictor` one that fits
on architectures directly, and :mod:`predictors.evaluation` the protocol that compares
them. The zero-cost proxies are in :mod:`predictors.proxies` (torch is imported only when
a proxy is loaded), surrogate models in :mod:`predictors.surrogate`.

The names below are imported on first access, so ``import predictors.surrogate`` (a loaded
surrogate needs numpy alone) does not pay for scikit-learn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PREDICTORS", "MLPEnsemble", "PredictorSpec", "load_predictors", "make_predictor"]


def __getattr__(name: str) -> Any:
    if name == "MLPEnsemble":
        from predictors.ensemble import MLPEnsemble

        return MLPEnsemble
    if name in __all__:
        from predictors import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'predictors' has no attribute {name!r}")
