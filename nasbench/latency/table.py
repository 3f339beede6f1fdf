"""Measure latency columns for every architecture of a finished generated table, drift-free.

Every architecture is timed with :mod:`nasbench.timing`'s protocol: a seeded random order,
a reference cell (default: the member with the median FLOPs) re-timed every ``every``
cells, ``passes`` >= 2 passes, each timing divided by the reference's drift, the median
over passes kept. All batch sizes of one runtime are timed together, each column
corrected by its own reference timings. Measured on nb201-mnist1d (800 random cells, the
shared 2-core VM at load ~3, torch runtime): with ``every=8`` (the default) measurement
order explained 21.7% of the log-latency variance of a raw pass at batch 1 and 5.2% after
correction (3.4% in the column, the median of 2 passes); at batch 64 12.7% -> 1.8% (1.0%).
With ``every=16``: 31.7% -> 9.2% and 16.8% -> 5.3%: the load changed within seconds.

What is timed is the *deployed* network: ``nasbench.models.build_model`` in eval mode,
whose cells pool with ``nn.AvgPool`` (3x3, count_include_pad=False), not the trainer's
faster shifted-sum pooling (``nasbench.training.speed_up``, used to train and in the cost
stage); the v1 columns (timed in index order, one pass) timed the same network.

Files: the protocol's segments under ``<table>/work/timing/latency-<device>-<runtime>-b..``
(resumable); then one folder per column, ``<table>/work/latency/<column>/`` with
``00000.parquet`` (``arch_index``, ``median_ms``, ``spread_ms``: the interquartile range
over the timed calls, drift-corrected, median over passes) and ``protocol.json`` (how it
was measured and the drift report), swapped in whole. The generator's assembly adds a
column once every architecture has a measurement, and copies ``protocol.json`` into the
manifest (``generator.latency``) for the datasheet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nasbench.atomic import atomic_write_text
from nasbench.errors import OutOfDomainError
from nasbench.generator.assemble import LATENCY_DIR, WORK_DIR
from nasbench.timing import TimingProtocol, run_protocol

PROTOCOL_FILE = "protocol.json"
COLUMN = re.compile(r"[a-z0-9][a-z0-9-]*")
NETWORK = ("the deployed network: nasbench.models.family.build_network in eval mode, NB201 cells pooling with "
           "nn.AvgPool (3x3, count_include_pad=False), weights from torch.manual_seed(0); not the trainer's "
           "shifted-sum pooling (nasbench.training.speed_up)")
LEGACY = "measured in index order, one pass, no drift correction (v1 protocol)"


def column_name(device: str, runtime: str, batch: int) -> str:
    return f"{device}-{runtime}-b{batch}"


def latency_dir(out: Path, column: str) -> Path:
    return Path(out) / WORK_DIR / LATENCY_DIR / column


def measure_table(
    out: str | Path,
    runtime: str,
    device: str = "cpu",
    batches: tuple[int, ...] = (1, 64),
    protocol: TimingProtocol = TimingProtocol(every=8),
    reference: int | None = None,
    warmup: int = 5,
    repeats: int = 25,
    progress: bool = True,
) -> list[str]:
    """Time ``runtime`` latency of every architecture of the finished table in ``out``."""
    import torch

    from nasbench.datasets import load_dataset
    from nasbench.generator import require_finished
    from nasbench.generator.costs import median_flops_cell
    from nasbench.latency.measure import measure_model
    from nasbench.models.family import build_network
    from nasbench.spaces import get_space
    from nasbench.training import TrainConfig, init_worker

    out = Path(out)
    config, plan = require_finished(out)
    dataset = load_dataset(config.dataset, split_seed=config.split_seed)
    macro = TrainConfig(**config.train).macro(dataset.input_shape, dataset.num_classes)
    space = get_space(config.space)
    if reference is None:
        reference = median_flops_cell(plan.members, macro, config.space)
    elif not 0 <= int(reference) < space.size:
        raise OutOfDomainError(f"reference: {reference} is not an architecture index (0..{space.size - 1})")
    batches = tuple(int(b) for b in batches)
    columns = [column_name(device, runtime, b) for b in batches]
    init_worker(1)

    def time_one(index: int) -> list[float]:
        torch.manual_seed(0)  # weights do not matter for latency; fixed for repeatability
        stats = measure_model(build_network(space.from_index(index), macro), macro.input_shape, runtime, batches,
                              warmup, repeats)
        return [stats[b].median_ms for b in batches] + [stats[b].spread_ms for b in batches]

    store = out / WORK_DIR / "timing" / ("-".join(["latency", device, runtime, *(f"b{b}" for b in batches)]))
    result = run_protocol(plan.members, time_one, int(reference), protocol, store=store,
                          drift_source=list(range(len(batches))) * 2, progress=progress, desc=f"latency {runtime}",
                          identity={"runtime": runtime, "batches": list(batches), "warmup": warmup, "repeats": repeats})
    for j, (batch, column) in enumerate(zip(batches, columns)):
        meta = {
            "column": column, "runtime": runtime, "device": device, "batch": batch, "threads": 1,
            "warmup": warmup, "repeats": repeats,
            "method": f"measured: random order, reference cell {reference} re-timed every {protocol.every} cells, "
                      f"{protocol.passes} passes, each timing divided by the reference's drift, median over passes",
            "network": NETWORK, "deployed_network": True, "drift": result.reports[j].to_dict(),
        }
        write_column(out, column, plan.members, result.values[:, j], result.values[:, len(batches) + j], meta)
    return columns


def write_column(out: Path, column: str, members: np.ndarray, median_ms: np.ndarray, spread_ms: np.ndarray,
                 meta: dict[str, Any]) -> None:
    """Replace a column's folder whole: its values and ``protocol.json`` (a new folder renamed in)."""
    final = latency_dir(out, column)
    fresh, stale = final.with_name(f"{column}.new"), final.with_name(f"{column}.old")
    for folder in (fresh, stale):
        shutil.rmtree(folder, ignore_errors=True)
    fresh.mkdir(parents=True)
    pq.write_table(pa.table({"arch_index": np.asarray(members, dtype=np.int64), "median_ms": median_ms,
                             "spread_ms": spread_ms}), fresh / "00000.parquet")
    atomic_write_text(fresh / PROTOCOL_FILE, json.dumps(meta, indent=1, sort_keys=True) + "\n")
    if final.exists():
        os.replace(final, stale)
    os.replace(fresh, final)
    shutil.rmtree(stale, ignore_errors=True)


def write_estimates(out: str | Path, lut: Any) -> str:
    """Write a LUT's estimate for every member as column ``<device>-torch-b<batch>-lut``."""
    from nasbench.generator import load_config
    from nasbench.generator.plan import make_plan

    out = Path(out)
    members = make_plan(load_config(out)).members
    column = f"{column_name(lut.device, lut.runtime, lut.batch)}-lut"
    meta = {"column": column, "runtime": lut.runtime, "device": lut.device, "batch": lut.batch,
            "method": "estimate: operator look-up table (nasbench latency profile / fill), not a measurement",
            "network": NETWORK, "deployed_network": True}
    write_column(out, column, members, lut.estimate(members), np.zeros(len(members)), meta)
    return column


def read_latency(out: Path, column: str) -> pa.Table | None:
    """All chunks measured so far for one column, or None."""
    paths = sorted(latency_dir(out, column).glob("*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in paths]) if paths else None


def measured_columns(out: Path) -> list[str]:
    root = Path(out) / WORK_DIR / LATENCY_DIR
    return sorted(p.name for p in root.iterdir() if p.is_dir() and COLUMN.fullmatch(p.name)) if root.is_dir() else []


def column_protocol(out: Path, column: str) -> dict[str, Any]:
    """How a column was measured (its ``protocol.json``; v1 columns predate it)."""
    path = latency_dir(out, column) / PROTOCOL_FILE
    if path.is_file():
        return json.loads(path.read_text())
    if column.endswith("-lut"):
        return {"column": column, "method": "estimate: operator look-up table, not a measurement",
                "network": NETWORK, "deployed_network": True}
    return {"column": column, "method": LEGACY, "network": NETWORK, "deployed_network": True}


def latency_arrays(out: Path, members: np.ndarray) -> tuple[list[str], dict[str, np.ndarray]]:
    """Complete latency columns (median and spread) aligned with ``members``."""
    devices, columns = [], {}
    for column in measured_columns(out):
        data = read_latency(out, column)
        if data is None:
            continue
        index = data["arch_index"].to_numpy()
        position = {int(i): k for k, i in enumerate(index)}
        if not all(int(m) in position for m in members):
            continue  # still being measured
        rows = np.asarray([position[int(m)] for m in members])
        devices.append(column)
        columns[f"latency_{column}_ms"] = data["median_ms"].to_numpy()[rows].astype(np.float32)
        columns[f"latency_{column}_spread_ms"] = data["spread_ms"].to_numpy()[rows].astype(np.float32)
    return devices, columns
