"""MLPEnsemble: scikit-learn conventions, seeding, and an uncertainty that means something."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from nasbench.errors import NasbenchError
from predictors import MLPEnsemble
from nasbench.errors import InvalidParameterError

SMALL = {"n_models": 3, "hidden_layer_sizes": (16, 16), "max_iter": 100}


@pytest.fixture(scope="module")
def wave() -> tuple[np.ndarray, np.ndarray]:
    """60 points of a sine wave on [0, 1]."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 1.0, size=(60, 1))
    return X, np.sin(6.0 * X[:, 0])


@pytest.fixture(scope="module")
def nb201_data(space, full_table) -> tuple[np.ndarray, np.ndarray]:
    """Path encodings and final validation accuracy (%) of 120 random NB201 cells."""
    rng = np.random.default_rng(1)
    index = rng.choice(space.size, size=120, replace=False)
    y = np.nanmean(full_table.curve("valid_acc")[index, :, -1], axis=1)
    return space.encode(list(index), "path"), y


def test_fit_returns_self_and_learns_underscore_attributes(wave):
    X, y = wave
    model = MLPEnsemble(random_state=0, **SMALL)
    assert model.fit(X, y) is model
    assert len(model.estimators_) == 3 and len(set(model.seeds_)) == 3
    assert model.n_features_in_ == 1
    assert model.y_mean_ == pytest.approx(y.mean()) and model.y_scale_ == pytest.approx(y.std())
    learned = {k for k in vars(model) if k not in model.get_params()}
    assert learned and all(k.endswith("_") for k in learned)


def test_prediction_shapes(nb201_data):
    X, y = nb201_data
    model = MLPEnsemble(random_state=0, **SMALL).fit(X[:100], y[:100])
    mean = model.predict(X[100:])
    mean2, std = model.predict(X[100:], return_std=True)
    mean3, std3 = model.predict_dist(X[100:])
    members = model.predict_members(X[100:])
    assert mean.shape == std.shape == (20,) and members.shape == (3, 20)
    np.testing.assert_array_equal(mean, mean2)
    np.testing.assert_array_equal(mean, mean3)
    np.testing.assert_array_equal(std, std3)
    np.testing.assert_allclose(mean, members.mean(axis=0))
    np.testing.assert_allclose(std, members.std(axis=0))


def test_predicts_in_the_units_of_y(nb201_data):
    """Targets are standardised inside: accuracies in % come back in %, and a shifted y
    gives predictions shifted by the same amount."""
    X, y = nb201_data
    model = MLPEnsemble(random_state=0, **SMALL).fit(X, y)
    assert abs(model.predict(X).mean() - y.mean()) < 2.0
    shifted = MLPEnsemble(random_state=0, **SMALL).fit(X, y + 1000.0)
    np.testing.assert_allclose(shifted.predict(X), model.predict(X) + 1000.0, atol=0.1)  # float32 X


def test_learns_the_signal(nb201_data):
    """On held-out cells the mean prediction ranks accuracies far better than chance."""
    X, y = nb201_data
    model = MLPEnsemble(random_state=0).fit(X[:90], y[:90])
    assert np.corrcoef(model.predict(X[90:]), y[90:])[0, 1] > 0.5


def test_constant_target_does_not_divide_by_zero(wave):
    X, _ = wave
    model = MLPEnsemble(random_state=0, **SMALL).fit(X, np.full(len(X), 42.0))
    assert model.y_scale_ == 1.0
    np.testing.assert_allclose(model.predict(X), 42.0, atol=0.5)


def test_same_random_state_same_ensemble(wave):
    X, y = wave
    a = MLPEnsemble(random_state=7, **SMALL).fit(X, y)
    b = MLPEnsemble(random_state=7, **SMALL).fit(X, y)
    c = MLPEnsemble(random_state=8, **SMALL).fit(X, y)
    assert a.seeds_ == b.seeds_ != c.seeds_
    np.testing.assert_array_equal(a.predict_members(X), b.predict_members(X))
    assert not np.array_equal(a.predict(X), c.predict(X))


def test_member_seeds_come_from_seed_sequence(wave):
    X, y = wave
    model = MLPEnsemble(random_state=5, **SMALL).fit(X, y)
    expected = [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(5).spawn(3)]
    assert model.seeds_ == expected


def test_generator_random_state_is_consumed_deterministically(wave):
    X, y = wave
    a = MLPEnsemble(random_state=np.random.default_rng(3), **SMALL).fit(X, y)
    b = MLPEnsemble(random_state=np.random.default_rng(3), **SMALL).fit(X, y)
    assert a.seeds_ == b.seeds_


def test_std_is_positive_and_grows_away_from_the_data(wave):
    X, y = wave
    model = MLPEnsemble(random_state=1).fit(X, y)
    _, near = model.predict_dist(np.linspace(0.0, 1.0, 50)[:, None])
    _, far = model.predict_dist(np.linspace(3.0, 4.0, 50)[:, None])
    assert np.all(near > 0)
    assert far.mean() > 3 * near.mean()


def test_members_disagree_only_because_of_their_seeds(wave):
    X, y = wave
    members = MLPEnsemble(random_state=0, **SMALL).fit(X, y).predict_members(X)
    assert not np.array_equal(members[0], members[1])


def test_sklearn_clone_and_params():
    model = MLPEnsemble(n_models=4, hidden_layer_sizes=(8,), random_state=3)
    params = model.get_params()
    assert params["n_models"] == 4 and params["hidden_layer_sizes"] == (8,) and params["random_state"] == 3
    twin = clone(model)
    assert twin is not model and twin.get_params() == params
    assert twin.set_params(n_models=2).n_models == 2


def test_clone_of_a_fitted_ensemble_is_unfitted(wave):
    X, y = wave
    twin = clone(MLPEnsemble(random_state=0, **SMALL).fit(X, y))
    assert not hasattr(twin, "estimators_")
    with pytest.raises(NotFittedError):
        twin.predict(X)


def test_feature_count_must_match_fit(wave):
    X, y = wave
    model = MLPEnsemble(random_state=0, **SMALL).fit(X, y)
    with pytest.raises(InvalidParameterError, match="X has 2 features, but MLPEnsemble is expecting 1 features"):
        model.predict(np.zeros((3, 2)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_models", 0),
        ("n_models", 2.5),
        ("hidden_layer_sizes", ()),
        ("hidden_layer_sizes", (20, 0)),
        ("hidden_layer_sizes", "20"),
        ("learning_rate_init", 0.0),
        ("max_iter", -1),
        ("batch_size", "big"),
        ("alpha", -1.0),
        ("tol", float("nan")),
        ("shuffle", "yes"),
        ("random_state", -3),
        ("random_state", "seed"),
    ],
)
def test_bad_hyperparameters_name_field_and_value(wave, field, value):
    X, y = wave
    model = MLPEnsemble(**{field: value})  # __init__ only stores, as in scikit-learn
    with pytest.raises(InvalidParameterError, match=field) as info:
        model.fit(X, y)
    assert repr(value) in str(info.value)
    assert isinstance(info.value, NasbenchError) and isinstance(info.value, ValueError)
