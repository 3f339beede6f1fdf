"""Column names of the table schema that readers need without pyarrow (see schema.py for types)."""

from __future__ import annotations

import re

SCHEMA_VERSION = 1

CURVE_COLUMNS: tuple[str, ...] = (
    "train_loss",
    "train_acc",
    "valid_loss",
    "valid_acc",
    "test_loss",
    "test_acc",
    "epoch_seconds",
)

LATENCY_COLUMN = re.compile(r"^latency_(?P<device>[a-z0-9][a-z0-9-]*)_(?P<kind>ms|spread_ms)$")


def latency_device(column: str) -> str | None:
    """The device slug of a latency median column, or None for any other column."""
    match = LATENCY_COLUMN.match(column)
    return match["device"] if match and match["kind"] == "ms" else None
