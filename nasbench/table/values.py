"""The cheap value checks every table passes at load: finite numbers in their ranges.

A table whose manifest was re-signed over bad numbers would otherwise answer wrongly and
exit 0 (an accuracy of 150 inflates regret, an infinite validation accuracy becomes the
incumbent for good, a NaN duration never exhausts a seconds budget). These run where the
Parquet files are decoded, before the load cache is written, so a cached load has passed
them; the slower cross-column consistency checks stay in :func:`verify_table`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench.errors import TableError
from nasbench.table.arrays import RowArrays
from nasbench.table.columns import latency_device
from nasbench.table.manifest import Manifest


@dataclass(frozen=True)
class Range:
    """Allowed values: finite, at least ``low`` (strictly above it when ``open_low``), at most ``high``."""

    low: float
    high: float = np.inf
    open_low: bool = False

    def bad(self, values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            below = values <= self.low if self.open_low else values < self.low
            return ~np.isfinite(values) | below | (values > self.high)

    def describe(self, value: float) -> str:
        if not np.isfinite(value):
            return f"{value!r} is not a finite number"
        bound = f"above {self.low:g}" if self.open_low else f"at least {self.low:g}"
        return f"{value!r} is outside its range (must be {bound}" + (
            f" and at most {self.high:g})" if np.isfinite(self.high) else ")")


ACCURACY, LOSS, DURATION = Range(0.0, 100.0), Range(0.0), Range(0.0, open_low=True)
CURVE_RANGES = {"train_acc": ACCURACY, "valid_acc": ACCURACY, "test_acc": ACCURACY,
                "train_loss": LOSS, "valid_loss": LOSS, "test_loss": LOSS, "epoch_seconds": DURATION}
COUNT = Range(0.0)


def scalar_range(column: str) -> Range | None:
    """The range of a per-row scalar column (None: not range-checked)."""
    if column in ("params", "flops"):
        return COUNT
    if latency_device(column) is not None:
        return DURATION  # a median latency in ms
    if column.startswith("latency_") and column.endswith("_spread_ms"):
        return COUNT
    return None


def check_values(rows: RowArrays, manifest: Manifest, size: int | None, where: str) -> None:
    """Raise TableError naming column, file, row, architecture and seed of the first bad value."""
    for column, allowed in CURVE_RANGES.items():
        values = rows.curves[column]
        bad = allowed.bad(values)
        if bad.any():
            row, epoch = (int(i) for i in np.argwhere(bad)[0])
            raise TableError(f"{where}: column {column!r}, {_row(rows, manifest, row)}, epoch {epoch + 1}: "
                             f"{allowed.describe(float(values[row, epoch]))}")
    for column, values in rows.scalars.items():
        allowed = scalar_range(column)
        if allowed is None:
            continue
        bad = allowed.bad(values.astype(np.float64))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise TableError(f"{where}: column {column!r}, {_row(rows, manifest, row)}: "
                             f"{allowed.describe(float(values[row]))}")
    trained_as = rows.scalars.get("trained_as")
    if trained_as is not None and size:
        bad = (trained_as < 0) | (trained_as >= size)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise TableError(f"{where}: column 'trained_as', {_row(rows, manifest, row)}: "
                             f"{int(trained_as[row])} is not an architecture index (0..{size - 1})")


def _row(rows: RowArrays, manifest: Manifest, row: int) -> str:
    """Where a row is: its file and position in it, its architecture and seed."""
    start = 0
    for info in manifest.files:
        if row < start + info.rows:
            place = f"{info.path} row {row - start}"
            break
        start += info.rows
    else:
        place = f"row {row}"
    return f"{place} (arch_index {int(rows.arch[row])}, seed {int(rows.seed[row])})"
