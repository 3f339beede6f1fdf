"""Deep consistency checks of a loaded table (slower than the checks done on load)."""

from __future__ import annotations

import numpy as np

from nasbench.table.reader import Table
from nasbench.table.columns import CURVE_COLUMNS


def verify_table(table: Table) -> list[str]:
    """Every inconsistency found, as one line each; empty when the table is sound."""
    problems: list[str] = []
    space, data = table.space, table.arrow()
    arch = data["arch_index"].to_numpy()
    strings = data["arch_str"].to_numpy(zero_copy_only=False)
    expected = [space.to_string(space.from_index(int(i))) for i in arch]
    bad = np.flatnonzero(strings != np.asarray(expected, dtype=object))
    if len(bad):
        problems.append(f"arch_str {strings[bad[0]]!r} does not match arch_index {arch[bad[0]]}")
    hashes = table.arch_hashes
    for index in table.indices:
        if hashes[index] != space.hash(space.from_index(int(index))):
            problems.append(f"arch_hash of arch_index {index} is not its canonical hash")
            break
    trained = table.scalar("trained_as")[table.indices]
    if not np.all(table.present[trained]):
        problems.append("trained_as names an architecture that is not in the table")
    elif np.any(hashes[trained] != hashes[table.indices]):
        first = table.indices[np.flatnonzero(hashes[trained] != hashes[table.indices])[0]]
        problems.append(f"arch_index {first} is mapped (trained_as) to a non-isomorphic cell")
    recorded = table.recorded
    for name in CURVE_COLUMNS:
        values = table.curve(name)[recorded]  # (recorded rows, epochs)
        if not np.isfinite(values).all():
            problems.append(f"column {name!r} has NaN or infinite values inside a recorded curve")
        finite = values[np.isfinite(values)]
        if name.endswith("_acc") and finite.size and (finite.min() < 0 or finite.max() > 100):
            problems.append(f"column {name!r} has accuracies outside [0, 100]")
        if name.endswith("_loss") and finite.size and finite.min() < 0:
            problems.append(f"column {name!r} has negative losses")
        if name == "epoch_seconds" and finite.size and finite.min() <= 0:
            problems.append("column 'epoch_seconds' has non-positive durations")
    for name in ("params", "flops"):
        if (table.scalar(name)[table.indices] < 0).any():
            problems.append(f"column {name!r} has negative values")
    for device in table.latency_devices:
        lat = table.latency(device)[table.indices]
        if (lat[np.isfinite(lat)] <= 0).any():
            problems.append(f"column 'latency_{device}_ms' has non-positive latencies")
    from nasbench.table.stamp import stamp_problems  # pyarrow: only when verifying

    problems += stamp_problems(table.path, table.manifest)
    return problems
