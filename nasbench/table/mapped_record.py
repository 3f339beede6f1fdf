"""One architecture's full record read straight from the memory-mapped load cache.

A fresh process that loads a table and asks for one record (``nasbench query``, a notebook
cell) would otherwise import numpy (~0.1-0.15 s) to read a few hundred bytes. For a
seed-major cache (a complete table: row ``k * size + i`` is architecture ``i`` under the
``k``-th seed) every value sits at a known offset, so typed memoryviews suffice. The result
equals :meth:`Table.record`'s numpy path value for value (tests/test_table_cache.py).
"""

from __future__ import annotations

import math
from typing import Any

from nasbench.table.arrays import CachedColumns
from nasbench.table.columns import CURVE_COLUMNS
from nasbench.table.manifest import Manifest


class MappedRecords:
    """Reads records from one cache; build it with :meth:`of`, which says whether it can."""

    def __init__(self, columns: CachedColumns, manifest: Manifest, size: int) -> None:
        self._curves = [(name, columns.view(f"curve.{name}")) for name in CURVE_COLUMNS]
        self._scalars = [columns.view(f"scalar.{name}") for name in ("trained_as", "params", "flops")]
        self._latency = [(d, columns.view(f"scalar.latency_{d}_ms")) for d in manifest.latency_devices]
        self._hashes, self._width = columns.view("hash_value"), columns.itemsize("hash_value")
        self._epochs, self._seeds, self._size = manifest.epochs, list(manifest.seeds), size

    @classmethod
    def of(cls, columns: CachedColumns, manifest: Manifest, size: int) -> MappedRecords | None:
        """None unless the cache is seed-major, holds every architecture's hash, and every
        column has a memoryview format here (the caller then takes the numpy path)."""
        if not columns.layout.get("seed_major") or columns.shape("hash_arch") != (size,):
            return None
        records = cls(columns, manifest, size)
        views = [v for _, v in records._curves] + records._scalars + [v for _, v in records._latency]
        return None if records._hashes is None or any(v is None for v in views) else records

    def record(self, index: int, arch_str: str) -> dict[str, Any]:
        """The record of architecture ``index`` (in range: the caller coerced it)."""
        epochs, width, size = self._epochs, self._width, self._size
        starts = [(position * size + index) * epochs for position in range(len(self._seeds))]
        curves = {name: [view[s : s + epochs].tolist() for s in starts] for name, view in self._curves}
        trained_as, params, flops = self._scalars
        return {
            "arch_index": index,
            "arch_str": arch_str,
            "arch_hash": self._hashes[index * width : (index + 1) * width].tobytes().rstrip(b"\0").decode("ascii"),
            "trained_as": int(trained_as[index]),
            "params": int(params[index]),
            "flops": int(flops[index]),
            "seeds": self._seeds.copy(),
            "valid_acc": [c[-1] for c in curves["valid_acc"]],
            "test_acc": [c[-1] for c in curves["test_acc"]],
            "train_seconds": [math.fsum(c) for c in curves["epoch_seconds"]],
            "latency_ms": {d: view[index] for d, view in self._latency},
            "curves": curves,
        }
