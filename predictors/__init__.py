"""Learned accuracy predictors (fit/predict on encodings) and zero-cost proxies.

So far: MLPEnsemble (the ensemble of feed-forward nets BANANAS uses), and the zero-cost
proxies in :mod:`predictors.proxies` (torch is imported only when a proxy is loaded).
"""

from predictors.ensemble import MLPEnsemble

__all__ = ["MLPEnsemble"]
