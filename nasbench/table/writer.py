"""Writes a table folder: schema-checked Parquet shards (atomically), then the manifest.

``finalize`` stamps every shard with the table's name and column units (Parquet schema
metadata, see nasbench.table.stamp) before it checksums them for the manifest."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nasbench.atomic import atomic_path
from nasbench.errors import TableError
from nasbench.table.manifest import Manifest
from nasbench.table.schema import SCHEMA_VERSION, to_arrow, validate_schema
from nasbench.table.stamp import shard_info, stamp_file, table_metadata, write_parquet
from nasbench.versions import package_versions

DATA_DIR = "data"
STALE_DIR = "stale"  # where finalize moves shards of an earlier run that the table no longer lists


class TableWriter:
    """Writes shards into ``folder/data/`` and a manifest into ``folder/``.

    Shards are written to a temporary name and renamed, so an interrupted writer leaves
    only whole shards behind; ``has_shard`` lets a resumed generator skip finished work.
    ``written`` remembers the shards this writer wrote, the table ``finalize`` makes by
    default; ``moved_aside`` lists the stale files ``finalize`` moved out of ``data/``.
    """

    def __init__(self, folder: str | Path, latency_devices: Sequence[str] = ()) -> None:
        self.folder = Path(folder)
        self.latency_devices = tuple(latency_devices)
        self.written: list[str] = []
        self.moved_aside: list[Path] = []

    def shard_path(self, shard: str) -> Path:
        return self.folder / DATA_DIR / f"{shard}.parquet"

    def has_shard(self, shard: str) -> bool:
        return self.shard_path(shard).is_file()

    def write_shard(self, shard: str, rows: Mapping[str, Any] | pa.Table) -> Path:
        """Validate and write one shard atomically; returns its path."""
        table = rows if isinstance(rows, pa.Table) else to_arrow(rows, self.latency_devices)
        validate_schema(table.schema, where=f"shard {shard!r}")
        path = self.shard_path(shard)
        with atomic_path(path) as tmp:
            write_parquet(table, tmp)
        if shard not in self.written:
            self.written.append(shard)
        return path

    def finalize(
        self,
        *,
        name: str,
        space: str,
        description: str,
        dataset: dict[str, Any],
        generator: dict[str, Any],
        synthetic: bool = False,
        versions: dict[str, str] | None = None,
        shards: Sequence[str] | None = None,
    ) -> Manifest:
        """Cross-check the table's shards, stamp them with the table's name and units,
        checksum them, write the manifest atomically, then move any other
        ``data/*.parquet`` (left by an earlier run) aside to ``stale/``.

        ``shards`` names the shards that make the table (default: those this writer wrote);
        a file not named is never read into the manifest, so an earlier run with more seeds
        or other epochs cannot leak into it. Stale files are moved only after the new
        manifest is in place (a crash in between leaves unlisted files, which readers
        ignore), and are reported in ``moved_aside`` and by a warning.
        """
        names = sorted(set(self.written if shards is None else shards))
        if not names:
            raise TableError(f"table {name!r}: no shards to finalize in {self.folder / DATA_DIR}")
        paths = [self.shard_path(shard) for shard in names]
        for shard, path in zip(names, paths):
            if not path.is_file():
                raise TableError(f"table {name!r}: shard {shard!r} is missing ({path})")
        seeds, archs, epochs, devices, rows = set(), set(), set(), None, []
        for path in paths:
            meta = pq.read_metadata(path)
            shard_devices = validate_schema(meta.schema.to_arrow_schema(), where=str(path))
            if devices is None:
                devices = shard_devices
            elif shard_devices != devices:
                raise TableError(f"{path}: latency columns {shard_devices} differ from {devices}")
            cols = pq.read_table(path, columns=["arch_index", "seed", "valid_acc"])
            seeds.update(np.unique(cols["seed"].to_numpy()).tolist())
            archs.update(np.unique(cols["arch_index"].to_numpy()).tolist())
            lengths = np.unique(pc.list_value_length(cols["valid_acc"]).to_numpy())
            epochs.update(lengths.tolist())
            rows.append(meta.num_rows)
        if len(epochs) != 1:
            raise TableError(f"table {name!r}: curves have different lengths {sorted(epochs)}")
        files = []
        for path, count in zip(paths, rows):
            stamped = stamp_file(path, table_metadata(name, pq.read_schema(path).names))
            files.append(shard_info(str(path.relative_to(self.folder)), count, stamped))
        manifest = Manifest(
            name=name,
            space=space,
            schema_version=SCHEMA_VERSION,
            synthetic=synthetic,
            description=description,
            dataset=dataset,
            generator=generator,
            seeds=sorted(int(s) for s in seeds),
            epochs=int(epochs.pop()),
            num_archs=len(archs),
            rows=sum(f.rows for f in files),
            latency_devices=list(devices or []),
            files=files,
            versions=versions if versions is not None else package_versions(),
        )
        manifest.write(self.folder)
        self._move_stale(name, set(paths))
        return manifest

    def _move_stale(self, name: str, keep: set[Path]) -> None:
        """Move every ``data/*.parquet`` outside ``keep`` to ``stale/`` (one atomic rename each)."""
        stale = [p for p in sorted((self.folder / DATA_DIR).glob("*.parquet")) if p not in keep]
        if not stale:
            return
        target = self.folder / STALE_DIR
        target.mkdir(exist_ok=True)
        for path in stale:
            os.replace(path, target / path.name)
            self.moved_aside.append(target / path.name)
        listed = ", ".join(p.name for p in stale)
        warnings.warn(f"table {name!r}: moved {len(stale)} stale shard(s) not in this table to {target}: {listed}",
                      stacklevel=3)
