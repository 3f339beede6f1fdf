"""Feature matrices of predictors: encodings, proxy scores, learning-curve epochs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nasbench.errors import InvalidParameterError, NasbenchError
from nasbench.table import load_table
from predictors.features import FeatureSpec, build_features, proxy_features, signed_log
from predictors.learning_curve import curve_features, observed_epochs

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(hnp.arrays(np.float64, st.integers(2, 40), elements=finite))
def test_signed_log_keeps_the_order_and_is_finite(values):
    out = signed_log(values)
    assert np.all(np.isfinite(out))
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(out[order]) >= 0)  # rank-preserving: trees see the same splits
    assert np.array_equal(np.sign(out), np.sign(values))


def test_signed_log_maps_non_finite_scores_to_zero():
    assert signed_log(np.array([np.inf, -np.inf, np.nan, 1e300])).tolist()[:3] == [0.0, 0.0, 0.0]


@settings(max_examples=100)
@given(st.integers(1, 8), st.integers(0, 5), st.integers(1, 6))
def test_curve_features_are_values_and_differences(observed, extra, rows):
    epochs = observed + extra
    curves = np.random.default_rng(observed * 7 + extra).normal(size=(rows, epochs))
    out = curve_features(curves, observed)
    assert out.shape == (rows, 3 * observed - 3 if observed >= 2 else 1)
    np.testing.assert_array_equal(out[:, :observed], curves[:, :observed])
    if observed >= 2:
        np.testing.assert_allclose(out[:, observed:2 * observed - 1], np.diff(curves[:, :observed], axis=1))


@given(st.integers(2, 500))
def test_observed_epochs_are_a_quarter_at_least_one_and_never_all(epochs):
    seen = observed_epochs(epochs)
    assert 1 <= seen < epochs and seen >= 0.25 * epochs - 1e-9
    with pytest.raises(InvalidParameterError, match="epochs"):
        observed_epochs(1)


def test_build_features_stacks_encoding_proxies_and_curve():
    table = load_table("nb201-digits")
    cells = np.array([3, 1000, 15624])
    scores = {"synflow": np.arange(table.space.size, dtype=float) * 1e10}
    X = build_features(table, cells, FeatureSpec("onehot", ("synflow",), 0.25), scores)
    seen = observed_epochs(table.epochs)
    assert X.shape == (3, 30 + 1 + 3 * seen - 3)
    np.testing.assert_array_equal(X[:, :30], table.space.encode(list(cells), "onehot"))
    np.testing.assert_allclose(X[:, 30], signed_log(scores["synflow"][cells]))
    with pytest.raises(InvalidParameterError, match="encoding: .*'graph2vec'"):
        build_features(table, cells, FeatureSpec("graph2vec"))
    with pytest.raises(NasbenchError, match="proxy 'snip': no scores"):
        proxy_features(scores, ["snip"], cells)
