"""Tests for the offline datasets: shapes, dtypes, deterministic seeded splits, checksums,
CIFAR-10 read from a tiny fake batch folder, and clear errors."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasbench import datasets
from nasbench.datasets import DATASETS, Dataset, DatasetFilesMissingError, load_dataset
from nasbench.errors import NasbenchError

ROOT = Path(__file__).resolve().parents[1]


def all_x(ds: Dataset) -> np.ndarray:
    return np.concatenate([ds.x_train, ds.x_valid, ds.x_test])


@pytest.mark.parametrize(
    ("name", "shape", "sizes"),
    [("mnist1d", (1, 40), (3000, 1000, 1000)), ("digits", (1, 8, 8), (1078, 359, 360))],
)
def test_shapes_dtypes_and_classes(name: str, shape: tuple[int, ...], sizes: tuple[int, ...]) -> None:
    ds = load_dataset(name)
    assert ds.name == name and ds.input_shape == shape and ds.num_classes == 10 and ds.split_seed == 0
    for x, y, n in zip((ds.x_train, ds.x_valid, ds.x_test), (ds.y_train, ds.y_valid, ds.y_test), sizes):
        assert x.shape == (n, *shape) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert x.flags.c_contiguous and np.isfinite(x).all()
    assert set(np.unique(ds.y_train)) == set(range(10))
    assert abs(float(ds.x_train.mean())) < 1e-3 and abs(float(ds.x_train.std()) - 1.0) < 1e-3
    assert name in repr(ds)


@pytest.mark.parametrize("name", ["mnist1d", "digits"])
def test_deterministic_and_seed_dependent(name: str) -> None:
    first, second = load_dataset(name, split_seed=3), load_dataset(name, split_seed=3)
    assert first.checksum == second.checksum and len(first.checksum) == 64
    assert np.array_equal(first.x_train, second.x_train) and np.array_equal(first.y_test, second.y_test)
    assert load_dataset(name, split_seed=4).checksum != first.checksum


@pytest.mark.parametrize("name", ["mnist1d", "digits"])
def test_splits_are_disjoint_and_cover_everything(name: str) -> None:
    ds = load_dataset(name, split_seed=1)
    if name == "mnist1d":
        pool_y = datasets._mnist1d_raw()[1]
    else:
        from sklearn.datasets import load_digits

        pool_y = load_digits().target
    x = all_x(ds).reshape(len(pool_y), -1)
    assert len({row.tobytes() for row in x}) == len(pool_y)  # every example once, none twice
    y = np.concatenate([ds.y_train, ds.y_valid, ds.y_test])
    assert np.array_equal(np.bincount(y), np.bincount(pool_y))


@pytest.mark.parametrize("n", [1, 7, 1797, 5000])
def test_split_indices_partition(n: int) -> None:
    parts = datasets._split(n, 5, (0.6, 0.2))
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(n))
    assert [len(p) for p in parts[:2]] == [int(n * 0.6), int(n * 0.2)]
    assert all(np.array_equal(p, q) for p, q in zip(parts, datasets._split(n, 5, (0.6, 0.2))))


def test_checksum_is_stable_across_processes() -> None:
    code = (
        "from nasbench.datasets import load_dataset as f; "
        "print(f('digits', split_seed=2).checksum, f('mnist1d', split_seed=2).checksum)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env,
                         capture_output=True, text=True)
    expected = [load_dataset(name, split_seed=2).checksum for name in ("digits", "mnist1d")]
    assert out.stdout.split() == expected


def test_mnist1d_leaves_global_random_state_alone() -> None:
    datasets._mnist1d_raw.cache_clear()
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    load_dataset("mnist1d")
    assert np.random.rand() == expected


def write_fake_cifar(folder: Path, per_batch: int = 4, n_test: int = 6) -> None:
    """Tiny CIFAR-10 batches in the real python format (protocol-2 dicts, bytes keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, name in enumerate(names):
        n = n_test if name == "test_batch" else per_batch
        batch = {
            b"batch_label": f"fake batch {k}".encode(),
            b"labels": [int(v) for v in rng.integers(0, 10, size=n)],
            b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            b"filenames": [f"img_{k}_{i}.png".encode() for i in range(n)],
        }
        with open(folder / name, "wb") as handle:
            pickle.dump(batch, handle, protocol=2)


@pytest.mark.parametrize("subdir", ["", "cifar-10-batches-py"])
def test_cifar10_from_fake_folder(tmp_path: Path, subdir: str) -> None:
    write_fake_cifar(tmp_path / subdir if subdir else tmp_path)
    ds = load_dataset("cifar10", split_seed=0, root=tmp_path)
    assert ds.input_shape == (3, 32, 32) and ds.num_classes == 10
    assert ds.x_train.shape == (10, 3, 32, 32) and ds.x_valid.shape == (10, 3, 32, 32)
    assert ds.x_test.shape == (6, 3, 32, 32) and ds.x_train.dtype == np.float32
    assert ds.y_train.dtype == np.int64
    with open((tmp_path / subdir) / "test_batch", "rb") as handle:
        test = pickle.load(handle, encoding="bytes")
    assert np.array_equal(ds.y_test, test[b"labels"])  # official test batch, in order
    pixel = test[b"data"][0].reshape(3, 32, 32)[:, 0, 0] / 255.0
    expected = (pixel - np.array([125.3, 123.0, 113.9]) / 255) / (np.array([63.0, 62.1, 66.7]) / 255)
    assert np.allclose(ds.x_test[0, :, 0, 0], expected, atol=1e-5)
    train_rows = {r.tobytes() for r in np.concatenate([ds.x_train, ds.x_valid]).reshape(20, -1)}
    assert len(train_rows) == 20  # train/valid partition the 20 training images
    again = load_dataset("cifar10", split_seed=0, root=tmp_path)
    assert again.checksum == ds.checksum
    assert load_dataset("cifar10", split_seed=1, root=tmp_path).checksum != ds.checksum


def test_cifar10_missing_files_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetFilesMissingError, match="never downloaded") as info:
        load_dataset("cifar10", root=tmp_path)
    assert isinstance(info.value, FileNotFoundError) and str(tmp_path) in str(info.value)
    write_fake_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_1..5"):
        load_dataset("cifar10", root=tmp_path)


def test_cifar10_refuses_arbitrary_pickles(tmp_path: Path) -> None:
    write_fake_cifar(tmp_path)
    with open(tmp_path / "test_batch", "wb") as handle:
        pickle.dump({b"data": Path("x"), b"labels": []}, handle, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_dataset("cifar10", root=tmp_path)


def test_unknown_name_and_bad_seed() -> None:
    with pytest.raises(NasbenchError, match=r"unknown dataset 'imagenet'.*digits") as info:
        load_dataset("imagenet")
    assert isinstance(info.value, KeyError) and "\n" not in str(info.value)
    with pytest.raises(ValueError, match="split_seed"):
        load_dataset("digits", split_seed=-1)
    assert DATASETS.names() == ["cifar10", "digits", "mnist1d", "mnist1d-hard"]


def test_mnist1d_variant_sizes_difficulty_and_checksum() -> None:
    from nasbench.datasets import MNIST1DSpec, make_mnist1d

    assert make_mnist1d(MNIST1DSpec()).checksum == load_dataset("mnist1d").checksum  # v1 tables' data
    spec = MNIST1DSpec(num_samples=2000, valid=500, test=400, iid_noise_scale=0.05)
    ds = make_mnist1d(spec, split_seed=1)
    assert (len(ds.y_train), len(ds.y_valid), len(ds.y_test)) == (1100, 500, 400)
    assert make_mnist1d(spec, split_seed=1).checksum == ds.checksum
    easier = make_mnist1d(MNIST1DSpec(num_samples=2000, valid=500, test=400), split_seed=1)
    assert easier.checksum != ds.checksum and np.array_equal(easier.y_train, ds.y_train)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("num_samples", -1, "num_samples must be a non-negative integer"),
    ("iid_noise_scale", float("nan"), "iid_noise_scale must be a number"),
    ("valid", 10, "valid and .test must both be"),
])
def test_mnist1d_spec_names_the_bad_field(field: str, value: object, message: str) -> None:
    from nasbench.datasets import MNIST1DSpec

    with pytest.raises(ValueError, match=message):
        MNIST1DSpec(**{field: value})
