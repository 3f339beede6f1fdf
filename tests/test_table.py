"""Table I/O: writer, manifest, reader, lookups and atomic writes, on a tiny table written with
TableWriter (broken tables: test_table_broken.py; catalog and cited identity: test_table_catalog.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import nasbench.table.writer as writer_module
from nasbench.atomic import sha256_file
from nasbench.errors import InvalidArchitectureError, OutOfDomainError, TableError, UnknownNameError
from nasbench.table import CURVE_COLUMNS, SCHEMA_VERSION, Manifest, TableWriter, arrow_schema, read_table, verify_table
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


def test_manifest_json_is_sorted_and_complete(tiny):
    data = json.loads((tiny[0] / "manifest.json").read_text())
    assert list(data) == sorted(data)
    assert set(data) == set(Manifest.__dataclass_fields__)


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
