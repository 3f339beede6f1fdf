"""Writes a table folder: schema-checked Parquet shards (atomically), then the manifest."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nasbench.atomic import atomic_path, sha256_file
from nasbench.errors import TableError
from nasbench.table.manifest import Manifest, ShardInfo
from nasbench.table.schema import SCHEMA_VERSION, to_arrow, validate_schema

DATA_DIR = "data"


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of the named distributions (those present)."""
    out = {}
    for name in ("nasbench", "numpy", "pyarrow", *names):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


class TableWriter:
    """Writes shards into ``folder/data/`` and a manifest into ``folder/``.

    Shards are written to a temporary name and renamed, so an interrupted writer leaves
    only whole shards behind; ``has_shard`` lets a resumed generator skip finished work.
    """

    def __init__(self, folder: str | Path, latency_devices: Sequence[str] = ()) -> None:
        self.folder = Path(folder)
        self.latency_devices = tuple(latency_devices)

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
            pq.write_table(table, tmp, compression="zstd", use_byte_stream_split=True)
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
    ) -> Manifest:
        """Checksum every shard, cross-check them, and write the manifest atomically."""
        shards = sorted((self.folder / DATA_DIR).glob("*.parquet"))
        if not shards:
            raise TableError(f"table {name!r}: no shards in {self.folder / DATA_DIR}")
        files, seeds, archs, epochs, devices = [], set(), set(), set(), None
        for path in shards:
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
            files.append(ShardInfo(str(path.relative_to(self.folder)), meta.num_rows, sha256_file(path)))
        if len(epochs) != 1:
            raise TableError(f"table {name!r}: curves have different lengths {sorted(epochs)}")
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
        return manifest
