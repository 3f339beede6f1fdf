"""Learned accuracy predictors (fit/predict on encodings) and zero-cost proxies.

Empty for now: predictors arrive with their own issue.
"""
