"""Learned accuracy predictors (fit/predict on encodings) and zero-cost proxies.

Predictors are registered by name (:mod:`predictors.registry`, the built-ins in
:mod:`predictors.catalog`): ``make_predictor("xgb", random_state=0)`` gives an unfitted
scikit-learn style estimator, :func:`predictors.encoder.make_arch_predictor` one that fits
on architectures directly, and :mod:`predictors.evaluation` the protocol that compares
them. The zero-cost proxies are in :mod:`predictors.proxies` (torch is imported only when
a proxy is loaded).
"""

from predictors.ensemble import MLPEnsemble
from predictors.registry import PREDICTORS, PredictorSpec, load_predictors, make_predictor

__all__ = ["MLPEnsemble", "PREDICTORS", "PredictorSpec", "load_predictors", "make_predictor"]
