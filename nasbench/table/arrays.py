"""A table's columns as numpy arrays, decoded from Parquet once and then kept in a load cache.

Decoding Parquet needs pyarrow (~0.2 s to import) and list-column flattening; a fresh
process that only queries a table should pay neither. So the first load of a table writes
its decoded columns to ``<cache>/<table>-<key>/`` (one flat file of arrays and a JSON
index) and later loads memory-map them with numpy alone. The key hashes the manifest file
(with every data file's checksum), the schema version and this module's format, so a
changed table never meets a stale cache. Every verified load checks each data file against
the manifest's sha256; as git's index does, a file whose size, inode, mtime and ctime are
those recorded in ``verified.json`` when it last hashed right is not hashed again (ctime
cannot be set from user space, so any write to the file changes it). A cache is written only after its rows passed the load
checks, with the layout facts they established, so that a cached load can skip them.

A cached load needs no numpy at all until an array is asked for: :class:`CachedColumns`
maps the file with the standard library and hands out typed memoryviews (what one
architecture's record needs in a fresh process), and numpy views of the same pages. The cache folder is ``$NASBENCH_CACHE`` (``off`` disables
it), else ``$XDG_CACHE_HOME/nasbench``, else ``~/.cache/nasbench``; it can be deleted at
any time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mmap
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import TableError
from nasbench.table.columns import CURVE_COLUMNS, SCHEMA_VERSION
from nasbench.table.manifest import MANIFEST_NAME

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from nasbench.table.manifest import Manifest

CACHE_ENV = "NASBENCH_CACHE"
CACHE_FORMAT = 4  # bump when RowArrays, its encoding or the load checks change
DATA_FILE, INDEX_FILE, STAMPS_FILE, ALIGN = "arrays.bin", "index.json", "verified.json", 64
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
    import numpy as np
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
    import numpy as np

    arrays = {"arch": rows.arch, "seed": rows.seed, "hash_arch": rows.hash_arch, "hash_value": rows.hash_value}
    arrays |= {f"curve.{k}": v for k, v in rows.curves.items()}
    arrays |= {f"scalar.{k}": v for k, v in rows.scalars.items()}
    return {name: np.ascontiguousarray(values) for name, values in arrays.items()}


def save(rows: RowArrays, path: Path, layout: dict[str, Any]) -> bool:
    """Write the cache folder atomically (into a temporary folder, then renamed into place):
    every array back to back in ``arrays.bin``, 64-byte aligned, and ``index.json`` with each
    one's dtype, shape and offset, and the ``layout`` facts the load checks established.
    False (nothing left behind) if it cannot be written."""
    import shutil

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
        (tmp / INDEX_FILE).write_text(json.dumps({"arrays": index, "layout": layout}), encoding="utf-8")
        if path.exists():  # a broken cache (load() returned None): replace it
            shutil.rmtree(path, ignore_errors=True)
        os.rename(tmp, path)  # atomic; fails if another process cached the same table first
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return path.is_dir()
    return True


# numpy dtype -> memoryview format, for the native little-endian layouts the cache writes
_FORMATS = {"<f4": "f", "<f8": "d", "<i8": "q", "<i4": "i", "|b1": "?"} if sys.byteorder == "little" else {}


class CachedColumns:
    """A cache folder memory-mapped with the standard library (pages are read when touched)."""

    def __init__(self, buffer: mmap.mmap, index: dict[str, list[Any]], layout: dict[str, Any]) -> None:
        self._buffer = buffer
        self._index = index
        self.layout = layout  # facts the load checks established, e.g. {"seed_major": True}
        self._views: dict[str, memoryview | None] = {}

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._index[name][1])

    def itemsize(self, name: str) -> int:
        return int(self._index[name][0][2:])

    def view(self, name: str) -> memoryview | None:
        """A flat read-only typed memoryview of one array (bytes for strings); None when its
        dtype has no memoryview format here (a caller then uses :meth:`rows`)."""
        if name not in self._views:
            self._views[name] = self._typed_view(name)
        return self._views[name]

    def _typed_view(self, name: str) -> memoryview | None:
        dtype, shape, offset = self._index[name]
        if dtype.startswith("|S"):
            fmt, width = "B", int(dtype[2:])
        elif dtype in _FORMATS:
            fmt, width = _FORMATS[dtype], int(dtype[2:])
        else:
            return None
        count = width
        for extent in shape:
            count *= extent
        return memoryview(self._buffer)[offset : offset + count].cast(fmt)

    @functools.cached_property
    def rows(self) -> RowArrays:
        """The same pages as numpy arrays (imports numpy)."""
        import numpy as np

        arrays: dict[str, Any] = {}
        for name, (dtype, shape, offset) in self._index.items():
            count = int(np.prod(shape, dtype=np.int64))
            arrays[name] = np.frombuffer(self._buffer, dtype=np.dtype(dtype), count=count, offset=offset).reshape(shape)
        return RowArrays(
            arrays.pop("arch"), arrays.pop("seed"),
            {k.removeprefix("curve."): v for k, v in arrays.items() if k.startswith("curve.")},
            {k.removeprefix("scalar."): v for k, v in arrays.items() if k.startswith("scalar.")},
            arrays.pop("hash_arch"), arrays.pop("hash_value"),
        )


def load(path: Path) -> CachedColumns | None:
    """Memory-map a cache folder; None if it is missing, unreadable or of another format
    (the caller then decodes the Parquet files and writes it again)."""
    try:
        meta = json.loads((path / INDEX_FILE).read_text(encoding="utf-8"))
        index, layout = meta["arrays"], meta["layout"]
        with open(path / DATA_FILE, "rb") as file:
            buffer = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        end = max(offset + _nbytes(dtype, shape) for dtype, shape, offset in index.values())
        if end > len(buffer) or not {"arch", "seed", "hash_arch", "hash_value"} <= index.keys():
            return None
        return CachedColumns(buffer, index, layout)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _nbytes(dtype: str, shape: list[int]) -> int:
    count = int(dtype[2:])
    for extent in shape:
        count *= extent
    return count


def file_stamp(path: Path) -> list[int] | None:
    """What identifies one version of a file without reading it (None if it is not a file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns] if stat.S_ISREG(st.st_mode) else None


def read_stamps(path: Path | None) -> dict[str, list[int]]:
    """The stamps of the data files that hashed to the manifest's sha256 (empty if none)."""
    try:
        stamps = json.loads((path / STAMPS_FILE).read_text(encoding="utf-8")) if path is not None else {}
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def write_stamps(path: Path, stamps: dict[str, list[int]]) -> None:
    """Record verified stamps in an existing cache folder (atomically; silently skipped if read-only)."""
    from nasbench.atomic import atomic_write_text

    try:
        if path.is_dir():
            atomic_write_text(path / STAMPS_FILE, json.dumps(stamps))
    except OSError:
        pass
