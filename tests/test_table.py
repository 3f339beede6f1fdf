"""Table I/O: writer, manifest, reader, lookups, verification, catalog, and every way a
table folder can be broken."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import nasbench.table.writer as writer_module
from nasbench.atomic import sha256_file
from nasbench.errors import InvalidArchitectureError, OutOfDomainError, TableError, UnknownNameError
from nasbench.table import (
    CURVE_COLUMNS,
    SCHEMA_VERSION,
    Manifest,
    TableWriter,
    arrow_schema,
    list_tables,
    load_table,
    read_table,
    resolve_table,
    table_dirs,
    verify_table,
)
from nasbench.report import compare_report
from nasbench.table import cited_identity
from nasbench.table.schema import to_arrow
from nasbench.table.synthetic import LATENCY_DEVICES, build_synthetic_table, synthetic_columns

TINY_ARCHS = 30
TINY_EPOCHS = 4
TINY_SEEDS = (0, 1)


def _finalize(writer: TableWriter, name: str = "tiny") -> Manifest:
    return writer.finalize(
        name=name,
        space="nb201",
        description="test table",
        dataset={"name": "none"},
        generator={"name": "tests", "version": "0"},
        synthetic=True,
    )


@pytest.fixture(scope="module")
def tiny_columns() -> dict[str, np.ndarray]:
    return synthetic_columns(TINY_SEEDS, TINY_EPOCHS, indices=range(TINY_ARCHS))


@pytest.fixture
def tiny(tmp_path, tiny_columns):
    """(folder, manifest, columns) of a one-shard table written with TableWriter."""
    folder = tmp_path / "tiny"
    writer = TableWriter(folder, latency_devices=LATENCY_DEVICES)
    writer.write_shard("all", tiny_columns)
    return folder, _finalize(writer), tiny_columns


# -- writing and reading back ---------------------------------------------------------------


def test_round_trip_values_equal_what_was_written(tiny):
    folder, _, columns = tiny
    table = read_table(folder)
    assert table.name == "tiny" and table.num_rows == 2 * TINY_ARCHS
    np.testing.assert_array_equal(table.indices, np.arange(TINY_ARCHS))
    np.testing.assert_array_equal(table.seeds, TINY_SEEDS)
    arch, seed = columns["arch_index"], columns["seed"]
    for name in CURVE_COLUMNS:
        dense = table.curve(name)
        assert dense.shape == (table.space.size, 2, TINY_EPOCHS) and dense.dtype == np.float32
        np.testing.assert_array_equal(dense[arch, seed], columns[name])
        assert np.isnan(dense[TINY_ARCHS:]).all()
    for name in ("params", "flops", "trained_as"):
        np.testing.assert_array_equal(table.scalar(name)[arch], columns[name])
    for device in LATENCY_DEVICES:
        np.testing.assert_array_equal(table.latency(device)[arch], columns[f"latency_{device}_ms"])
    np.testing.assert_array_equal(table.arch_hashes[arch], columns["arch_hash"])
    frame = table.to_pandas()
    assert frame["arch_str"].tolist() == list(columns["arch_str"])
    assert verify_table(table) == []


def test_lookup_by_index_and_by_string_agree(tiny, space):
    table = read_table(tiny[0])
    indices = np.array([3, 0, 29, 17])
    strings = [str(space.from_index(int(i))) for i in indices]
    np.testing.assert_array_equal(table.index_of(strings), indices)
    np.testing.assert_array_equal(table.lookup(table.index_of(strings)), table.lookup(indices))
    record = table.record(strings[0])
    assert record == table.record(3) and record["arch_index"] == 3 and record["seeds"] == [0, 1]


def test_vectorised_lookup_equals_per_index_loop(tiny):
    table = read_table(tiny[0])
    every = table.indices
    for kwargs in ({}, {"metric": "test_acc"}, {"epoch": 2}, {"seed": 1}, {"epoch": 1, "seed": 0, "metric": "train_loss"}):
        vector = table.lookup(every, **kwargs)
        loop = np.array([table.lookup([i], **kwargs)[0] for i in every])
        np.testing.assert_array_equal(vector, loop)


def test_lookup_epoch_and_seed_options(tiny):
    table = read_table(tiny[0])
    valid = table.curve("valid_acc")
    idx = np.array([1, 5, 9])
    np.testing.assert_array_equal(table.lookup(idx, epoch=2, seed=1), valid[idx, 1, 1])
    np.testing.assert_array_equal(table.lookup(idx, seed=0), valid[idx, 0, -1])
    np.testing.assert_allclose(table.lookup(idx, epoch=3), valid[idx, :, 2].mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(table.lookup(idx), valid[idx, :, -1].mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(table.lookup(idx, epoch=TINY_EPOCHS), table.lookup(idx))
    with pytest.raises(OutOfDomainError, match="epoch: 0"):
        table.lookup(idx, epoch=0)
    with pytest.raises(OutOfDomainError, match=f"epoch: {TINY_EPOCHS + 1}"):
        table.lookup(idx, epoch=TINY_EPOCHS + 1)
    with pytest.raises(UnknownNameError, match="seed 7"):
        table.lookup(idx, seed=7)
    with pytest.raises(UnknownNameError, match="'valid_accuracy'"):
        table.lookup(idx, metric="valid_accuracy")
    with pytest.raises(UnknownNameError, match="'gpu'"):
        table.latency("gpu")


def test_index_of_and_check_indices_errors(tiny, space):
    table = read_table(tiny[0])
    absent = str(space.from_index(TINY_ARCHS + 5))
    with pytest.raises(InvalidArchitectureError, match="not in table 'tiny'"):
        table.index_of([str(space.from_index(0)), absent])
    with pytest.raises(InvalidArchitectureError, match="conv_5x5"):
        table.index_of(["|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(OutOfDomainError, match="-1 is out of range"):
        table.check_indices([0, -1])
    with pytest.raises(OutOfDomainError, match="15625 is out of range"):
        table.check_indices(15_625)
    with pytest.raises(OutOfDomainError, match=f"architecture {TINY_ARCHS + 5} is not in table"):
        table.lookup([TINY_ARCHS + 5])
    with pytest.raises(OutOfDomainError):
        table.record(TINY_ARCHS + 5)
    np.testing.assert_array_equal(table.check_indices([2, 1]), [2, 1])


def test_two_shards_concatenate(tmp_path, tiny_columns):
    writer = TableWriter(tmp_path / "two", latency_devices=LATENCY_DEVICES)
    for seed in TINY_SEEDS:
        part = {k: v[tiny_columns["seed"] == seed] for k, v in tiny_columns.items()}
        writer.write_shard(f"seed-{seed}", part)
    manifest = _finalize(writer, "two")
    assert [f.path for f in manifest.files] == ["data/seed-0.parquet", "data/seed-1.parquet"]
    assert [f.rows for f in manifest.files] == [TINY_ARCHS, TINY_ARCHS]
    assert writer.has_shard("seed-0") and not writer.has_shard("seed-2")
    both = read_table(tmp_path / "two")
    assert both.num_rows == 2 * TINY_ARCHS
    for seed in TINY_SEEDS:
        rows = tiny_columns["seed"] == seed
        np.testing.assert_array_equal(
            both.lookup(tiny_columns["arch_index"][rows], seed=seed), tiny_columns["valid_acc"][rows, -1]
        )


def test_to_arrow_accepts_2d_arrays_and_lists_alike(tiny_columns):
    as_lists = dict(tiny_columns)
    for name in CURVE_COLUMNS:
        as_lists[name] = [list(row) for row in tiny_columns[name]]
    assert to_arrow(tiny_columns, LATENCY_DEVICES).equals(to_arrow(as_lists, LATENCY_DEVICES))


def test_to_arrow_rejects_missing_extra_and_mistyped_columns(tiny_columns):
    missing = {k: v for k, v in tiny_columns.items() if k != "params"}
    with pytest.raises(TableError, match="missing column 'params'"):
        to_arrow(missing, LATENCY_DEVICES)
    with pytest.raises(TableError, match="unexpected column 'bogus'"):
        to_arrow({**tiny_columns, "bogus": tiny_columns["params"]}, LATENCY_DEVICES)
    with pytest.raises(TableError, match="unexpected column 'latency_synthetic-cpu-b1_ms'"):
        to_arrow(tiny_columns)  # latency columns the schema was not told about
    with pytest.raises(TableError, match="'arch_str' cannot be stored"):
        to_arrow({**tiny_columns, "arch_str": np.arange(len(tiny_columns["seed"]))}, LATENCY_DEVICES)
    with pytest.raises(TableError, match="'CPU'"):
        arrow_schema(["CPU"])


# -- the manifest -------------------------------------------------------------------------


def test_manifest_fields(tiny):
    folder, manifest, columns = tiny
    assert manifest == Manifest.read(folder)
    assert manifest.schema_version == SCHEMA_VERSION
    assert manifest.synthetic is True
    assert manifest.space == "nb201"
    assert manifest.seeds == list(TINY_SEEDS)
    assert manifest.epochs == TINY_EPOCHS
    assert manifest.num_archs == TINY_ARCHS
    assert manifest.rows == len(columns["seed"]) == sum(f.rows for f in manifest.files)
    assert manifest.latency_devices == list(LATENCY_DEVICES)
    assert {"nasbench", "numpy", "pyarrow"} <= set(manifest.versions)
    for info in manifest.files:
        data = (folder / info.path).read_bytes()
        assert info.sha256 == hashlib.sha256(data).hexdigest() == sha256_file(folder / info.path)
        assert info.rows == pq.read_metadata(folder / info.path).num_rows
        assert info.unstamped_sha256 not in (None, info.sha256)  # finalize stamped it
    text = (folder / "manifest.json").read_text()
    assert text == manifest.to_json()
    # the legacy hash is that of the manifest.json the table had before files were stamped
    unstamped = dataclasses.replace(manifest, files=[dataclasses.replace(f, sha256=f.identity_sha256,
                                                                         unstamped_sha256=None)
                                                     for f in manifest.files])
    assert "unstamped_sha256" in text and "unstamped_sha256" not in unstamped.to_json()
    assert manifest.legacy_sha256 == hashlib.sha256(unstamped.to_json().encode()).hexdigest()
    assert manifest.legacy_sha256 == unstamped.legacy_sha256 == read_table(folder).legacy_sha256
    canonical = json.dumps(manifest.identity(), sort_keys=True, separators=(",", ":"))
    assert manifest.sha256 == hashlib.sha256(canonical.encode()).hexdigest() == read_table(folder).sha256


def test_finalize_without_shards(tmp_path):
    with pytest.raises(TableError, match="no shards"):
        _finalize(TableWriter(tmp_path / "empty"))


def test_rerun_with_fewer_seeds_and_other_epochs_moves_stale_shards_aside(tmp_path):
    folder = tmp_path / "rerun"
    first = build_synthetic_table(folder, seeds=(0, 1, 2), epochs=3, indices=range(20))
    assert first.seeds == [0, 1, 2] and len(first.files) == 3
    with pytest.warns(UserWarning, match=r"moved 1 stale shard\(s\).*seed-2\.parquet"):
        again = build_synthetic_table(folder, seeds=(0, 1), epochs=4, indices=range(20))
    assert again.seeds == [0, 1] and again.epochs == 4 and again.rows == 40
    assert [f.path for f in again.files] == ["data/seed-0.parquet", "data/seed-1.parquet"]
    assert again.generator["config"]["seeds"] == again.seeds  # the manifest agrees with its config
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["seed-0.parquet", "seed-1.parquet"]
    moved = folder / "stale" / "seed-2.parquet"
    assert moved.is_file() and sha256_file(moved) == first.files[2].sha256  # kept, out of the table
    table = read_table(folder)
    assert table.seeds.tolist() == [0, 1] and table.epochs == 4 and verify_table(table) == []


def test_finalize_takes_the_shards_the_caller_names(tmp_path, tiny_columns):
    folder = tmp_path / "named"
    writer = TableWriter(folder, latency_devices=LATENCY_DEVICES)
    for seed in TINY_SEEDS:
        writer.write_shard(f"seed-{seed}", {k: v[tiny_columns["seed"] == seed] for k, v in tiny_columns.items()})
    assert writer.written == ["seed-0", "seed-1"]
    # A resumed run that skipped finished shards still names them; nothing is stale.
    resumed = TableWriter(folder, latency_devices=LATENCY_DEVICES)
    manifest = resumed.finalize(name="named", space="nb201", description="d", dataset={}, generator={},
                                synthetic=True, shards=["seed-1", "seed-0"])
    assert [f.path for f in manifest.files] == ["data/seed-0.parquet", "data/seed-1.parquet"]
    assert resumed.moved_aside == []
    with pytest.raises(TableError, match="shard 'seed-7' is missing"):
        resumed.finalize(name="named", space="nb201", description="d", dataset={}, generator={},
                         shards=["seed-0", "seed-7"])
    assert Manifest.read(folder) == manifest  # a refused finalize leaves the table as it was


def test_stale_shards_move_only_after_the_new_manifest_is_written(tmp_path, tiny_columns, monkeypatch):
    folder = tmp_path / "crash"
    writer = TableWriter(folder, latency_devices=LATENCY_DEVICES)
    for seed in TINY_SEEDS:
        writer.write_shard(f"seed-{seed}", {k: v[tiny_columns["seed"] == seed] for k, v in tiny_columns.items()})
    _finalize(writer, "crash")

    def crash(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(writer_module, "os", types.SimpleNamespace(replace=crash))  # only the writer's renames
    rerun = TableWriter(folder, latency_devices=LATENCY_DEVICES)
    rerun.write_shard("seed-0", {k: v[tiny_columns["seed"] == 0] for k, v in tiny_columns.items()})
    with pytest.raises(OSError, match="disk gone"):
        _finalize(rerun, "crash")
    monkeypatch.undo()
    table = read_table(folder)  # the new manifest is in place; the unlisted seed-1 file is ignored
    assert table.seeds.tolist() == [0] and (folder / "data" / "seed-1.parquet").is_file()


def test_finalize_rejects_curves_of_different_lengths(tmp_path):
    writer = TableWriter(tmp_path / "mixed", latency_devices=LATENCY_DEVICES)
    writer.write_shard("a", synthetic_columns([0], 3, indices=range(5)))
    writer.write_shard("b", synthetic_columns([1], 4, indices=range(5)))
    with pytest.raises(TableError, match=r"different lengths \[3, 4\]"):
        _finalize(writer)


# -- broken tables ------------------------------------------------------------------------


def test_unknown_name_and_missing_folder(tables_root, small_table_dir, tmp_path):
    with pytest.raises(UnknownNameError, match="'nope'") as info:
        load_table("nope", [tables_root])
    assert "synth-small" in str(info.value)  # the message lists what was found
    with pytest.raises(TableError, match="missing manifest.json"):
        read_table(tmp_path / "does-not-exist")


def test_missing_manifest(small_table_dir, copy_table):
    folder = copy_table(small_table_dir)
    (folder / "manifest.json").unlink()
    with pytest.raises(TableError, match="missing manifest.json"):
        read_table(folder)
    with pytest.raises(TableError, match="missing manifest.json"):
        load_table(folder)


def test_manifest_not_json(small_table_dir, copy_table):
    folder = copy_table(small_table_dir)
    (folder / "manifest.json").write_text("{ not json")
    with pytest.raises(TableError, match="not valid JSON"):
        read_table(folder)
    (folder / "manifest.json").write_text("[1, 2]")
    with pytest.raises(TableError, match="expected a JSON object"):
        read_table(folder)


@pytest.mark.parametrize("field", ["seeds", "files", "epochs", "schema_version", "name", "rows"])
def test_manifest_missing_field(small_table_dir, copy_table, edit_manifest, field):
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data.pop(field))
    with pytest.raises(TableError, match=f"missing field '{field}'"):
        read_table(folder)


def test_manifest_unknown_field_and_bad_file_entry(small_table_dir, copy_table, edit_manifest):
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data.update(colour="blue"))
    with pytest.raises(TableError, match="unknown field 'colour'"):
        read_table(folder)
    folder = copy_table(small_table_dir, "bad-entry")
    edit_manifest(folder, lambda data: data["files"][0].pop("sha256"))
    with pytest.raises(TableError, match="bad entry in 'files'"):
        read_table(folder)


@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", "six"),
        ("rows", "many"),
        ("seeds", [1, 0]),
    ],
)
def test_manifest_values_of_the_wrong_type_or_order(small_table_dir, small_table, copy_table, edit_manifest, field, value):
    """A hand-edited manifest either loads correctly or fails with a TableError; it never
    crashes with a bare Python/Arrow exception or mislabels rows."""
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data.update({field: value}))
    try:
        table = read_table(folder)
    except TableError:
        return
    for seed in (0, 1):
        np.testing.assert_array_equal(table.lookup(table.indices, seed=seed), small_table.lookup(table.indices, seed=seed))


def test_wrong_schema_version(small_table_dir, copy_table, edit_manifest):
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data.update(schema_version=SCHEMA_VERSION + 1))
    with pytest.raises(TableError, match=f"schema_version {SCHEMA_VERSION + 1} is not supported"):
        read_table(folder)


def test_unknown_space(small_table_dir, copy_table, edit_manifest):
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data.update(space="nb999"))
    with pytest.raises(TableError, match="unknown space 'nb999'"):
        read_table(folder)


def test_missing_parquet_file(small_table_dir, copy_table):
    folder = copy_table(small_table_dir)
    (folder / "data" / "seed-1.parquet").unlink()
    with pytest.raises(TableError, match="missing file data/seed-1.parquet"):
        read_table(folder)


def test_corrupt_parquet(small_table_dir, copy_table, monkeypatch):
    monkeypatch.setenv("NASBENCH_CACHE", "off")  # unverified loads must decode the file itself
    folder = copy_table(small_table_dir)
    shard = folder / "data" / "seed-0.parquet"
    size = shard.stat().st_size
    shard.write_bytes(b"\x00" * size)
    with pytest.raises(TableError, match="checksum mismatch for data/seed-0.parquet"):
        read_table(folder)
    with pytest.raises(TableError, match="data/seed-0.parquet is not a readable Parquet file"):
        read_table(folder, verify=False)


def test_checksum_mismatch_after_appending_a_byte(small_table_dir, copy_table):
    folder = copy_table(small_table_dir)
    with open(folder / "data" / "seed-1.parquet", "ab") as handle:
        handle.write(b"\x01")
    with pytest.raises(TableError, match="checksum mismatch for data/seed-1.parquet"):
        read_table(folder)


def test_missing_column(small_table_dir, copy_table, read_shard, rewrite_shard):
    folder = copy_table(small_table_dir)
    rewrite_shard(folder, "seed-0", read_shard(folder, "seed-0").drop_columns(["valid_acc"]))
    with pytest.raises(TableError, match="missing column 'valid_acc'"):
        read_table(folder)


def test_wrong_column_type(small_table_dir, copy_table, read_shard, rewrite_shard):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-0")
    position = shard.schema.get_field_index("params")
    shard = shard.set_column(position, pa.field("params", pa.int32()), shard["params"].cast(pa.int32()))
    rewrite_shard(folder, "seed-0", shard)
    with pytest.raises(TableError, match="column 'params' has type int32, expected int64"):
        read_table(folder)


def test_wrong_curve_type(small_table_dir, copy_table, read_shard, rewrite_shard):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-1")
    position = shard.schema.get_field_index("test_acc")
    doubles = pa.list_(pa.float64())
    shard = shard.set_column(position, pa.field("test_acc", doubles), shard["test_acc"].cast(doubles))
    rewrite_shard(folder, "seed-1", shard)
    with pytest.raises(TableError, match="column 'test_acc' has type list<.*double>"):
        read_table(folder)


def test_unexpected_column(small_table_dir, copy_table, read_shard, rewrite_shard):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-0")
    rewrite_shard(folder, "seed-0", shard.append_column("colour", pa.array(["red"] * shard.num_rows)))
    with pytest.raises(TableError, match="unexpected column 'colour'"):
        read_table(folder)


def test_latency_columns_differ_from_manifest(small_table_dir, copy_table, edit_manifest):
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data.update(latency_devices=["synthetic-cpu-b1"]))
    with pytest.raises(TableError, match="latency columns"):
        read_table(folder)


def test_duplicate_rows(small_table_dir, copy_table, read_shard, rewrite_shard):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-1")
    rewrite_shard(folder, "seed-1", pa.concat_tables([shard, shard.slice(7, 1)]))
    with pytest.raises(TableError, match="duplicate row for arch_index 7 seed 1"):
        read_table(folder)


def test_row_count_mismatch(small_table_dir, copy_table, edit_manifest):
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data["files"][0].update(rows=data["files"][0]["rows"] + 1))
    with pytest.raises(TableError, match="seed-0.parquet has 200 rows, manifest says 201"):
        read_table(folder)
    folder = copy_table(small_table_dir, "total")
    edit_manifest(folder, lambda data: data.update(rows=999))
    with pytest.raises(TableError, match="400 rows, manifest says 999"):
        read_table(folder)


def test_seeds_and_curve_lengths_must_match_manifest(small_table_dir, copy_table, edit_manifest):
    folder = copy_table(small_table_dir)
    edit_manifest(folder, lambda data: data.update(seeds=[0, 1, 2]))
    with pytest.raises(TableError, match=r"seeds \[0, 1\] differ from manifest \[0, 1, 2\]"):
        read_table(folder)
    folder = copy_table(small_table_dir, "epochs")
    edit_manifest(folder, lambda data: data.update(epochs=7))
    with pytest.raises(TableError, match="curves whose length is not 7"):
        read_table(folder)


def test_arch_index_outside_the_space(small_table_dir, copy_table, read_shard, refinalize, set_column):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-0")
    index = shard["arch_index"].to_numpy().copy()
    index[3] = 15_625
    refinalize(folder, "seed-0", set_column(shard, "arch_index", index))
    with pytest.raises(TableError, match="arch_index 15625 is outside the nb201 space"):
        read_table(folder)


# -- deep verification --------------------------------------------------------------------


def _tamper(shard: pa.Table, set_column, name: str, row: int, value) -> pa.Table:
    column = shard[name].to_pylist()
    column[row] = value
    return set_column(shard, name, column)


@pytest.mark.parametrize(
    "column, value, problem",
    [
        ("arch_str", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "does not match arch_index 5"),
        ("arch_hash", "0" * 32, "arch_hash of arch_index 5 is not its canonical hash"),
        ("trained_as", 15_000, "trained_as names an architecture that is not in the table"),
    ],
)
def test_verify_table_finds_tampering(
    small_table_dir, copy_table, read_shard, refinalize, set_column, column, value, problem
):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-0")
    row = int(np.flatnonzero(shard["arch_index"].to_numpy() == 5)[0])
    refinalize(folder, "seed-0", _tamper(shard, set_column, column, row, value))
    table = read_table(folder)  # checksums, schema and value ranges are valid: only verify can tell
    problems = verify_table(table)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "column, value, problem",
    [
        ("valid_acc", [50.0, 60.0, 70.0, 80.0, 90.0, 101.0], "epoch 6: 101.0 is outside its range (must be at least 0 and at most 100)"),
        ("valid_acc", [50.0, 60.0, float("inf"), 80.0, 90.0, 91.0], "epoch 3: inf is not a finite number"),
        ("test_acc", [50.0, float("nan"), 70.0, 80.0, 90.0, 91.0], "epoch 2: nan is not a finite number"),
        ("train_loss", [1.0, 1.0, 1.0, 1.0, 1.0, -0.5], "epoch 6: -0.5 is outside its range (must be at least 0)"),
        ("epoch_seconds", [1.0, 1.0, 0.0, 1.0, 1.0, 1.0], "epoch 3: 0.0 is outside its range (must be above 0)"),
        ("epoch_seconds", [1.0, 1.0, float("nan"), 1.0, 1.0, 1.0], "epoch 3: nan is not a finite number"),
        ("params", -1, "-1.0 is outside its range (must be at least 0)"),
        ("latency_synthetic-cpu-b1_ms", 0.0, "0.0 is outside its range (must be above 0)"),
        ("trained_as", 20_000, "20000 is not an architecture index (0..15624)"),
    ],
)
def test_load_refuses_values_out_of_range_naming_column_file_row_and_cell(
    small_table_dir, copy_table, read_shard, refinalize, set_column, column, value, problem
):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-0")
    row = int(np.flatnonzero(shard["arch_index"].to_numpy() == 5)[0])
    refinalize(folder, "seed-0", _tamper(shard, set_column, column, row, value))
    with pytest.raises(TableError) as caught:
        read_table(folder)
    message = str(caught.value)
    assert f"column {column!r}, data/seed-0.parquet row {row} (arch_index 5, seed 0)" in message and problem in message


def test_load_refuses_a_manifest_named_unlike_its_folder(small_table_dir, tmp_path):
    import shutil

    folder = tmp_path / "other-name"
    shutil.copytree(small_table_dir, folder)
    with pytest.raises(TableError, match=r"folder is named 'other-name'.*set \"name\" in .* to 'other-name'"):
        read_table(folder)


def test_verify_table_finds_trained_as_a_non_isomorphic_cell(small_table_dir, copy_table, read_shard, refinalize, set_column, space):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-0")
    row = int(np.flatnonzero(shard["arch_index"].to_numpy() == 5)[0])
    other = next(i for i in range(200) if space.hash(space.from_index(i)) != space.hash(space.from_index(5)))
    refinalize(folder, "seed-0", _tamper(shard, set_column, "trained_as", row, other))
    problems = verify_table(read_table(folder))
    assert "arch_index 5 is mapped (trained_as) to a non-isomorphic cell" in problems


def test_lookups_on_a_partial_table_do_not_warn(small_table_dir):
    """Absent architectures are NaN by design; asking for present ones must not emit
    numpy's 'Mean of empty slice' RuntimeWarning."""
    small_table = read_table(small_table_dir)  # fresh: nothing cached yet
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = small_table.lookup([0, 1, 2])
        final = small_table.final("valid_acc")
    assert np.isfinite(values).all()
    assert np.isnan(final[200:]).all() and np.isfinite(final[:200]).all()


def test_session_tables_verify_cleanly(full_table, small_table):
    assert verify_table(full_table) == []
    assert verify_table(small_table) == []
    assert full_table.present.all() and full_table.num_rows == 2 * 15_625
    np.testing.assert_array_equal(small_table.indices, np.arange(200))


def test_shipped_synthetic_table_verifies():
    table = load_table("synthetic-nb201")
    assert table.manifest.synthetic is True
    assert verify_table(table) == []


# -- atomic writes ------------------------------------------------------------------------


def _temporaries(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_write_shard_leaves_no_temporary_files(tmp_path, tiny_columns):
    writer = TableWriter(tmp_path / "t", latency_devices=LATENCY_DEVICES)
    path = writer.write_shard("all", tiny_columns)
    assert path == tmp_path / "t" / "data" / "all.parquet" and path.is_file()
    assert _temporaries(path.parent) == []
    _finalize(writer)
    assert _temporaries(tmp_path / "t") == []


def test_failed_write_leaves_no_partial_file(tmp_path, tiny_columns, monkeypatch):
    writer = TableWriter(tmp_path / "t", latency_devices=LATENCY_DEVICES)
    writer.write_shard("kept", tiny_columns)
    kept = sha256_file(writer.shard_path("kept"))

    def half_write(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a shard")
        raise OSError("disk full")

    monkeypatch.setattr(writer_module.pq, "write_table", half_write)
    with pytest.raises(OSError, match="disk full"):
        writer.write_shard("new", tiny_columns)
    with pytest.raises(OSError, match="disk full"):
        writer.write_shard("kept", tiny_columns)  # overwriting keeps the old, whole file
    data = tmp_path / "t" / "data"
    assert not writer.shard_path("new").exists()
    assert sha256_file(writer.shard_path("kept")) == kept
    assert sorted(os.listdir(data)) == ["kept.parquet"]


def test_write_shard_validates_before_writing(tmp_path, tiny_columns):
    writer = TableWriter(tmp_path / "t", latency_devices=LATENCY_DEVICES)
    bad = to_arrow(tiny_columns, LATENCY_DEVICES).drop_columns(["seed"])
    with pytest.raises(TableError, match="missing column 'seed'"):
        writer.write_shard("bad", bad)
    assert not writer.shard_path("bad").exists()


# -- the catalog --------------------------------------------------------------------------


def test_catalog_via_environment(tables_root, monkeypatch, small_table_dir):
    assert "synth-small" not in list_tables()
    monkeypatch.setenv("NASBENCH_TABLES", os.pathsep.join(["/nonexistent-folder", str(tables_root)]))
    found = list_tables()
    assert found["synth-small"] == small_table_dir
    assert "synthetic-nb201" in found  # the shipped tables come last
    assert table_dirs()[:2] == [Path("/nonexistent-folder"), tables_root]
    assert load_table("synth-small").name == "synth-small"


def test_catalog_via_explicit_dirs(tables_root, small_table_dir, full_table_dir):
    found = list_tables([tables_root])
    assert found["synth-small"] == small_table_dir and found["synth-full"] == full_table_dir
    assert resolve_table("synth-full", [tables_root]) == full_table_dir
    assert resolve_table(small_table_dir) == small_table_dir  # a folder path works directly
    assert load_table("synth-small", [tables_root], verify=False).num_rows == 400


def test_catalog_first_folder_wins(tmp_path, small_table_dir):
    first, second = tmp_path / "a", tmp_path / "b"
    for root in (first, second):
        root.mkdir()
        (root / "same").symlink_to(small_table_dir, target_is_directory=True)
    assert list_tables([second, first])["same"] == second / "same"
    assert table_dirs([second, first])[:2] == [second, first]


def test_resolve_folder_without_manifest(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(TableError, match="missing manifest.json"):
        resolve_table(tmp_path / "empty")


def test_manifest_json_is_sorted_and_complete(tiny):
    data = json.loads((tiny[0] / "manifest.json").read_text())
    assert list(data) == sorted(data)
    assert set(data) == set(Manifest.__dataclass_fields__)


# -- identity ------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def test_identity_ignores_versions_description_and_provenance(tiny):
    folder, manifest, _ = tiny
    changed = dataclasses.replace(
        manifest, versions={"nasbench": "99", "numpy": "0.1"}, description="reworded", name="renamed",
        dataset={"name": "other label"}, generator={"name": "g", "version": "2"},
    )
    assert changed.sha256 == manifest.sha256
    assert changed.legacy_sha256 != manifest.legacy_sha256  # the old whole-manifest hash did change
    assert manifest.matches(manifest.sha256) and manifest.matches(manifest.legacy_sha256)
    assert manifest.matches(manifest.sha256.upper())
    assert not manifest.matches(changed.legacy_sha256) and not manifest.matches("0" * 64)
    for field, value in [("schema_version", 2), ("synthetic", False), ("epochs", 5), ("seeds", [0]),
                         ("latency_devices", [])]:
        assert dataclasses.replace(manifest, **{field: value}).sha256 != manifest.sha256, field


def test_identity_changes_when_a_shard_changes(small_table_dir, copy_table, read_shard, refinalize, set_column):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-1")
    before = refinalize(folder, "seed-1", shard)
    assert refinalize(folder, "seed-1", shard).sha256 == before.sha256  # same bytes, same identity
    tampered = refinalize(folder, "seed-1", set_column(shard, "params", shard["params"].to_numpy() + 1))
    assert tampered.files[0] == before.files[0] and tampered.files[1].sha256 != before.files[1].sha256
    assert tampered.sha256 != before.sha256 and not read_table(folder).matches(before.sha256)


def test_shipped_result_files_still_name_their_tables():
    entries = sorted((REPO / "leaderboard" / "entries").glob("*/*.json"))
    assert entries
    for path in entries:
        cited = json.loads(path.read_text())
        manifest = Manifest.read(REPO / "tables" / cited["table"])
        assert manifest.matches(cited["table_sha256"]), path
        assert cited_identity(cited["table"], cited["table_sha256"]) == manifest.sha256


def test_compare_sees_legacy_and_identity_citations_as_one_table(full_table, tables_root):
    from nasbench.oracle import Budget
    from nasbench.study import run_study
    from strategies import RandomSearch

    new = run_study(RandomSearch, full_table, Budget(queries=10), seeds=range(2))
    old = dataclasses.replace(new, table_sha256=full_table.legacy_sha256)
    identities = [cited_identity(r.table, r.table_sha256, [tables_root]) for r in (new, old)]
    assert identities == [full_table.sha256] * 2
    assert "different tables" not in compare_report([new, old], ["new", "old"], identities)
    assert "different tables" in compare_report([new, old], ["new", "old"])  # without the mapping
    assert cited_identity("synth-full", "f" * 64, [tables_root]) == "f" * 64  # not this table: unchanged
    assert cited_identity("no-such-table", full_table.sha256, [tables_root]) == full_table.sha256
