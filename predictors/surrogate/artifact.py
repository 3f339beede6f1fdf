"""A fitted surrogate on disk: a folder with ``manifest.json`` and numpy weight files,
no pickle anywhere, every file checksummed.

``model.npz`` holds the mean model's MLP weights and scalers (``mean_*``) and the noise
model (``noise_*``); ``train.npz`` the table indices it was fitted on; ``latency.npz`` (when
the table has latency columns) one array per device, by index, for latency-aware runs. The .npz files are
written with fixed zip timestamps and sorted members, so the same table, indices and seed
give bit-identical files. ``save`` writes into a temporary folder beside the target and
renames it into place; ``load`` checks every file's sha256 before reading (numpy only,
``allow_pickle=False``).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import sha256_file
from nasbench.errors import NasbenchError
from predictors.surrogate.mlp import MLPWeights
from predictors.surrogate.model import SurrogateModel
from predictors.surrogate.noise import NoiseModel

FORMAT = "nasbench.surrogate/1"
MODEL_FILE, TRAIN_FILE, MANIFEST = "model.npz", "train.npz", "manifest.json"
LATENCY_FILE = "latency.npz"  # optional: the source table's latency columns, by index (enumerable spaces)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: no wall-clock time in the files


class SurrogateError(NasbenchError):
    """A surrogate artifact is missing, of an unknown format, or fails its checksums."""


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An uncompressed .npz (np.load reads it) with fixed timestamps, members sorted by name."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asarray(arrays[name], order="C"), allow_pickle=False)


def indices_sha256(indices: np.ndarray) -> str:
    """sha256 of the indices as little-endian int64 bytes (what the manifest cites)."""
    return hashlib.sha256(np.asarray(indices, dtype="<i8").tobytes()).hexdigest()


def save(model: SurrogateModel, folder: str | os.PathLike[str], *, sampling: dict[str, Any] | None = None,
         metrics: dict[str, Any] | None = None, latency: dict[str, np.ndarray] | None = None,
         overwrite: bool = False) -> Path:
    """Write ``model`` to ``folder`` (atomically: a temporary folder renamed into place).

    ``sampling`` records how the training architectures were chosen (e.g. ``{"method":
    "uniform", "fraction": 0.05, "seed": 0}``), ``metrics`` held-out quality; both go into
    the manifest; ``latency`` (device -> ms by index) is stored for latency-aware runs. An
    existing ``folder`` is replaced only with ``overwrite``.
    """
    import shutil
    import tempfile

    from nasbench.versions import package_versions

    target = Path(folder)
    if target.exists() and not overwrite:
        raise SurrogateError(f"folder: {str(target)!r} exists (pass overwrite=True to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        write_npz(tmp / MODEL_FILE, {**model.mean_net.to_arrays("mean_"), **model.noise.to_arrays()})
        write_npz(tmp / TRAIN_FILE, {"train_indices": model.train_indices})
        files = [MODEL_FILE, TRAIN_FILE]
        if latency:
            write_npz(tmp / LATENCY_FILE, {device: np.asarray(ms, dtype=np.float64) for device, ms in latency.items()})
            files.append(LATENCY_FILE)
        manifest = {
            "format": FORMAT,
            **{k: model.info[k] for k in ("space", "encoding", "epochs", "seed", "table")},
            "train": {"count": len(model.train_indices), "indices_sha256": indices_sha256(model.train_indices),
                      "file": TRAIN_FILE, "sampling": sampling},
            "hyperparameters": model.info["hyperparameters"],
            "versions": package_versions("scikit-learn", "scipy"),
            "metrics": metrics,
            "latency_devices": sorted(latency or {}),
            "best_test": best_test(model),
            "files": [{"path": name, "sha256": sha256_file(tmp / name)} for name in files],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        for name in (*files, MANIFEST):
            with open(tmp / name, "rb") as handle:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o755)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def best_test(model: SurrogateModel) -> float | None:
    """The best predicted test accuracy over the whole space (None where it is not
    enumerable: regret then needs another reference, and the manifest says there is none)."""
    size = model.space.size
    return None if size is None else float(np.nanmax(model.test_accuracy(np.arange(size))))


def load_latency(folder: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """device -> latency (ms) by index, from ``latency.npz`` (empty when the artifact has none).
    Call after :func:`load` or :func:`verify`, which check its sha256."""
    path = Path(folder) / LATENCY_FILE
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise SurrogateError(f"{path}: unreadable latency columns ({error!r})") from None


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The artifact's manifest (format checked); raises SurrogateError naming what is wrong."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SurrogateError(f"{path}: no surrogate manifest here") from None
    except (OSError, ValueError) as error:
        raise SurrogateError(f"{path}: unreadable manifest ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else manifest
        raise SurrogateError(f"{path}: format is {got!r}, this nasbench reads {FORMAT!r}")
    return manifest


def verify(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Recompute every listed file's sha256 (and the train indices'); returns the manifest,
    raises SurrogateError naming the first file that is missing or differs."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    files = manifest.get("files")
    listed = {entry.get("path") for entry in files} if isinstance(files, list) else set()
    if not {MODEL_FILE, TRAIN_FILE} <= listed:
        raise SurrogateError(f"{folder / MANIFEST}: files must list {MODEL_FILE} and {TRAIN_FILE}, got {sorted(listed)}")
    for entry in files:
        path = folder / entry["path"]
        if not path.is_file():
            raise SurrogateError(f"{path}: file listed in the manifest is missing")
        if sha256_file(path) != entry.get("sha256"):
            raise SurrogateError(f"{path}: sha256 differs from the manifest's (the file is corrupt or was changed)")
    return manifest


def load(folder: str | os.PathLike[str]) -> SurrogateModel:
    """The surrogate in ``folder`` (checksums verified; numpy and nasbench.spaces only)."""
    from nasbench.spaces import get_space

    folder = Path(folder)
    manifest = verify(folder)
    try:
        with np.load(folder / MODEL_FILE, allow_pickle=False) as weights:
            arrays = {name: weights[name] for name in weights.files}
        with np.load(folder / TRAIN_FILE, allow_pickle=False) as train:
            indices = train["train_indices"]
        mean_net = MLPWeights.from_arrays(arrays, "mean_")
        noise = NoiseModel.from_arrays(arrays)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise SurrogateError(f"{folder / MODEL_FILE}: unreadable weights ({error!r})") from None
    if indices_sha256(indices) != manifest["train"]["indices_sha256"]:
        raise SurrogateError(f"{folder / TRAIN_FILE}: train indices differ from the manifest's indices_sha256")
    info = {k: manifest[k] for k in ("space", "encoding", "epochs", "seed", "table", "hyperparameters")}
    return SurrogateModel(get_space(manifest["space"]), manifest["encoding"], manifest["epochs"], mean_net, noise,
                          info, indices)
