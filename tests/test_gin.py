"""GINPredictor: learns NB201 accuracies from graph encodings, scikit-learn conventions,
seeding, permutation invariance, global features, and errors naming the field."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import kendalltau
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from nasbench.errors import InvalidParameterError
from nasbench.table import load_table
from predictors.gin import GINPredictor

FAST = {"hidden": 32, "layers": 3, "epochs": 15, "batch_size": 64}


@pytest.fixture(scope="module")
def nb201(one_torch_thread) -> dict:
    """Graph encodings and final validation accuracy of 160 training and 200 held-out
    distinct cells of the shipped nb201-mnist1d table."""
    table = load_table("nb201-mnist1d")
    unique = np.flatnonzero(table.scalar("trained_as") == np.arange(table.space.size))
    cells = np.random.default_rng(0).choice(unique, size=360, replace=False)
    X, y = table.space.encode(cells, "graph"), table.final("valid_acc")[cells]
    return {"shape": table.space.graph_shape, "X": X[:160], "y": y[:160], "X_test": X[160:], "y_test": y[160:]}


@pytest.fixture(scope="module")
def fitted(nb201) -> GINPredictor:
    return GINPredictor(*nb201["shape"], random_state=0, **FAST).fit(nb201["X"], nb201["y"])


def tau(model: GINPredictor, X: np.ndarray, y: np.ndarray) -> float:
    return float(kendalltau(model.predict(X), y)[0])


def test_learns_accuracy_of_held_out_cells(fitted, nb201):
    prediction = fitted.predict(nb201["X_test"])
    assert prediction.dtype == np.float64 and prediction.shape == (200,)
    assert tau(fitted, nb201["X_test"], nb201["y_test"]) > 0.5
    # in the units of y: the ranking loss is mapped back to accuracy (%) by a least-squares line
    assert abs(prediction.mean() - nb201["y_test"].mean()) < 0.5 * nb201["y_test"].std()
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]


def test_learned_attributes_end_in_underscore(fitted, nb201):
    learned = {k for k in vars(fitted) if k not in fitted.get_params()}
    assert learned and all(k.endswith("_") for k in learned)
    assert fitted.n_features_in_ == nb201["X"].shape[1] == 120
    assert fitted.y_mean_ == pytest.approx(nb201["y"].mean()) and fitted.y_scale_ == pytest.approx(nb201["y"].std())
    assert all(isinstance(v, np.ndarray) for v in fitted.state_.values())


def test_same_seed_same_predictions_other_seed_differs(fitted, nb201):
    import torch

    rng_state = torch.random.get_rng_state()
    again = GINPredictor(*nb201["shape"], random_state=0, **FAST).fit(nb201["X"], nb201["y"])
    assert torch.equal(torch.random.get_rng_state(), rng_state)  # torch's global RNG untouched
    np.testing.assert_array_equal(again.predict(nb201["X_test"]), fitted.predict(nb201["X_test"]))
    other = GINPredictor(*nb201["shape"], random_state=1, **FAST).fit(nb201["X"], nb201["y"])
    assert not np.array_equal(other.predict(nb201["X_test"]), fitted.predict(nb201["X_test"]))


def test_clone_and_pickle(fitted, nb201):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "state_")
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(nb201["X_test"]), fitted.predict(nb201["X_test"]))


def test_isomorphic_graphs_get_the_same_prediction(fitted, nb201):
    """Renumbering the inner vertices (adjacency P A P^T, types P T) changes no prediction."""
    v, t = nb201["shape"]
    X = nb201["X_test"][:50]
    adj, types = X[:, : v * v].reshape(-1, v, v), X[:, v * v:].reshape(-1, v, t)
    order = np.array([0, 3, 6, 1, 5, 2, 4, 7])
    permuted = np.concatenate([adj[:, order][:, :, order].reshape(len(X), -1),
                               types[:, order].reshape(len(X), -1)], axis=1)
    assert not np.array_equal(permuted, X)
    np.testing.assert_allclose(fitted.predict(permuted), fitted.predict(X), rtol=0, atol=1e-4)


def test_global_features_are_used(nb201):
    """A feature that is the target itself (standardised in fit) makes the fit far better."""
    X, y, X_test, y_test = nb201["X"], nb201["y"], nb201["X_test"], nb201["y_test"]
    settings = {**FAST, "epochs": 30}
    plain = GINPredictor(*nb201["shape"], random_state=0, **settings).fit(X, y)
    told = GINPredictor(*nb201["shape"], random_state=0, **settings).fit(np.c_[X, y], y)
    assert told.n_features_in_ == 121 and told.extra_mean_ == pytest.approx([y.mean()])
    assert tau(told, np.c_[X_test, y_test], y_test) > max(0.8, tau(plain, X_test, y_test) + 0.1)


@pytest.mark.parametrize("loss", ["mse", "mse+pairwise"])
def test_other_losses_predict_in_the_units_of_y(nb201, loss):
    model = GINPredictor(*nb201["shape"], loss=loss, random_state=0, **FAST).fit(nb201["X"], nb201["y"])
    assert model.calibration_ == (1.0, 0.0)
    assert tau(model, nb201["X_test"], nb201["y_test"]) > 0.3
    assert abs(model.predict(nb201["X_test"]).mean() - nb201["y_test"].mean()) < nb201["y_test"].std()


def test_one_training_row(nb201):
    model = GINPredictor(*nb201["shape"], random_state=0, **FAST).fit(nb201["X"][:1], nb201["y"][:1])
    np.testing.assert_allclose(model.predict(nb201["X_test"][:3]), nb201["y"][0])


def test_importing_the_module_imports_no_torch():
    code = "import sys, predictors.gin; assert 'torch' not in sys.modules, 'torch imported'"
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_predict_before_fit_is_not_fitted_error(nb201):
    with pytest.raises(NotFittedError):
        GINPredictor(*nb201["shape"]).predict(nb201["X_test"])


@pytest.mark.parametrize(("field", "value"), [
    ("n_nodes", 0), ("n_types", "7"), ("hidden", 0), ("layers", 1.5), ("epochs", 0), ("batch_size", True),
    ("learning_rate", -1.0), ("weight_decay", float("nan")), ("loss", "l1"), ("bidirectional", "yes"),
    ("jumping", None), ("device", "tpu"), ("random_state", -1),
])
def test_bad_hyperparameter_names_field_and_value(nb201, field, value):
    model = GINPredictor(*nb201["shape"]).set_params(**{field: value})
    with pytest.raises(InvalidParameterError, match=rf"{field}: expected .*got {value!r}"):
        model.fit(nb201["X"][:5], nb201["y"][:5])


def test_graph_shape_wider_than_X_names_the_shape(nb201):
    with pytest.raises(InvalidParameterError, match=r"n_nodes=8, n_types=8: the 'graph' encoding needs X of at "
                                                    r"least 8\*8 \+ 8\*8 = 128 features, got 120 feature"):
        GINPredictor(8, 8).fit(nb201["X"][:5], nb201["y"][:5])


def test_predict_on_other_width_names_X(fitted, nb201):
    with pytest.raises(InvalidParameterError, match=r"X has 121 features, but GINPredictor is expecting 120 features"):
        fitted.predict(np.c_[nb201["X_test"], nb201["y_test"]])


def test_cuda_when_asked(nb201):
    import torch

    model = GINPredictor(*nb201["shape"], device="cuda", random_state=0, **FAST)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="device: expected 'cpu'.*got 'cuda'"):
            model.fit(nb201["X"], nb201["y"])
        return
    model.fit(nb201["X"], nb201["y"])
    assert tau(model, nb201["X_test"], nb201["y_test"]) > 0.5


def test_scikit_learn_estimator_checks(one_torch_thread):
    """All of scikit-learn's checks, on a one-vertex graph (X: its self-loop, its type, then
    the checks' features as global features: the checks' data have as few as 1 column)."""
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SkipTestWarning of checks that do not apply
        check_estimator(GINPredictor(n_nodes=1, n_types=1, hidden=32, layers=2, epochs=20, random_state=0))
