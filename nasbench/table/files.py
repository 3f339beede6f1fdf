"""A table's data files on disk: each checked against its manifest entry (present, and its
sha256, re-hashed only when its stat stamp changed), and all decoded into one Arrow table
with a schema check (pyarrow is imported only here, when Parquet is decoded)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.atomic import sha256_file
from nasbench.errors import TableError
from nasbench.table import arrays
from nasbench.table.manifest import Manifest

if TYPE_CHECKING:
    import pyarrow as pa


def check_file(folder: Path, info: Any, verify: bool, where: str, trusted: list[int] | None = None) -> list[int]:
    """The file's stamp; raises if it is missing or (``verify``) its sha256 differs from the
    manifest's, which is not recomputed when the stamp equals ``trusted`` (see arrays)."""
    stamp = arrays.file_stamp(folder / info.path)
    if stamp is None:
        raise TableError(f"{where}: missing file {info.path}")
    if verify and stamp != trusted and sha256_file(folder / info.path) != info.sha256:
        raise TableError(f"{where}: checksum mismatch for {info.path} (file changed or corrupt)")
    return stamp


def read_arrow(folder: Path, manifest: Manifest, where: str) -> pa.Table:
    """Decode and schema-check every Parquet file of the manifest into one Arrow table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nasbench.table.schema import validate_schema

    shards, devices = [], None
    for info in manifest.files:
        try:
            shard = pq.read_table(folder / info.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError(f"{where}: {info.path} is not a readable Parquet file ({exc})") from None
        if shard.num_rows != info.rows:
            raise TableError(f"{where}: {info.path} has {shard.num_rows} rows, manifest says {info.rows}")
        shard_devices = validate_schema(shard.schema, where=f"{where}, {info.path}")
        if devices is not None and shard_devices != devices:
            raise TableError(f"{where}: {info.path} has latency columns {shard_devices}, others {devices}")
        devices = shard_devices
        shards.append(shard)
    if devices != sorted(manifest.latency_devices):
        raise TableError(f"{where}: latency columns {devices} differ from manifest {manifest.latency_devices}")
    return pa.concat_tables(shards) if len(shards) > 1 else shards[0]
