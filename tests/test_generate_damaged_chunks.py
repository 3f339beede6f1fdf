"""Damaged work files never crash a generator run: each damaged chunk (truncated, not Parquet,
wrong columns or arrays, other cells or seed, another run's config or dataset) and a damaged
config.json is reported by name in one line, moved aside (never deleted) and trained again;
commands that never train refuse such a folder in one line. Chunks written before chunks
carried their run's metadata (the shipped tables' work files) are still trusted."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nasbench.cli import main
from nasbench.errors import NasbenchError
from nasbench.generator import GeneratorConfig, load_config, make_plan, require_finished
from nasbench.generator.assemble import chunk_path, write_chunk
from nasbench.generator.chunks import chunk_metadata, chunk_problem, damaged_chunks
from nasbench.table import read_table, verify_table
from nasbench.table.schema import CURVE_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
CLI = ["generate", "--dataset", "digits", "--seeds", "0", "--archs", "2", "--epochs", "1", "--preset", "tiny",
       "--batch-size", "128", "--chunk-size", "1", "--workers", "1", "--no-costs"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A generator folder whose two chunks (one cell each) are trained; not assembled."""
    out = tmp_path_factory.mktemp("damaged") / "dmg"
    assert main([*CLI, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def config(trained) -> GeneratorConfig:
    return load_config(trained)


Damage = Callable[[Path, GeneratorConfig], None]


def _rewrite(transform: Callable[[pa.Table, GeneratorConfig], pa.Table]) -> Damage:
    def damage(path: Path, config: GeneratorConfig) -> None:
        pq.write_table(transform(pq.read_table(path), config), path)
    return damage


def _set(name: str, values: list) -> Callable[[pa.Table, GeneratorConfig], pa.Table]:
    return lambda t, config: t.set_column(t.column_names.index(name), name, pa.array(values))


def _other_run(**changes) -> Callable[[pa.Table, GeneratorConfig], pa.Table]:
    def transform(table: pa.Table, config: GeneratorConfig) -> pa.Table:
        other = dataclasses.replace(config, **{k: v(config) if callable(v) else v for k, v in changes.items()})
        return table.replace_schema_metadata(chunk_metadata(other, make_plan(other).chunks[0]))
    return transform


DAMAGE: dict[str, tuple[Damage, str]] = {
    "truncated": (lambda p, c: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "unreadable"),
    "empty": (lambda p, c: p.write_bytes(b""), "unreadable"),
    "not parquet": (lambda p, c: p.write_text('{"arch_index": [0]}'), "unreadable"),
    "missing column": (_rewrite(lambda t, c: t.drop(["valid_acc"])), "column valid_acc is missing"),
    "strings for curves": (_rewrite(_set("test_acc", ["x"])), "column test_acc has type string"),
    "null curve": (_rewrite(_set("train_loss", [None])), "column train_loss has"),
    "curve too long": (_rewrite(_set("valid_loss", [[1.0, 1.0]])), "valid_loss has curves of [2] epochs"),
    "other cells": (_rewrite(_set("arch_index", [7])), "holds cells [7], the plan has [0]"),
    "other seed": (_rewrite(_set("seed", [3])), "holds seed(s) [3], the plan has 0"),
    "accuracy over 100": (_rewrite(_set("valid_acc", [[150.0]])), "valid_acc has values outside 0..100"),
    "negative seconds": (_rewrite(_set("epoch_seconds", [[-1.0]])), "epoch_seconds has negative"),
    "another config": (_rewrite(_other_run(train=lambda c: {**c.train, "lr": 0.5})), "train.lr=0.5, this run has"),
    "another dataset": (_rewrite(_other_run(dataset="mnist1d")), 'dataset="mnist1d", this run has "digits"'),
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_each_kind_of_damaged_chunk_is_recognised(trained, config, tmp_path, kind):
    out = tmp_path / "dmg"
    shutil.copytree(trained, out)
    damage, reason = DAMAGE[kind]
    plan = make_plan(config)
    path = chunk_path(out, plan.chunks[0].id)
    assert chunk_problem(path, plan.chunks[0], config) is None
    damage(path, config)
    found = damaged_chunks(out, plan, config)
    assert [chunk.id for chunk, _ in found] == [plan.chunks[0].id]
    assert reason in found[0][1], found[0][1]
    with pytest.raises(NasbenchError, match=rf"1 chunk\(s\) are damaged \(first: {plan.chunks[0].id}\.parquet"):
        require_finished(out)  # costs/latency commands never train: they refuse


def test_chunk_without_run_metadata_is_still_trusted(trained, config, tmp_path):
    out = tmp_path / "dmg"
    shutil.copytree(trained, out)
    plan = make_plan(config)
    path = chunk_path(out, plan.chunks[0].id)
    assert pq.read_schema(path).metadata  # chunks carry their run's metadata now
    table = pq.read_table(path).replace_schema_metadata(None)
    write_chunk(out, plan.chunks[0].id, table.to_pydict())  # as written before the metadata existed
    assert not pq.read_schema(path).metadata
    assert damaged_chunks(out, plan, config) == []


@pytest.mark.parametrize("folder", sorted(p.parent.parent.name for p in ROOT.glob("tables/*/work/config.json")))
def test_work_files_of_the_shipped_tables_pass_the_checks(folder):
    """The committed chunks (written before the metadata, some by a run still going on) are
    trusted, so `nasbench generate` resumes those folders instead of retraining them."""
    out = ROOT / "tables" / folder
    config = load_config(out)
    assert damaged_chunks(out, make_plan(config), config) == []


def _curves(path: Path) -> dict[str, list]:
    return pq.read_table(path, columns=["arch_index", "seed", *CURVE_COLUMNS[:-1]]).to_pydict()  # not seconds


def test_damaged_work_files_are_reported_moved_aside_and_retrained(trained, config, tmp_path, capsys):
    out = tmp_path / "dmg"
    shutil.copytree(trained, out)
    plan = make_plan(config)
    first, second = (chunk_path(out, c.id) for c in plan.chunks)
    original = [_curves(first), _curves(second)]
    first.write_bytes(first.read_bytes()[:100])
    _rewrite(_other_run(split_seed=5))(second, config)
    damaged_second = second.read_bytes()
    config_file = out / "work" / "config.json"
    config_file.write_text('{"name": "dmg", "seeds": [0')
    assert main([*CLI, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    notes = [line for line in err.splitlines() if line.startswith("nasbench: note:")]
    assert len(notes) == 3, notes
    assert "config.json is damaged" in notes[0] and "moved to" in notes[0]
    assert f"chunk {first.name} is damaged (unreadable" in notes[1]
    assert f"chunk {second.name} is damaged (it was trained with split_seed=5, this run has 0)" in notes[2]
    damaged = out / "work" / "damaged"
    assert sorted(p.name for p in damaged.iterdir()) == sorted(["config.json", first.name, second.name])
    assert (damaged / second.name).read_bytes() == damaged_second  # kept as it was, not deleted
    assert (damaged / "config.json").read_text() == '{"name": "dmg", "seeds": [0'
    assert load_config(out) == config  # this run's config took its place
    assert [_curves(first), _curves(second)] == original  # trained again: the same numbers
    assert verify_table(read_table(out)) == []
    assert np.isfinite(read_table(out).final("valid_acc")[[0, 1]]).all()
