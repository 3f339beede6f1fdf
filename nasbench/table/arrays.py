"""A table's columns as numpy arrays, decoded from Parquet once and then kept in a load cache.

Decoding Parquet needs pyarrow (~0.2 s to import) and list-column flattening; a fresh
process that only queries a table should pay neither. So the first load of a table writes
its decoded columns to ``<cache>/<table>-<key>/`` (one flat file of arrays and a JSON
index) and later loads memory-map them with numpy alone. The key hashes the manifest file
(with every data file's checksum), the schema version and this module's format, so a
changed table never meets a stale cache; the data files are still hashed against the
manifest on every verified load. The cache folder is ``$NASBENCH_CACHE`` (``off`` disables
it), else ``$XDG_CACHE_HOME/nasbench``, else ``~/.cache/nasbench``; it can be deleted at
any time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.errors import TableError
from nasbench.table.columns import CURVE_COLUMNS, SCHEMA_VERSION
from nasbench.table.manifest import MANIFEST_NAME

if TYPE_CHECKING:
    import pyarrow as pa

    from nasbench.table.manifest import Manifest

CACHE_ENV = "NASBENCH_CACHE"
CACHE_FORMAT = 2  # bump when RowArrays or its encoding changes
DATA_FILE, INDEX_FILE, ALIGN = "arrays.bin", "index.json", 64
SCALAR_SKIP = ("arch_index", "arch_str", "arch_hash", "seed", "train_device", *CURVE_COLUMNS)


@dataclass(frozen=True)
class RowArrays:
    """The numeric columns of every row, plus each architecture's hash (from its first row)."""

    arch: np.ndarray  # (rows,) int64 arch_index
    seed: np.ndarray  # (rows,) int64 training seed
    curves: dict[str, np.ndarray]  # name -> (rows, epochs) float32
    scalars: dict[str, np.ndarray]  # params, flops, trained_as, latency_* -> (rows,)
    hash_arch: np.ndarray  # (k,) int64 architectures with a hash, ascending
    hash_value: np.ndarray  # (k,) bytes (S) their canonical hashes

    @property
    def rows(self) -> int:
        return len(self.arch)


def from_arrow(data: pa.Table, epochs: int, where: str) -> RowArrays:
    """Decode a loaded Arrow table; raises TableError if a curve is not ``epochs`` long."""
    import pyarrow.compute as pc

    curves = {}
    for name in CURVE_COLUMNS:
        column = data[name].combine_chunks()
        if pc.any(pc.not_equal(pc.list_value_length(column), epochs)).as_py():
            raise TableError(f"{where}: column {name!r} has curves whose length is not {epochs}")
        flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        curves[name] = flat.reshape(len(column), epochs)
    scalars = {name: data[name].to_numpy(zero_copy_only=False) for name in data.column_names if name not in SCALAR_SKIP}
    arch = data["arch_index"].to_numpy().astype(np.int64)
    first, positions = np.unique(arch, return_index=True)
    hashes = data["arch_hash"].to_numpy(zero_copy_only=False)[positions]
    return RowArrays(arch, data["seed"].to_numpy().astype(np.int64), curves, scalars,
                     first.astype(np.int64), np.asarray(hashes, dtype=np.bytes_))


def cache_dir() -> Path | None:
    """Where decoded tables are cached, or None when ``$NASBENCH_CACHE`` is ``off``."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "0", "off", "none", "false") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nasbench"


def cache_path(manifest: Manifest, folder: Path) -> Path | None:
    """The cache folder of the table in ``folder`` as its manifest is now (None when caching
    is off): keyed by the manifest file's bytes, which carry every data file's checksum."""
    root = cache_dir()
    if root is None:
        return None
    key = hashlib.sha256(json.dumps([CACHE_FORMAT, SCHEMA_VERSION]).encode())
    key.update((Path(folder) / MANIFEST_NAME).read_bytes())
    return root / f"{manifest.name}-{key.hexdigest()[:24]}"


def _arrays(rows: RowArrays) -> dict[str, np.ndarray]:
    arrays = {"arch": rows.arch, "seed": rows.seed, "hash_arch": rows.hash_arch, "hash_value": rows.hash_value}
    arrays |= {f"curve.{k}": v for k, v in rows.curves.items()}
    arrays |= {f"scalar.{k}": v for k, v in rows.scalars.items()}
    return {name: np.ascontiguousarray(values) for name, values in arrays.items()}


def save(rows: RowArrays, path: Path) -> bool:
    """Write the cache folder atomically (into a temporary folder, then renamed into place):
    every array back to back in ``arrays.bin``, 64-byte aligned, and ``index.json`` with each
    one's dtype, shape and offset. False (nothing left behind) if it cannot be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.mkdir(parents=True, exist_ok=False)
        index, offset = {}, 0
        with open(tmp / DATA_FILE, "wb") as out:
            for name, values in _arrays(rows).items():
                out.write(b"\0" * (-offset % ALIGN))
                offset += -offset % ALIGN
                index[name] = [values.dtype.str, list(values.shape), offset]
                out.write(values.tobytes())
                offset += values.nbytes
        (tmp / INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")
        if path.exists():  # a broken cache (load() returned None): replace it
            shutil.rmtree(path, ignore_errors=True)
        os.rename(tmp, path)  # atomic; fails if another process cached the same table first
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return path.is_dir()
    return True


def load(path: Path) -> RowArrays | None:
    """Memory-map a cache folder (pages are read when touched) as read-only arrays; None if it
    is missing or unreadable (the caller then decodes the Parquet files)."""
    try:
        index = json.loads((path / INDEX_FILE).read_text(encoding="utf-8"))
        buffer = np.memmap(path / DATA_FILE, dtype=np.uint8, mode="r")
        arrays: dict[str, Any] = {}
        for name, (dtype, shape, offset) in index.items():
            count = int(np.prod(shape, dtype=np.int64))
            arrays[name] = np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=offset).reshape(shape)
        return RowArrays(
            arrays.pop("arch"), arrays.pop("seed"),
            {k.removeprefix("curve."): v for k, v in arrays.items() if k.startswith("curve.")},
            {k.removeprefix("scalar."): v for k, v in arrays.items() if k.startswith("scalar.")},
            arrays.pop("hash_arch"), arrays.pop("hash_value"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
