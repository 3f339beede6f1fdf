"""Measure latency columns for every architecture of a generated table, resumably.

Results go to ``<table>/work/latency/<device>/<chunk>.parquet`` (one folder per column,
e.g. ``cpu-torch-b1``), written atomically per chunk; the generator's assembly adds a
column once every architecture has a measurement.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from nasbench.atomic import atomic_path
from nasbench.errors import NasbenchError
from nasbench.generator.assemble import LATENCY_DIR, WORK_DIR
from nasbench.generator.plan import GeneratorConfig, make_plan


def column_name(device: str, runtime: str, batch: int) -> str:
    return f"{device}-{runtime}-b{batch}"


def latency_dir(out: Path, column: str) -> Path:
    return Path(out) / WORK_DIR / LATENCY_DIR / column


def measure_table(
    out: str | Path,
    runtime: str,
    device: str = "cpu",
    batches: tuple[int, ...] = (1, 64),
    chunk_size: int = 256,
    warmup: int = 5,
    repeats: int = 25,
    progress: bool = True,
) -> list[str]:
    """Measure ``runtime`` latency of every architecture of the generator run in ``out``."""
    import torch

    from nasbench.datasets import load_dataset
    from nasbench.models import build_model
    from nasbench.latency.measure import measure_model
    from nasbench.spaces.nb201 import all_cells
    from nasbench.training import TrainConfig, init_worker

    out = Path(out)
    config_path = out / WORK_DIR / "config.json"
    if not config_path.is_file():
        raise NasbenchError(f"{out}: not a generator folder (no {WORK_DIR}/config.json)")
    config = GeneratorConfig.from_dict(json.loads(config_path.read_text()))
    dataset = load_dataset(config.dataset, split_seed=config.split_seed)
    macro = TrainConfig(**config.train).macro(dataset.input_shape, dataset.num_classes)
    members = make_plan(config).members
    columns = [column_name(device, runtime, b) for b in batches]
    init_worker(1)
    chunks = [members[i : i + chunk_size] for i in range(0, len(members), chunk_size)]
    todo = [(k, c) for k, c in enumerate(chunks) if not (latency_dir(out, columns[-1]) / f"{k:05d}.parquet").is_file()]
    with tqdm(total=sum(len(c) for _, c in todo), unit="arch", desc=f"latency {runtime}", disable=not progress) as bar:
        for k, chunk in todo:
            rows: dict[int, dict[str, list]] = {b: {"arch_index": [], "median_ms": [], "spread_ms": []} for b in batches}
            for index in chunk:
                torch.manual_seed(0)  # weights do not matter for latency; fixed for repeatability
                model = build_model(all_cells()[int(index)].ops, macro)
                stats = measure_model(model, macro.input_shape, runtime, batches, warmup, repeats)
                for b in batches:
                    rows[b]["arch_index"].append(int(index))
                    rows[b]["median_ms"].append(stats[b].median_ms)
                    rows[b]["spread_ms"].append(stats[b].spread_ms)
                bar.update(1)
            for b, column in zip(batches, columns):
                with atomic_path(latency_dir(out, column) / f"{k:05d}.parquet") as tmp:
                    pq.write_table(pa.table(rows[b]), tmp)
    return columns


def write_estimates(out: str | Path, lut) -> str:
    """Write a LUT's estimate for every member as column ``<device>-torch-b<batch>-lut``."""
    out = Path(out)
    config = GeneratorConfig.from_dict(json.loads((out / WORK_DIR / "config.json").read_text()))
    members = make_plan(config).members
    column = f"{column_name(lut.device, lut.runtime, lut.batch)}-lut"
    estimate = lut.estimate(members)
    with atomic_path(latency_dir(out, column) / "00000.parquet") as tmp:
        pq.write_table(pa.table({"arch_index": members, "median_ms": estimate, "spread_ms": np.zeros(len(members))}), tmp)
    return column


def read_latency(out: Path, column: str) -> pa.Table | None:
    """All chunks measured so far for one column, or None."""
    paths = sorted(latency_dir(out, column).glob("*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in paths]) if paths else None


def measured_columns(out: Path) -> list[str]:
    root = Path(out) / WORK_DIR / LATENCY_DIR
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


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
