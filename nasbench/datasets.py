"""Offline datasets with fixed, seeded train/valid/test splits; nothing is ever downloaded.

Registered datasets (``load_dataset(name, split_seed=...)``):

- ``mnist1d``: the canonical MNIST-1D (5,000 signals of length 40, 10 classes) generated
  offline by ``mnist1d.data.make_dataset`` with its default arguments (generation seed 42);
  the package's own train/test split is pooled and re-split 60/20/20 (3,000/1,000/1,000)
  by ``split_seed``; x is standardised per feature with train statistics. Shape (1, 40).
- ``mnist1d-hard``: 18,000 MNIST-1D signals generated with harder geometry (shear 2.0
  and scale variation 1.0 instead of 0.75 and 0.4), split 8,000/5,000/5,000 by
  ``split_seed`` (the second generation of tables, chosen by the calibration study in
  ``tables/calibration``).
- ``digits``: scikit-learn's embedded 8x8 digits (1,797 images, 10 classes), scaled to
  [0, 1] then standardised with the train set's scalar mean/std (one channel), pooled
  and split 60/20/20 (1,078/359/360) by ``split_seed``. Shape (1, 8, 8).
- ``cifar10``: read from the standard python pickle batches in ``root`` (never
  downloaded); the 50,000 training images are split 50/50 into train/valid
  (25,000/25,000, as NAS-Bench-201's ``cifar10-valid``) by ``split_seed``; the official
  test batch is the test set. Normalised per channel with NAS-Bench-201's mean/std.
  Shape (3, 32, 32).

Splits come from ``numpy.random.default_rng(split_seed).permutation``; the same name and
``split_seed`` give identical arrays and the same ``checksum`` in every process.
"""

from __future__ import annotations

import dataclasses

import hashlib
import os
import pickle
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.registry import Registry

__all__ = ["Dataset", "DatasetFilesMissingError", "DATASETS", "load_dataset", "default_root", "MNIST1DSpec",
           "make_mnist1d", "MNIST1D_HARD"]

Arrays = tuple[np.ndarray, ...]
Loader = Callable[[int, Path], "Dataset"]
DATASETS: Registry[Loader] = Registry("dataset")

# NAS-Bench-201's CIFAR-10 normalisation (per channel, on [0, 1] pixels).
CIFAR10_MEAN = np.array([125.3, 123.0, 113.9]) / 255.0
CIFAR10_STD = np.array([63.0, 62.1, 66.7]) / 255.0
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"


class DatasetFilesMissingError(NasbenchError, FileNotFoundError):
    """A dataset that must be provided on disk (CIFAR-10) is not where it was looked for."""


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train/valid/test arrays (x float32 channels-first, y int64) plus their provenance."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    input_shape: tuple[int, ...]
    num_classes: int
    split_seed: int

    def arrays(self) -> dict[str, np.ndarray]:
        """The six arrays by field name, in a fixed order."""
        fields = ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test")
        return {f: getattr(self, f) for f in fields}

    def head(self, n_train: int, n_eval: int | None = None) -> Dataset:
        """The first ``n_train`` training and ``n_eval`` valid/test examples (for quick runs)."""
        n_eval = n_train if n_eval is None else n_eval
        return dataclasses.replace(
            self, x_train=self.x_train[:n_train], y_train=self.y_train[:n_train],
            x_valid=self.x_valid[:n_eval], y_valid=self.y_valid[:n_eval],
            x_test=self.x_test[:n_eval], y_test=self.y_test[:n_eval],
        )

    @cached_property
    def checksum(self) -> str:
        """sha256 hex over the six arrays' names, dtypes, shapes and bytes (for manifests)."""
        digest = hashlib.sha256()
        for field, array in self.arrays().items():
            array = np.ascontiguousarray(array)
            digest.update(f"{field}:{array.dtype.str}:{array.shape};".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()

    def __repr__(self) -> str:
        sizes = f"{len(self.y_train)}/{len(self.y_valid)}/{len(self.y_test)}"
        return (
            f"Dataset(name={self.name!r}, train/valid/test={sizes}, "
            f"input_shape={self.input_shape}, num_classes={self.num_classes}, "
            f"split_seed={self.split_seed})"
        )


def default_root() -> Path:
    """Where on-disk datasets are looked for: $NASBENCH_DATA, else ~/.cache/nasbench."""
    env = os.environ.get("NASBENCH_DATA")
    return Path(env) if env else Path.home() / ".cache" / "nasbench"


def load_dataset(name: str, *, split_seed: int = 0, root: str | Path | None = None) -> Dataset:
    """Load a registered dataset with its deterministic ``split_seed`` split (no network)."""
    loader = DATASETS.get(name)  # UnknownNameError listing the known names
    if isinstance(split_seed, bool) or not isinstance(split_seed, (int, np.integer)) or split_seed < 0:
        raise ValueError(f"split_seed must be a non-negative integer, got {split_seed!r}")
    return loader(int(split_seed), Path(root) if root is not None else default_root())


def _split(n: int, split_seed: int, fractions: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """Disjoint, covering index arrays (train, valid, rest) from a seeded permutation."""
    perm = np.random.default_rng(split_seed).permutation(n)
    n_train, n_valid = int(n * fractions[0]), int(n * fractions[1])
    return perm[:n_train], perm[n_train : n_train + n_valid], perm[n_train + n_valid :]


def _make(name: str, x: np.ndarray, y: np.ndarray, parts: tuple[np.ndarray, ...],
          num_classes: int, split_seed: int,
          transform: Callable[[np.ndarray], np.ndarray] | None = None) -> Dataset:
    """Assemble a Dataset from pooled arrays, (train, valid, test) indices and a transform."""
    xs = [x[p] if transform is None else transform(x[p]) for p in parts]
    xs = [np.ascontiguousarray(a, dtype=np.float32) for a in xs]
    ys = [np.ascontiguousarray(y[p], dtype=np.int64) for p in parts]
    return Dataset(name, xs[0], ys[0], xs[1], ys[1], xs[2], ys[2],
                   tuple(int(s) for s in x.shape[1:]), num_classes, split_seed)


@dataclass(frozen=True)
class MNIST1DSpec:
    """A procedural MNIST-1D variant: how many signals, how hard, and how they are split.

    The generation fields are ``mnist1d.data.get_dataset_args()``'s (its defaults give the
    canonical 5,000-signal dataset); larger noise, shear and scale make the task harder at
    no cost. ``valid`` and ``test`` are example counts (the rest trains); ``None`` keeps the
    60/20/20 split of the canonical ``mnist1d``.
    """

    num_samples: int = 5000
    valid: int | None = None
    test: int | None = None
    corr_noise_scale: float = 0.25
    iid_noise_scale: float = 0.02
    shear_scale: float = 0.75
    scale_coeff: float = 0.4
    max_translation: int = 48
    seed: int = 42  # mnist1d's generation seed

    def __post_init__(self) -> None:
        for name in ("num_samples", "max_translation", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"MNIST1DSpec.{name} must be a non-negative integer, got {value!r}")
        for name in ("corr_noise_scale", "iid_noise_scale", "shear_scale", "scale_coeff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10:
                raise ValueError(f"MNIST1DSpec.{name} must be a number in [0, 10), got {value!r}")
        if (self.valid is None) != (self.test is None):
            raise ValueError("MNIST1DSpec.valid and .test must both be counts or both None")
        if self.valid is not None:
            for name in ("valid", "test"):
                value = getattr(self, name)
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"MNIST1DSpec.{name} must be a positive integer, got {value!r}")
            if self.valid + self.test >= self.num_samples - 10:
                raise ValueError(f"MNIST1DSpec: valid + test = {self.valid + self.test} leaves no training "
                                 f"examples out of num_samples={self.num_samples}")


@lru_cache(maxsize=2)
def _mnist1d_raw(spec: MNIST1DSpec = MNIST1DSpec()) -> tuple[np.ndarray, np.ndarray]:
    """All signals of an MNIST-1D variant, generated offline (cached; ~1 s per 2,000)."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    for name in ("num_samples", "corr_noise_scale", "iid_noise_scale", "shear_scale", "scale_coeff",
                 "max_translation", "seed"):
        setattr(args, name, getattr(spec, name))
    # make_dataset seeds the global `random` and `np.random` states; put them back after.
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    x = np.concatenate([data["x"], data["x_test"]]).astype(np.float64)
    y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def make_mnist1d(spec: MNIST1DSpec, split_seed: int = 0, name: str = "mnist1d") -> Dataset:
    """An MNIST-1D variant, pooled and split by ``split_seed``, standardised per feature on train."""
    x, y = _mnist1d_raw(spec)
    if spec.valid is None:
        parts = _split(len(y), split_seed, (0.6, 0.2))
    else:
        perm = np.random.default_rng(split_seed).permutation(len(y))
        n_train = len(y) - spec.valid - spec.test
        parts = (perm[:n_train], perm[n_train:n_train + spec.valid], perm[n_train + spec.valid:])
    mean = x[parts[0]].mean(axis=0)
    std = np.maximum(x[parts[0]].std(axis=0), 1e-8)
    return _make(name, ((x - mean) / std)[:, None, :], y, parts, 10, split_seed)


@DATASETS.register("mnist1d")
def _load_mnist1d(split_seed: int, root: Path) -> Dataset:
    """MNIST-1D, pooled and split 60/20/20, standardised per feature on train."""
    return make_mnist1d(MNIST1DSpec(), split_seed)


# The second-generation MNIST-1D of issue 9's calibration study (tables/calibration): 18,000
# signals with 2.7x the shear and 2.5x the scale variation, so that the top of the space does
# not saturate, and 5,000 validation and 5,000 test signals, so that evaluation noise is small.
MNIST1D_HARD = MNIST1DSpec(num_samples=18000, valid=5000, test=5000, shear_scale=2.0, scale_coeff=1.0)


@DATASETS.register("mnist1d-hard")
def _load_mnist1d_hard(split_seed: int, root: Path) -> Dataset:
    """MNIST-1D with harder geometry, split 8,000/5,000/5,000, standardised on train."""
    return make_mnist1d(MNIST1D_HARD, split_seed, name="mnist1d-hard")


@DATASETS.register("digits")
def _load_digits(split_seed: int, root: Path) -> Dataset:
    """scikit-learn 8x8 digits in [0, 1], split 60/20/20, standardised on train (scalar)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.images, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    parts = _split(len(y), split_seed, (0.6, 0.2))
    mean, std = x[parts[0]].mean(), x[parts[0]].std()
    return _make("digits", ((x - mean) / std)[:, None, :, :], y, parts, 10, split_seed)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only plain containers, bytes and numpy arrays (CIFAR batches), nothing else."""

    _ALLOWED = {
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} in a CIFAR batch")
        return super().find_class(module, name)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(x uint8 (N, 3, 32, 32), y int64 (N,)) from one python-format CIFAR-10 batch file."""
    with open(path, "rb") as handle:
        batch = _ArrayUnpickler(handle, encoding="bytes").load()
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(f"{path}: b'data' has shape {data.shape} for {len(labels)} labels, "
                         "expected (N, 3072) uint8")
    return data.reshape(-1, 3, 32, 32), labels


def _cifar10_dir(root: Path) -> Path:
    """The folder under ``root`` holding all CIFAR-10 batches, or a clear error."""
    needed = (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)
    candidates = (root, root / "cifar-10-batches-py")
    for folder in candidates:
        if all((folder / f).is_file() for f in needed):
            return folder
    raise DatasetFilesMissingError(
        f"CIFAR-10 not found: expected data_batch_1..5 and test_batch in {candidates[0]} or "
        f"{candidates[1]}; CIFAR-10 is never downloaded, get the python version from "
        "https://www.cs.toronto.edu/~kriz/cifar.html and pass root="
    )


@DATASETS.register("cifar10")
def _load_cifar10(split_seed: int, root: Path) -> Dataset:
    """CIFAR-10 from pickle batches: train split 50/50 into train/valid, official test."""
    folder = _cifar10_dir(root)
    train = [_read_cifar_batch(folder / f) for f in CIFAR10_TRAIN_FILES]
    x_test, y_test = _read_cifar_batch(folder / CIFAR10_TEST_FILE)
    n_train = sum(len(y) for _, y in train)
    x = np.concatenate([xb for xb, _ in train] + [x_test])  # uint8, normalised per split
    y = np.concatenate([yb for _, yb in train] + [y_test])
    perm = np.random.default_rng(split_seed).permutation(n_train)
    half = n_train // 2
    parts = (perm[:half], perm[half:], np.arange(n_train, len(y)))
    mean = CIFAR10_MEAN[None, :, None, None].astype(np.float32)
    std = CIFAR10_STD[None, :, None, None].astype(np.float32)

    def normalise(batch: np.ndarray) -> np.ndarray:
        return (batch.astype(np.float32) / np.float32(255.0) - mean) / std

    return _make("cifar10", x, y, parts, 10, split_seed, normalise)
