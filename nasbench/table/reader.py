"""Loads a table folder into dense per-architecture arrays for vectorised lookups.

Loading checks the manifest, every file's sha256, the schema and the row layout; the
deeper (slower) consistency checks of :func:`verify_table` run on demand. The decoded
columns are cached (:mod:`nasbench.table.arrays`), so a load in a fresh process needs the
standard library only: numpy is imported when an array is first asked for (one record of a
complete table is read from the memory map without it), pyarrow and pandas when Parquet is
decoded or a DataFrame asked for.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import (
    InvalidArchitectureError,
    OutOfDomainError,
    TableError,
    UnknownNameError,
)
from nasbench.spaces import SPACES, SearchSpace, get_space
from nasbench.table import arrays
from nasbench.table.arrays import CachedColumns, RowArrays
from nasbench.table.columns import CURVE_COLUMNS, SCHEMA_VERSION
from nasbench.table.files import check_file, read_arrow
from nasbench.table.manifest import Manifest

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from nasbench.table.layout import DenseLayout
    from nasbench.table.mapped_record import MappedRecords

SCALAR_COLUMNS = ("params", "flops", "trained_as")


def nanmean_quiet(values: np.ndarray, axis: int) -> np.ndarray:
    """nanmean that returns NaN for all-NaN slices (absent architectures) without warning."""
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


class Table:
    """A loaded table. Arrays are indexed by architecture index, then seed, then epoch.

    Missing (architecture, seed) pairs are NaN; ``present`` marks architectures with at
    least one row. Curves are materialised on first use and cached.
    """

    def __init__(self, path: Path, manifest: Manifest, space: SearchSpace, columns: CachedColumns | RowArrays,
                 layout: DenseLayout | None = None, data: pa.Table | None = None) -> None:
        """``columns`` come from the load cache (numpy-free until an array is needed) or are
        decoded rows; ``layout`` is computed on first need when not given."""
        self.path = path
        self.manifest = manifest
        self.space = space
        self.epochs = manifest.epochs
        self._columns = columns if isinstance(columns, CachedColumns) else None
        self._decoded = None if isinstance(columns, CachedColumns) else columns
        self._given_layout = layout
        self._arrow = data  # the Arrow table, decoded on first need (to_pandas, verify)
        self._cache: dict[str, np.ndarray] = {}

    @functools.cached_property
    def _rows(self) -> RowArrays:
        return self._decoded if self._decoded is not None else self._columns.rows

    @functools.cached_property
    def _mapped(self) -> MappedRecords | None:
        if self._columns is None or not self.space.size:
            return None
        from nasbench.table.mapped_record import MappedRecords

        return MappedRecords.of(self._columns, self.manifest, self.space.size)

    @functools.cached_property
    def _layout(self) -> DenseLayout:
        from nasbench.table.layout import dense_layout

        return self._given_layout or dense_layout(self._rows, self.seeds, self.space.size or 0, self.name)

    @functools.cached_property
    def seeds(self) -> np.ndarray:
        """The recorded seeds, ascending (int64)."""
        import numpy as np

        return np.asarray(self.manifest.seeds, dtype=np.int64)

    @property
    def present(self) -> np.ndarray:
        """(size,) bool: architectures with at least one row."""
        return self._layout.present

    # -- identity ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def sha256(self) -> str:
        """The table's data identity (what result files cite); see :meth:`Manifest.identity`."""
        return self.manifest.sha256

    @property
    def legacy_sha256(self) -> str:
        """The whole-manifest sha256 that earlier result files cite (the identity before data identities)."""
        return self.manifest.legacy_sha256

    def matches(self, sha256: str) -> bool:
        """True when a cited ``table_sha256`` (identity or legacy) names this table."""
        return self.manifest.matches(sha256)

    @property
    def num_rows(self) -> int:
        return self.manifest.rows  # the load checked that the rows agree

    @property
    def indices(self) -> np.ndarray:
        """Indices of the architectures present in the table, ascending."""
        import numpy as np

        return np.flatnonzero(self.present)

    @property
    def recorded(self) -> np.ndarray:
        """(size, seeds) bool: which (architecture, seed) pairs have a row."""
        import numpy as np

        if "recorded" not in self._cache:
            mask = np.zeros((len(self.present), len(self.seeds)), dtype=bool)
            mask[self._layout.arch_of_row, self._layout.seed_of_row] = True
            mask.flags.writeable = False
            self._cache["recorded"] = mask
        return self._cache["recorded"]

    def cumulative_seconds(self) -> np.ndarray:
        """(size, seeds, epochs) float64 training seconds up to and including each epoch."""
        import numpy as np

        if "cumulative_seconds" not in self._cache:
            total = np.cumsum(self.curve("epoch_seconds"), axis=2, dtype=np.float64)
            total.flags.writeable = False
            self._cache["cumulative_seconds"] = total
        return self._cache["cumulative_seconds"]

    @property
    def latency_devices(self) -> list[str]:
        return list(self.manifest.latency_devices)

    # -- dense arrays -----------------------------------------------------------------
    def curve(self, name: str) -> np.ndarray:
        """(size, seeds, epochs) float32 array of a per-epoch column; NaN where missing."""
        import numpy as np

        if name not in CURVE_COLUMNS:
            raise UnknownNameError(f"unknown curve {name!r} (known: {', '.join(CURVE_COLUMNS)})")
        if name not in self._cache:
            values = self._rows.curves[name]
            if self._layout.seed_major:
                dense = values.reshape(len(self.seeds), len(self.present), self.epochs).transpose(1, 0, 2)
            else:
                dense = np.full((len(self.present), len(self.seeds), self.epochs), np.nan, dtype=np.float32)
                dense[self._layout.arch_of_row, self._layout.seed_of_row] = values
            dense = dense.view()
            dense.flags.writeable = False
            self._cache[name] = dense
        return self._cache[name]

    def scalar(self, name: str) -> np.ndarray:
        """(size,) array of a per-architecture column (params, flops, trained_as, latency_*)."""
        import numpy as np

        if name not in self._cache:
            if name not in self._rows.scalars:
                known = [*SCALAR_COLUMNS, *(f"latency_{d}_ms" for d in self.latency_devices)]
                raise UnknownNameError(f"unknown column {name!r} (known: {', '.join(known)})")
            values = self._rows.scalars[name]
            if self._layout.seed_major:  # the first seed's rows are every architecture's first row
                dense = values[: len(self.present)].view()
            else:
                dense = np.full(len(self.present), np.nan if values.dtype.kind == "f" else -1, dtype=values.dtype)
                dense[self.present] = values[self._layout.first_row[self.present]]
            dense.flags.writeable = False
            self._cache[name] = dense
        return self._cache[name]

    def latency(self, device: str) -> np.ndarray:
        """(size,) median latency in ms on a device column."""
        if device not in self.latency_devices:
            raise UnknownNameError(
                f"unknown latency device {device!r} (known: {', '.join(self.latency_devices) or 'none'})"
            )
        return self.scalar(f"latency_{device}_ms")

    @property
    def arch_hashes(self) -> np.ndarray:
        """(size,) object array of canonical hashes (None where absent)."""
        import numpy as np

        if "arch_hash" not in self._cache:
            out = np.full(len(self.present), None, dtype=object)
            out[self._rows.hash_arch] = np.char.decode(self._rows.hash_value, "ascii").astype(object)
            self._cache["arch_hash"] = out
        return self._cache["arch_hash"]

    def arch_hash(self, index: int) -> str:
        """The canonical hash of one architecture in the table."""
        import numpy as np

        hashed = self._rows.hash_arch
        position = index if len(hashed) == len(self.present) else int(np.searchsorted(hashed, index))
        if position >= len(hashed) or hashed[position] != index:
            raise OutOfDomainError(f"index: architecture {index} is not in table {self.name!r}")
        return self._rows.hash_value[position].decode("ascii")

    def final(self, metric: str) -> np.ndarray:
        """(size,) mean over seeds of a curve's last epoch."""
        import numpy as np

        key = f"final:{metric}"
        if key not in self._cache:
            values = nanmean_quiet(self.curve(metric)[:, :, -1], axis=1)
            values = np.where(self.present, values, np.nan).astype(np.float32)
            values.flags.writeable = False
            self._cache[key] = values
        return self._cache[key]

    # -- lookups ----------------------------------------------------------------------
    def check_indices(self, indices: np.ndarray | Sequence[int] | int) -> np.ndarray:
        """Validated int64 index array; raises OutOfDomainError for absent architectures."""
        import numpy as np

        idx = np.asarray(indices, dtype=np.int64)
        bad = (idx < 0) | (idx >= len(self.present))
        if bad.any():
            raise OutOfDomainError(
                f"index: {int(idx[bad].flat[0])} is out of range for {self.space.name} (0..{len(self.present) - 1})"
            )
        missing = ~self.present[idx]
        if missing.any():
            raise OutOfDomainError(f"index: architecture {int(idx[missing].flat[0])} is not in table {self.name!r}")
        return idx

    def lookup(
        self,
        indices: np.ndarray | Sequence[int],
        metric: str = "valid_acc",
        epoch: int | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        """Vectorised ``metric`` at ``epoch`` (1-based, default last) for many architectures.

        ``seed=None`` averages over the recorded seeds; otherwise that seed's value.
        """
        import numpy as np

        idx = self.check_indices(indices)
        if epoch is None:
            column = self.epochs - 1
        elif not 1 <= epoch <= self.epochs:
            raise OutOfDomainError(f"epoch: {epoch} is outside 1..{self.epochs} of table {self.name!r}")
        else:
            column = epoch - 1
        if seed is None:
            if epoch is None and metric != "epoch_seconds":
                return self.final(metric)[idx]
            return nanmean_quiet(self.curve(metric)[idx, :, column], axis=1)
        position = np.searchsorted(self.seeds, seed)
        if position >= len(self.seeds) or self.seeds[position] != seed:
            raise UnknownNameError(f"seed {seed} is not in table {self.name!r} (seeds: {self.manifest.seeds})")
        return self.curve(metric)[idx, position, column]

    def index_of(self, strings: Sequence[str]) -> np.ndarray:
        """Vectorised architecture string -> index (raises on any unknown string)."""
        import numpy as np

        strings = list(strings)
        indices = self.space.indices(strings)
        missing = ~self.present[indices]
        if missing.any():
            bad = strings[int(np.flatnonzero(missing)[0])]
            raise InvalidArchitectureError(f"architecture {bad!r} is not in table {self.name!r}")
        return indices

    def record(self, arch: Any) -> dict[str, Any]:
        """Everything the table holds on one architecture: scalars, and per recorded seed the
        final accuracies, training seconds and every learning curve (for people, not hot loops)."""
        cell = self.space.coerce(arch)
        index = self.space.index(cell)
        if self._mapped is not None:  # straight from the memory map, without numpy
            return self._mapped.record(index, str(cell))
        import numpy as np

        if not self.present[index]:
            self.check_indices(index)  # raises, naming the missing architecture
        seeds = slice(None) if self._layout.seed_major else np.flatnonzero(self.recorded[index])
        curves = {name: self.curve(name)[index, seeds].tolist() for name in CURVE_COLUMNS}
        return {
            "arch_index": index,
            "arch_str": str(cell),
            "arch_hash": self.arch_hash(index),
            "trained_as": int(self.scalar("trained_as")[index]),
            "params": int(self.scalar("params")[index]),
            "flops": int(self.scalar("flops")[index]),
            "seeds": self.seeds[seeds].tolist(),
            "valid_acc": [c[-1] for c in curves["valid_acc"]],
            "test_acc": [c[-1] for c in curves["test_acc"]],
            "train_seconds": [math.fsum(c) for c in curves["epoch_seconds"]],
            "latency_ms": {d: float(self.latency(d)[index]) for d in self.latency_devices},
            "curves": curves,
        }

    def arrow(self) -> pa.Table:
        """The table's rows as one Arrow table (decoded from the Parquet files on first use)."""
        if self._arrow is None:
            where = f"table {self.name!r}"
            for info in self.manifest.files:  # the files may have changed since the load
                check_file(self.path, info, True, where)
            self._arrow = read_arrow(self.path, self.manifest, where)
        return self._arrow

    def to_pandas(self) -> pd.DataFrame:
        """The tidy table as a DataFrame (one row per architecture and seed)."""
        return self.arrow().to_pandas()


def read_table(folder: str | Path, verify: bool = True) -> Table:
    """Load the table in ``folder``; ``verify`` checks each file's sha256 against the manifest.

    The decoded columns come from the load cache when it holds these exact files
    (:mod:`nasbench.table.arrays`); otherwise the Parquet files are decoded and cached.
    """
    folder = Path(folder)
    manifest = Manifest.read(folder)
    where = f"table {manifest.name!r}"
    if manifest.name != folder.name:
        raise TableError(
            f"{where}: its folder is named {folder.name!r}, so results would carry the wrong name; rename the "
            f"folder or set \"name\" in {folder / 'manifest.json'} to {folder.name!r} (not part of its identity)"
        )
    if manifest.schema_version != SCHEMA_VERSION:
        raise TableError(
            f"{where}: schema_version {manifest.schema_version} is not supported (this nasbench reads {SCHEMA_VERSION})"
        )
    if manifest.space not in SPACES:
        raise TableError(f"{where}: unknown space {manifest.space!r}")
    space = get_space(manifest.space)
    if not manifest.files:
        raise TableError(f"{where}: manifest lists no files")
    cached = arrays.cache_path(manifest, folder)
    trusted = arrays.read_stamps(cached)
    stamps = {info.path: check_file(folder, info, verify, where, trusted.get(info.path)) for info in manifest.files}
    columns = arrays.load(cached) if cached is not None and cached.is_dir() else None
    if columns is not None and columns.shape("arch") == (manifest.rows,):
        if verify and stamps != trusted:
            arrays.write_stamps(cached, stamps)
        return Table(folder, manifest, space, columns)  # its rows passed the checks below when cached
    from nasbench.table.layout import check_rows, dense_layout
    from nasbench.table.values import check_values

    data = read_arrow(folder, manifest, where)
    rows = arrays.from_arrow(data, manifest.epochs, where)
    check_rows(rows, manifest, space, where)
    check_values(rows, manifest, space.size, where)
    import numpy as np

    layout = dense_layout(rows, np.asarray(manifest.seeds, dtype=np.int64), space.size or 0, manifest.name)
    if cached is not None and arrays.save(rows, cached, {"seed_major": layout.seed_major}) and verify:
        arrays.write_stamps(cached, stamps)
    return Table(folder, manifest, space, rows, layout, data)
