"""Learned accuracy predictors (fit/predict on encodings) and zero-cost proxies.

So far: MLPEnsemble (the ensemble of feed-forward nets BANANAS uses); more predictors and
the zero-cost proxies arrive with their own issue.
"""

from predictors.ensemble import MLPEnsemble

__all__ = ["MLPEnsemble"]
