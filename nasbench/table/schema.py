"""The Parquet schema of a nasbench table (documented in tables/README.md).

One row per (architecture, training seed). Per-epoch learning curves are list columns
of length ``epochs``; costs are scalars; latency columns are named
``latency_<device>_ms`` (median) with an optional ``latency_<device>_spread_ms``
(interquartile range), where ``<device>`` is a lowercase slug such as ``cpu-torch-b1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from nasbench.errors import TableError
from nasbench.table.columns import (
    CURVE_COLUMNS,
    LATENCY_COLUMN,
    SCHEMA_VERSION,
    latency_device,
)

__all__ = ["COLUMNS", "CURVE_COLUMNS", "LATENCY_COLUMN", "LATENCY_TYPE", "SCHEMA_VERSION", "arrow_schema",
           "latency_device", "to_arrow", "validate_schema"]

COLUMNS: dict[str, pa.DataType] = {
    "arch_index": pa.int32(),  # index in the space (NAS-Bench-201 order for nb201)
    "arch_str": pa.string(),  # canonical string of the space
    "arch_hash": pa.string(),  # isomorphism-aware canonical hash
    "trained_as": pa.int32(),  # index of the isomorphic cell actually trained for this row
    "seed": pa.int32(),  # training seed
    **{name: pa.list_(pa.float32()) for name in CURVE_COLUMNS},
    "params": pa.int64(),  # trainable parameters
    "flops": pa.int64(),  # multiply-accumulates of one forward pass of one sample
    "train_device": pa.string(),  # device the row was trained on, e.g. "cpu"
}

LATENCY_TYPE = pa.float32()


def arrow_schema(latency_devices: list[str] | tuple[str, ...] = ()) -> pa.Schema:
    """The Arrow schema of a table with the given latency device columns."""
    fields = [pa.field(name, dtype, nullable=False) for name, dtype in COLUMNS.items()]
    for device in latency_devices:
        for kind in ("ms", "spread_ms"):
            name = f"latency_{device}_{kind}"
            if not LATENCY_COLUMN.match(name):
                raise TableError(f"latency device {device!r}: use lowercase letters, digits and '-'")
            fields.append(pa.field(name, LATENCY_TYPE))
    return pa.schema(fields)


def validate_schema(schema: pa.Schema, where: str) -> list[str]:
    """Check a file's schema; return its latency devices. Raises TableError naming the column."""
    names = set(schema.names)
    for name, dtype in COLUMNS.items():
        if name not in names:
            raise TableError(f"{where}: missing column {name!r}")
        actual = schema.field(name).type
        if actual != dtype and not (pa.types.is_large_list(actual) and dtype == pa.list_(pa.float32())):
            raise TableError(f"{where}: column {name!r} has type {actual}, expected {dtype}")
    devices = []
    for name in schema.names:
        if name in COLUMNS:
            continue
        match = LATENCY_COLUMN.match(name)
        if not match:
            raise TableError(f"{where}: unexpected column {name!r} (not in schema v{SCHEMA_VERSION})")
        if schema.field(name).type != LATENCY_TYPE:
            raise TableError(
                f"{where}: column {name!r} has type {schema.field(name).type}, expected {LATENCY_TYPE}"
            )
        if match["kind"] == "ms":
            devices.append(match["device"])
    return sorted(devices)


def to_arrow(columns: Mapping[str, Any], latency_devices: list[str] | tuple[str, ...] = ()) -> pa.Table:
    """Build a schema-conformant Arrow table from column arrays.

    Curve columns may be given as 2-D arrays (rows x epochs) or as lists of sequences.
    """
    schema = arrow_schema(latency_devices)
    missing = [name for name in schema.names if name not in columns]
    if missing:
        raise TableError(f"rows: missing column {missing[0]!r}")
    extra = sorted(set(columns) - set(schema.names))
    if extra:
        raise TableError(f"rows: unexpected column {extra[0]!r}")
    arrays = []
    for field in schema:
        value = columns[field.name]
        if isinstance(value, pa.Array):
            arrays.append(value if value.type == field.type else value.cast(field.type))
        elif pa.types.is_list(field.type) and isinstance(value, np.ndarray) and value.ndim == 2:
            flat = pa.array(np.ascontiguousarray(value, dtype=np.float32).reshape(-1))
            offsets = pa.array(np.arange(0, value.size + 1, value.shape[1], dtype=np.int32))
            arrays.append(pa.ListArray.from_arrays(offsets, flat))
        else:
            try:
                arrays.append(pa.array(value, type=field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
                raise TableError(f"rows: column {field.name!r} cannot be stored as {field.type}: {exc}") from None
    return pa.Table.from_arrays(arrays, schema=schema)
