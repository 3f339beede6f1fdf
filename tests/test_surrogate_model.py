"""The surrogate model and its artifact, fitted on 300 cells of the shipped nb201-digits
table with a small, fast configuration: it ranks held-out cells, its curves and costs have
the table's shape, its draws have the spread it states, its files are deterministic,
checksummed and load without scikit-learn, scipy, torch or xgboost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasbench.errors import InvalidParameterError, NasbenchError
from nasbench.table import load_table
from predictors.surrogate import SurrogateError, SurrogateModel, load, save, verify
from predictors.surrogate.metrics import held_out_metrics, split_indices
from predictors.surrogate.noise import hat_basis

FAST = {"n_models": 2, "hidden_layer_sizes": (64, 64), "max_steps": 600}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table():
    return load_table("nb201-digits")


@pytest.fixture(scope="module")
def split(table):
    train, held_out = split_indices(table, 300 / len(table.indices), seed=0)
    return train, held_out[::10]


@pytest.fixture(scope="module")
def model(table, split) -> SurrogateModel:
    return SurrogateModel.fit(table, split[0], seed=0, **FAST)


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory) -> Path:
    return save(model, tmp_path_factory.mktemp("surrogate") / "digits-300",
                sampling={"method": "uniform", "fraction": 300 / 15625, "seed": 0})


def test_held_out_ranking_is_clearly_positive(model, table, split):
    held_out = split[1]
    tau = kendalltau(table.final("valid_acc")[held_out], model.mean_curves(held_out)[:, -1]).statistic
    assert tau > 0.5
    metrics = held_out_metrics(model, table, held_out)
    assert metrics["test_acc"]["kendall_tau"] > 0.5
    assert metrics["final_valid_acc"]["r2"] > 0.5


def test_predictions_have_the_tables_shapes_and_scales(model, table, split):
    held_out = split[1]
    n, epochs = len(held_out), table.epochs
    assert model.mean_curves(held_out).shape == (n, epochs)
    assert model.noise_std(held_out).shape == (n, epochs)
    assert model.test_accuracy(held_out).shape == (n,)
    seconds = model.cumulative_seconds(held_out)
    assert seconds.shape == (n, epochs)
    assert (np.diff(seconds, axis=1) > 0).all()
    truth = np.nanmean(table.cumulative_seconds()[held_out, :, -1], axis=1)
    assert 0.7 < seconds[:, -1].sum() / truth.sum() < 1.3  # the table's total cost, up to timing noise
    assert (model.noise_std(held_out) > 0).all()


def test_one_architecture_as_cell_string_or_index_gives_the_same_row(model, table):
    cell = table.space.from_index(123)
    by_index, by_string, by_cell = (model.mean_curves(a) for a in (123, str(cell), cell))
    np.testing.assert_array_equal(by_index, by_string)
    np.testing.assert_array_equal(by_index, by_cell)
    np.testing.assert_array_equal(by_index, model.mean_curves([7, 123])[1:])


def test_draws_have_the_stated_std_and_correlation(model, table):
    mean, std = model.mean_curves(table.indices), model.noise_std(table.indices)
    inside = ((mean - 4 * std > 0) & (mean + 4 * std < 100)).all(axis=1)  # where clipping plays no part
    archs = table.indices[inside][[0, 100, 1000]].tolist()
    mean, std = model.mean_curves(archs), model.noise_std(archs)
    rng = np.random.default_rng(0)
    draws = np.stack([model.sample_curves(archs, rng) for _ in range(4000)])  # (draws, archs, epochs)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=4 * std.max() / np.sqrt(4000) * 1.5)
    np.testing.assert_allclose(draws.std(axis=0), std, rtol=0.06)
    empirical = np.corrcoef(((draws - mean) / std)[:, 0, :].T)
    np.testing.assert_allclose(empirical, model.noise.correlation, atol=0.06)
    assert model.noise.correlation[-1, -2] > 0.3  # late epochs move together


def test_same_rng_same_draws(model):
    a = model.sample_curves([1, 2, 3], np.random.default_rng(9))
    b = model.sample_curves([1, 2, 3], np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)


def test_same_seed_gives_bit_identical_files(model, table, split, saved, tmp_path):
    again = save(SurrogateModel.fit(table, split[0][::-1], seed=0, **FAST), tmp_path / "again",
                 sampling={"method": "uniform", "fraction": 300 / 15625, "seed": 0})
    for name in ("manifest.json", "model.npz", "train.npz"):
        assert (saved / name).read_bytes() == (again / name).read_bytes(), name


def test_manifest_records_provenance(saved, table):
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["format"] == "nasbench.surrogate/1"
    assert manifest["space"] == "nb201" and manifest["encoding"] == "onehot"
    assert manifest["table"]["name"] == "nb201-digits" and manifest["table"]["sha256"] == table.sha256
    assert manifest["train"]["count"] == 300 and manifest["train"]["sampling"]["seed"] == 0
    assert manifest["hyperparameters"]["n_models"] == 2
    assert {"numpy", "scikit-learn"} <= set(manifest["versions"])
    assert {f["path"] for f in manifest["files"]} == {"model.npz", "train.npz"}


def test_round_trip_gives_identical_predictions(model, saved):
    loaded = load(saved)
    archs = [0, 77, 15624]
    for name in ("mean_curves", "cumulative_seconds", "noise_std", "test_accuracy"):
        np.testing.assert_array_equal(getattr(loaded, name)(archs), getattr(model, name)(archs))
    np.testing.assert_array_equal(loaded.sample_curves(archs, np.random.default_rng(3)),
                                  model.sample_curves(archs, np.random.default_rng(3)))
    np.testing.assert_array_equal(loaded.train_indices, model.train_indices)


def test_a_corrupted_file_fails_verify_naming_it(saved, tmp_path):
    import shutil

    copy = Path(shutil.copytree(saved, tmp_path / "copy"))
    assert verify(copy)["format"] == "nasbench.surrogate/1"
    good = (copy / "model.npz").read_bytes()
    data = bytearray(good)
    data[len(data) // 2] ^= 0xFF
    (copy / "model.npz").write_bytes(bytes(data))
    with pytest.raises(SurrogateError, match="model.npz"):
        verify(copy)
    with pytest.raises(NasbenchError, match="model.npz"):
        load(copy)
    (copy / "model.npz").write_bytes(good)
    (copy / "train.npz").unlink()
    with pytest.raises(SurrogateError, match="train.npz"):
        verify(copy)


def test_existing_folder_is_not_overwritten_unless_asked(model, saved):
    with pytest.raises(SurrogateError, match="exists"):
        save(model, saved)


def test_load_in_a_fresh_process_imports_numpy_only(saved):
    code = ("import sys; from predictors.surrogate import load; m = load(sys.argv[1]); m.sample_curves([5], "
            "__import__('numpy').random.default_rng(0)); heavy = {'sklearn', 'scipy', 'torch', 'xgboost', "
            "'pandas', 'pyarrow'}; print(sorted({k.split('.')[0] for k in sys.modules} & heavy))")
    out = subprocess.run([sys.executable, "-c", code, str(saved)], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_bad_inputs_name_the_field(table, split):
    with pytest.raises(InvalidParameterError, match="encoding"):
        SurrogateModel.fit(table, split[0], encoding="nope")
    with pytest.raises(InvalidParameterError, match="seed"):
        SurrogateModel.fit(table, split[0], seed=-1)
    with pytest.raises(InvalidParameterError, match="hyper"):
        SurrogateModel.fit(table, split[0], n_layers=3)
    with pytest.raises(InvalidParameterError, match="train_indices"):
        SurrogateModel.fit(table, [1, 2, 3])
    with pytest.raises(InvalidParameterError, match="train_fraction"):
        split_indices(table, 1.5, 0)


def test_hat_basis_interpolates():
    knots = np.array([0.0, 10.0, 20.0])
    basis = hat_basis(np.array([-5.0, 0.0, 5.0, 20.0, 30.0]), knots)
    np.testing.assert_allclose(basis.sum(axis=1), 1.0)
    np.testing.assert_allclose(basis @ knots, [0.0, 0.0, 5.0, 20.0, 20.0])


def test_a_space_without_enumeration_uses_the_per_architecture_memo(model):
    from predictors.surrogate.memo import PredictionMemo

    calls = []

    def predict(archs):
        calls.append(list(archs))
        return model.mean_net.predict(model.space.encode(archs, model.encoding))

    class Unsized:  # the space's conversions without its size
        def __init__(self, space):
            self.space, self.size = space, None

        def __getattr__(self, name):
            return getattr(self.space, name)

    memo = PredictionMemo(Unsized(model.space), predict)
    first = memo.rows([3, 4, 3])
    again = memo.rows(4)
    assert calls == [[str(model.space.from_index(3)), str(model.space.from_index(4))]]
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(first[0], first[2])
