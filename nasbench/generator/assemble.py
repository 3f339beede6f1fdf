"""Turns finished chunk files into a table: every member gets its representative's accuracy
and loss curves, its own analytic params/FLOPs, its own training cost (the representative's
epoch_seconds scaled by the measured step-time ratio, once the cost stage has run, see
nasbench.generator.costs) and any latency columns measured for it. The manifest's
generator section records how costs and each latency column were obtained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nasbench.atomic import atomic_path
from nasbench.errors import TableError
from nasbench.generator.plan import GeneratorConfig, Plan
from nasbench.table.manifest import Manifest
from nasbench.table.schema import CURVE_COLUMNS
from nasbench.table.writer import TableWriter
from nasbench.versions import package_versions

GENERATOR_NAME = "nasbench.generator"
GENERATOR_VERSION = "1"
WORK_DIR = "work"
CHUNK_DIR = "chunks"
LATENCY_DIR = "latency"


def chunk_path(out: Path, chunk_id: str) -> Path:
    return out / WORK_DIR / CHUNK_DIR / f"{chunk_id}.parquet"


def write_chunk(out: Path, chunk_id: str, columns: dict[str, list], metadata: dict[bytes, bytes] | None = None) -> None:
    """Write one finished chunk atomically; ``metadata``: Parquet key-value metadata (the run
    that trained it, nasbench.generator.chunks.chunk_metadata)."""
    table = pa.table(columns)
    if metadata:
        table = table.replace_schema_metadata(metadata)
    with atomic_path(chunk_path(out, chunk_id)) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _scaled(curves: pa.Array | pa.ChunkedArray, scale: np.ndarray) -> pa.ListArray:
    """List column ``curves`` with row i multiplied by ``scale[i]`` (float32)."""
    if isinstance(curves, pa.ChunkedArray):
        curves = curves.combine_chunks()
    lengths = curves.value_lengths().to_numpy(zero_copy_only=False)
    values = curves.flatten().to_numpy(zero_copy_only=False).astype(np.float64) * np.repeat(scale, lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.astype(np.float32)))


def assemble(out: Path, config: GeneratorConfig, plan: Plan, dataset_info: dict, description: str) -> Manifest:
    """Write the table's shards (one per seed) and manifest from the chunk files."""
    from nasbench.models.family import network_costs
    from nasbench.spaces import get_space
    from nasbench.training import TrainConfig

    space = get_space(config.space)
    cells = [space.from_index(int(i)) for i in plan.members]
    train = TrainConfig(**config.train)
    macro = train.macro(dataset_info["input_shape"], dataset_info["num_classes"])
    costs = np.asarray([network_costs(c, macro) for c in cells], dtype=np.int64)
    from nasbench.generator.costs import cost_scale
    from nasbench.latency.table import column_protocol, latency_arrays

    devices, latency = latency_arrays(out, plan.members)
    scale, cost_info = cost_scale(out, plan)
    writer = TableWriter(out, latency_devices=devices)
    train_seconds = 0.0
    for seed in config.seeds:
        paths = [chunk_path(out, c.id) for c in plan.chunks if c.seed == seed]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise TableError(f"table {config.name!r}: chunk {missing[0]} is not trained yet")
        done = pa.concat_tables([pq.read_table(p) for p in paths])
        order = {int(i): k for k, i in enumerate(done["arch_index"].to_numpy())}
        rows = np.asarray([order[int(r)] for r in plan.representative])
        columns = {name: done[name].take(pa.array(rows)) for name in CURVE_COLUMNS}
        if scale is not None:  # each row's own cost, not its representative's
            columns["epoch_seconds"] = _scaled(columns["epoch_seconds"], scale)
        train_seconds += float(np.sum([np.sum(c) for c in done["epoch_seconds"].to_pylist()]))
        columns.update(
            arch_index=plan.members.astype(np.int32),
            arch_str=[str(c) for c in cells],
            arch_hash=[space.hash(c) for c in cells],
            trained_as=plan.representative.astype(np.int32),
            seed=np.full(len(cells), seed, dtype=np.int32),
            params=costs[:, 0],
            flops=costs[:, 1],
            train_device=done["train_device"].take(pa.array(rows)),
            **latency,
        )
        columns = {k: (v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v) for k, v in columns.items()}
        writer.write_shard(f"seed-{seed}", columns)
    generator = {
        "name": GENERATOR_NAME,
        "version": GENERATOR_VERSION,
        "config": config.to_dict(),
        "macro": {"channels": macro.channels, "cells_per_stage": macro.cells_per_stage, "stages": macro.stages,
                  "input_shape": list(macro.input_shape), "num_classes": macro.num_classes}
        | ({"bn_momentum": macro.bn_momentum} if macro.bn_momentum is not None else {}),
        "trainings": plan.trainings,
        "train_seconds": round(train_seconds, 1),
        "costs": cost_info,
        "latency": {column: column_protocol(out, column) for column in devices},
    }
    return writer.finalize(
        name=config.name,
        space=config.space,
        description=description,
        dataset={k: v for k, v in dataset_info.items() if k not in ("input_shape", "num_classes")}
        | {"input_shape": list(dataset_info["input_shape"]), "num_classes": dataset_info["num_classes"]},
        generator=generator,
        versions=package_versions("torch", "mnist1d", "scikit-learn"),
        shards=[f"seed-{seed}" for seed in config.seeds],
    )
