"""Chunk files are checked before they are trusted, and curves before a table is made.

A chunk is damaged if it cannot be read, lacks a column or has one of the wrong type or
with nulls, holds other cells or another seed than its plan says, has curves of another
length than the run's epochs, impossible values (accuracy outside 0..100, negative or
non-finite seconds), or was trained by another run (new chunks carry their run's dataset,
split and training config in the Parquet key-value metadata; chunks written before that
have none and are checked on everything else). ``generate`` moves a damaged chunk to
``work/damaged/`` (never deletes it), says so in one line and trains it again.

A cell whose curves hold NaN or inf diverged; that is not damage (training it again gives
the same numbers), and the table is not assembled: :func:`refuse_diverged`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nasbench.errors import NasbenchError
from nasbench.generator.assemble import WORK_DIR, chunk_path
from nasbench.generator.plan import Chunk, GeneratorConfig, Plan
from nasbench.table.schema import CURVE_COLUMNS

META_KEY = b"nasbench.chunk"
DAMAGED_DIR = "damaged"
ACCURACY_COLUMNS = tuple(c for c in CURVE_COLUMNS if c.endswith("_acc"))
SECONDS_COLUMNS = ("epoch_seconds",)
SHOWN = 10  # diverged cells listed in the error


def run_identity(config: GeneratorConfig) -> dict[str, Any]:
    """What makes two runs' chunks interchangeable: dataset, split, space and training config."""
    return {"dataset": config.dataset, "split_seed": config.split_seed, "space": config.space, "train": config.train}


def chunk_metadata(config: GeneratorConfig, chunk: Chunk) -> dict[bytes, bytes]:
    """Parquet key-value metadata naming the chunk and the run that trained it."""
    record = {"chunk": chunk.id, "seed": chunk.seed, **run_identity(config)}
    return {META_KEY: json.dumps(record, sort_keys=True).encode()}


def _other_run(meta: dict[bytes, bytes] | None, config: GeneratorConfig) -> str | None:
    """How the run recorded in a chunk's metadata differs from ``config`` (None: it does not,
    or the chunk predates the metadata)."""
    if not meta or META_KEY not in meta:
        return None
    try:
        recorded = json.loads(meta[META_KEY])
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "its run metadata is not JSON"
    if not isinstance(recorded, dict):
        return "its run metadata is not a JSON object"
    for key, value in run_identity(config).items():
        theirs = recorded.get(key)
        if key == "train" and isinstance(theirs, dict) and isinstance(value, dict):
            for name in sorted(set(value) | set(theirs)):
                if theirs.get(name) != value.get(name):
                    return f"it was trained with train.{name}={json.dumps(theirs.get(name))}, this run has {json.dumps(value.get(name))}"
        elif theirs != value:
            return f"it was trained with {key}={json.dumps(theirs)}, this run has {json.dumps(value)}"
    return None


def _type_problem(table: pa.Table) -> str | None:
    expected: dict[str, Callable[[pa.DataType], bool]] = {
        "arch_index": pa.types.is_integer, "seed": pa.types.is_integer, "train_device": pa.types.is_string,
        "eval_seconds": pa.types.is_floating,
        **{name: lambda t: pa.types.is_list(t) and pa.types.is_floating(t.value_type) for name in CURVE_COLUMNS},
    }
    for name, ok in expected.items():
        if name not in table.column_names:
            return f"column {name} is missing"
        column = table[name]
        if not ok(column.type):
            return f"column {name} has type {column.type}"
        if column.null_count or (pa.types.is_list(column.type) and pc.list_flatten(column).null_count):
            return f"column {name} has nulls"
    return None


def chunk_problem(path: Path, chunk: Chunk, config: GeneratorConfig) -> str | None:
    """Why the chunk file at ``path`` cannot be trusted for ``chunk`` of ``config`` (None: it can)."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException, ValueError) as exc:
        text = (str(exc).splitlines() or [type(exc).__name__])[0]
        return f"unreadable: {re.sub(r'^Could not open Parquet input source .*?: ', '', text)[:160]}"
    problem = _type_problem(table) or _other_run(table.schema.metadata, config)
    if problem:
        return problem
    indices = table["arch_index"].to_numpy()
    if sorted(indices.tolist()) != sorted(chunk.indices):
        return f"holds cells {_span(indices)}, the plan has {_span(np.asarray(chunk.indices))}"
    seeds = np.unique(table["seed"].to_numpy())
    if seeds.tolist() != [chunk.seed]:
        return f"holds seed(s) {seeds.tolist()}, the plan has {chunk.seed}"
    epochs = int(config.train.get("epochs", 0))
    for name in CURVE_COLUMNS:
        lengths = np.unique(pc.list_value_length(table[name]).to_numpy())
        if lengths.tolist() != [epochs]:
            return f"column {name} has curves of {lengths.tolist()} epochs, this run trains {epochs}"
    for name in ACCURACY_COLUMNS:
        values = _values(table[name])
        finite = values[np.isfinite(values)]
        if finite.size and (finite.min() < 0 or finite.max() > 100):
            return f"column {name} has values outside 0..100 ({finite.min():g}..{finite.max():g})"
    for name in (*SECONDS_COLUMNS, "eval_seconds"):
        values = _values(table[name])
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            return f"column {name} has negative or non-finite seconds"
    return None


def _values(column: pa.ChunkedArray) -> np.ndarray:
    flat = pc.list_flatten(column) if pa.types.is_list(column.type) else column
    return np.asarray(flat.to_numpy(), dtype=np.float64) if len(flat) else np.zeros(0)


def _span(indices: np.ndarray) -> str:
    values = sorted(int(i) for i in indices)
    return f"{values}" if len(values) <= 4 else f"{len(values)} cells {values[0]}..{values[-1]}"


def damaged_chunks(out: Path, plan: Plan, config: GeneratorConfig) -> list[tuple[Chunk, str]]:
    """(chunk, why) for each chunk file on disk that cannot be trusted; missing ones are not listed."""
    found = []
    for chunk in plan.chunks:
        path = chunk_path(out, chunk.id)
        if path.is_file():
            problem = chunk_problem(path, chunk, config)
            if problem:
                found.append((chunk, problem))
    return found


def move_aside(out: Path, path: Path) -> Path:
    """Move ``path`` into ``out/work/damaged/`` under a name not yet taken; returns where it went."""
    folder = Path(out) / WORK_DIR / DAMAGED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    count = 1
    while target.exists():
        target = folder / f"{path.name}.{count}"
        count += 1
    os.replace(path, target)
    return target


def set_aside_damaged(out: Path, plan: Plan, config: GeneratorConfig, note: Callable[[str], None]) -> int:
    """Move every damaged chunk of ``plan`` aside, one ``note`` line each; returns how many."""
    damaged = damaged_chunks(out, plan, config)
    for chunk, problem in damaged:
        target = move_aside(out, chunk_path(out, chunk.id))
        note(f"chunk {chunk.id}.parquet is damaged ({problem}): moved to {target}; it is trained again")
    return len(damaged)


@dataclass(frozen=True)
class Diverged:
    """A trained cell whose curves are not finite: where it first shows."""

    index: int
    seed: int
    column: str
    epoch: int  # 1-based
    value: float


def diverged_in(columns: dict[str, Sequence]) -> list[Diverged]:
    """The diverged cells of one chunk's columns (as written by the workers, or read back)."""
    found = []
    for row, (index, seed) in enumerate(zip(columns["arch_index"], columns["seed"])):
        for name in CURVE_COLUMNS:
            curve = np.asarray(columns[name][row], dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(curve))
            if bad.size:
                found.append(Diverged(int(index), int(seed), name, int(bad[0]) + 1, float(curve[bad[0]])))
                break
    return found


def diverged_cells(out: Path, plan: Plan) -> list[Diverged]:
    """Every trained cell of ``plan`` (all chunks on disk) with non-finite curves."""
    found = []
    for chunk in plan.chunks:
        path = chunk_path(out, chunk.id)
        if path.is_file():
            data = pq.read_table(path, columns=["arch_index", "seed", *CURVE_COLUMNS])
            if any(not np.all(np.isfinite(_values(data[name]))) for name in CURVE_COLUMNS):
                found += diverged_in(data.to_pydict())
    return found


def refuse_diverged(out: Path, plan: Plan, config: GeneratorConfig) -> None:
    """Refuse to make a table of curves that hold NaN or inf: name the diverged cells."""
    found = diverged_cells(out, plan)
    if not found:
        return
    cells = [f"  cell {d.index} seed {d.seed}: {d.column} is {d.value} from epoch {d.epoch}" for d in found[:SHOWN]]
    if len(found) > SHOWN:
        cells.append(f"  ... and {len(found) - SHOWN} more")
    raise NasbenchError(
        f"table {config.name!r} not assembled: {len(found)} of {plan.trainings} trainings diverged (non-finite "
        f"curves; first: cell {found[0].index} seed {found[0].seed}, {found[0].column}); lower --lr or change the "
        f"training config, in another --out (the chunks stay in {chunk_path(out, '*').parent}):\n" + "\n".join(cells))
