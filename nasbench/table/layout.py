"""Where each row of a table sits: the checks on its row layout and the dense
(architecture, seed) layout that the reader's arrays are views or scatters of."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench.errors import TableError
from nasbench.spaces import SearchSpace
from nasbench.table.arrays import RowArrays
from nasbench.table.columns import latency_device
from nasbench.table.manifest import Manifest


@dataclass(frozen=True)
class DenseLayout:
    """Each row's architecture and seed position, and per architecture its first row.

    ``seed_major`` tables (one file per seed, every architecture in index order: what the
    generator writes for a complete table) have dense arrays that are views of the rows.
    """

    seed_major: bool
    arch_of_row: np.ndarray  # (rows,) int64
    seed_of_row: np.ndarray  # (rows,) int64 position in the sorted seeds
    present: np.ndarray  # (size,) bool: architectures with at least one row
    first_row: np.ndarray  # (size,) int64, -1 where absent


def dense_layout(rows: RowArrays, seeds: np.ndarray, size: int, name: str) -> DenseLayout:
    """The layout of ``rows``; raises TableError naming the first duplicate (arch, seed) row."""
    arch = rows.arch
    seed_pos = np.searchsorted(seeds, rows.seed)
    count = len(seeds)
    seed_major = bool(size) and len(arch) == size * count and bool(
        np.array_equal(arch, np.tile(np.arange(size), count))
        and np.array_equal(seed_pos, np.repeat(np.arange(count), size)))
    if not seed_major:
        key = arch * count + seed_pos
        order = np.argsort(key, kind="stable")
        repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
        if len(repeated):
            dup = int(order[repeated[0] + 1])
            raise TableError(f"table {name!r}: duplicate row for arch_index {arch[dup]} seed {seeds[seed_pos[dup]]}")
    present = np.zeros(size, dtype=bool)
    present[arch] = True
    first_row = np.full(size, -1, dtype=np.int64)
    first_row[arch[::-1]] = np.arange(len(arch))[::-1]
    return DenseLayout(seed_major, arch, seed_pos, present, first_row)


def check_rows(rows: RowArrays, manifest: Manifest, space: SearchSpace, where: str) -> None:
    """Rows agree with the manifest: count, architectures in the space, seeds, latency
    columns and curve lengths (raises TableError naming the first disagreement)."""
    if rows.rows != manifest.rows:
        raise TableError(f"{where}: {rows.rows} rows, manifest says {manifest.rows}")
    arch = rows.arch
    if space.size is not None and len(arch) and (arch.min() < 0 or arch.max() >= space.size):
        bad = int(arch[(arch < 0) | (arch >= space.size)][0])
        raise TableError(f"{where}: arch_index {bad} is outside the {space.name} space")
    expected = np.asarray(sorted(manifest.seeds), dtype=np.int64)  # np.unique would import numpy.ma
    position = np.minimum(np.searchsorted(expected, rows.seed), max(len(expected) - 1, 0))
    known = expected[position] == rows.seed if len(expected) else np.zeros(len(rows.seed), dtype=bool)
    if not known.all() or not np.all(np.bincount(position, minlength=len(expected)) > 0):
        seeds = sorted(set(rows.seed.tolist()))
        raise TableError(f"{where}: seeds {seeds} differ from manifest {manifest.seeds}")
    devices = sorted(d for d in map(latency_device, rows.scalars) if d is not None)
    if devices != sorted(manifest.latency_devices):
        raise TableError(f"{where}: latency columns {devices} differ from manifest {manifest.latency_devices}")
    for name, values in rows.curves.items():
        if values.shape != (rows.rows, manifest.epochs):
            raise TableError(f"{where}: column {name!r} has curves whose length is not {manifest.epochs}")
