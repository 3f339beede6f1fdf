"""The nasbench schema metadata of a table's Parquet files: the table's name, the schema
version and each column's unit, so that a file read without nasbench says what it holds.

Stamping rewrites a file with this metadata (atomically). A table's identity does not
change: it covers each file's *unstamped* bytes, the bytes pyarrow writes for the same
data and schema without the ``nasbench.*`` keys (``ShardInfo.unstamped_sha256``). They
are re-derived from the stamped file (same pyarrow version, same write options), which
stamping checks before it replaces a file and ``nasbench tables verify`` checks again.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from nasbench.atomic import atomic_path
from nasbench.errors import TableError
from nasbench.table.manifest import Manifest, ShardInfo
from nasbench.table.schema import LATENCY_COLUMN, SCHEMA_VERSION

PREFIX = "nasbench."
TABLE_KEY = "nasbench.table"
SCHEMA_VERSION_KEY = "nasbench.schema_version"
UNITS_KEY = "nasbench.units"
WRITE_OPTIONS: dict[str, object] = {"compression": "zstd", "use_byte_stream_split": True}  # every data file

UNITS: dict[str, str] = {
    **{f"{split}_loss": "nats" for split in ("train", "valid", "test")},  # mean cross-entropy
    **{f"{split}_acc": "percent" for split in ("train", "valid", "test")},
    "epoch_seconds": "seconds",
    "params": "count",
    "flops": "multiply-accumulates",  # of one forward pass of one sample
}


def column_units(columns: Iterable[str]) -> dict[str, str]:
    """Unit of every column that has one (latency columns are milliseconds)."""
    return {c: UNITS.get(c, "ms") for c in columns if c in UNITS or LATENCY_COLUMN.match(c)}


def table_metadata(name: str, columns: Iterable[str]) -> dict[str, str]:
    """The nasbench keys a data file of table ``name`` with these columns carries."""
    return {
        TABLE_KEY: name,
        SCHEMA_VERSION_KEY: str(SCHEMA_VERSION),
        UNITS_KEY: json.dumps(column_units(columns), sort_keys=True),
    }


def nasbench_keys(metadata: Mapping[bytes, bytes] | None) -> dict[str, str]:
    """The ``nasbench.*`` entries of a schema's key-value metadata, decoded."""
    return {k.decode(): v.decode() for k, v in (metadata or {}).items() if k.startswith(PREFIX.encode())}


def write_parquet(table: pa.Table, where: str | Path | pa.NativeFile) -> None:
    """Write a data file the one way nasbench writes them (so bytes can be re-derived)."""
    pq.write_table(table, where, **WRITE_OPTIONS)


def stored_schema(metadata: pq.FileMetaData) -> pa.Schema:
    """The Arrow schema the writer stored in a Parquet file (list fields keep their names)."""
    raw = (metadata.metadata or {}).get(b"ARROW:schema")
    if raw is None:
        return metadata.schema.to_arrow_schema()
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(raw)))


def with_metadata(table: pa.Table, schema: pa.Schema, keys: Mapping[str, str]) -> pa.Table:
    """``table`` in ``schema`` with its nasbench keys replaced by ``keys`` (other keys kept)."""
    kept = {k: v for k, v in (schema.metadata or {}).items() if not k.startswith(PREFIX.encode())}
    kept.update({k.encode(): v.encode() for k, v in keys.items()})
    return table.cast(schema.remove_metadata()).replace_schema_metadata(kept or None)


def _serialise(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    write_parquet(table, sink)
    return sink.getvalue()


def _sha256(data: bytes | pa.Buffer) -> str:
    return hashlib.sha256(memoryview(data)).hexdigest()


def unstamped_sha256(data: bytes | pa.Buffer) -> str:
    """sha256 of a data file's bytes without its nasbench metadata (of ``data`` itself when it has none)."""
    parquet = pq.ParquetFile(pa.BufferReader(data))
    schema = stored_schema(parquet.metadata)
    if not nasbench_keys(schema.metadata):
        return _sha256(data)
    return _sha256(_serialise(with_metadata(parquet.read(), schema, {})))


@dataclass(frozen=True)
class StampedFile:
    """A data file after stamping."""

    sha256: str  # of its bytes now
    unstamped_sha256: str  # of its bytes without nasbench metadata: what the table's identity covers
    rewritten: bool


def stamp_file(path: str | Path, keys: Mapping[str, str], listed: ShardInfo | None = None) -> StampedFile:
    """Give the data file at ``path`` exactly the nasbench metadata ``keys`` (an atomic rewrite,
    skipped when it has them already). With ``listed`` (its manifest entry), the file must
    hold the data the manifest's identity names, stamped or not."""
    path = Path(path)
    data = path.read_bytes()
    current = _sha256(data)
    keys = dict(keys)
    stamped_before = listed is not None and listed.unstamped_sha256 and current == listed.sha256
    if stamped_before and nasbench_keys(pq.read_schema(pa.BufferReader(data)).metadata) == keys:
        return StampedFile(current, listed.unstamped_sha256, False)  # nothing to do
    parquet = pq.ParquetFile(pa.BufferReader(data))
    schema = stored_schema(parquet.metadata)
    table = parquet.read()
    unstamped = current if not nasbench_keys(schema.metadata) else _sha256(_serialise(with_metadata(table, schema, {})))
    if listed is not None and unstamped != listed.identity_sha256:
        raise TableError(f"{path}: checksum mismatch (file changed or corrupt): it does not hold the data "
                         "its manifest lists")
    if nasbench_keys(schema.metadata) == keys:
        return StampedFile(current, unstamped, False)
    stamped = _serialise(with_metadata(table, schema, keys))
    if unstamped_sha256(stamped) != unstamped:
        raise TableError(
            f"{path}: cannot stamp it with pyarrow {pa.__version__} ({parquet.metadata.created_by} wrote it): "
            "its unstamped bytes could not be re-derived afterwards, so its identity could not be checked"
        )
    with atomic_path(path) as tmp:
        tmp.write_bytes(memoryview(stamped))
    return StampedFile(_sha256(stamped), unstamped, True)


def shard_info(relative: str, rows: int, stamped: StampedFile) -> ShardInfo:
    """The manifest entry of a stamped file."""
    same = stamped.unstamped_sha256 == stamped.sha256
    return ShardInfo(relative, rows, stamped.sha256, None if same else stamped.unstamped_sha256)


def stamp_table(folder: str | Path) -> tuple[Manifest, list[str]]:
    """Stamp the metadata of the table in ``folder`` onto each of its data files and update
    the manifest's checksums; returns the new manifest and the files rewritten.

    The identity (and the legacy whole-manifest hash) stay what they were. Interrupted
    between the files and the manifest, the table fails its checksum on load until this
    runs again, which finds the stamped files and finishes.
    """
    folder = Path(folder)
    manifest = Manifest.read(folder)
    files, rewritten = [], []
    for info in manifest.files:
        path = folder / info.path
        if not path.is_file():
            raise TableError(f"table {manifest.name!r}: missing file {info.path}")
        keys = table_metadata(manifest.name, pq.read_schema(path).names)
        stamped = stamp_file(path, keys, listed=info)
        files.append(shard_info(info.path, info.rows, stamped))
        if stamped.rewritten:
            rewritten.append(info.path)
    updated = dataclasses.replace(manifest, files=files)
    if (updated.sha256, updated.legacy_sha256) != (manifest.sha256, manifest.legacy_sha256):
        raise TableError(f"table {manifest.name!r}: stamping would change its identity; manifest left as it was")
    if updated != manifest:
        updated.write(folder)
    return updated, rewritten


def stamp_problems(folder: Path, manifest: Manifest) -> list[str]:
    """What is wrong with the nasbench metadata of a table's files, one line each.

    A file's table name must be the manifest's, and a stamped file's bytes without the
    metadata must hash to its ``unstamped_sha256`` (checked only under the pyarrow
    version that wrote the file: another version may write other bytes for the same data).
    """
    problems = []
    for info in manifest.files:
        data = (folder / info.path).read_bytes()
        parquet = pq.ParquetFile(pa.BufferReader(data))
        keys = nasbench_keys(stored_schema(parquet.metadata).metadata)
        if keys and keys.get(TABLE_KEY) != manifest.name:
            problems.append(f"{info.path} is stamped as table {keys.get(TABLE_KEY)!r}, its manifest names "
                            f"{manifest.name!r} (nasbench tables stamp rewrites it)")
        if keys and info.unstamped_sha256 is None:
            problems.append(f"{info.path} carries nasbench metadata but the manifest lists no unstamped_sha256")
        same_writer = parquet.metadata.created_by == f"parquet-cpp-arrow version {pa.__version__}"
        if info.unstamped_sha256 and same_writer and unstamped_sha256(data) != info.unstamped_sha256:
            problems.append(f"{info.path}: its bytes without nasbench metadata do not hash to its "
                            "unstamped_sha256 (the table's identity does not name this data)")
    return problems
