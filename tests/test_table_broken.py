"""Every way a table folder can be broken, and deep verification: a broken or tampered table
is a TableError naming the file, column, row or field (tables copied from the session's
synthetic ones and damaged with the conftest helpers)."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pytest

from nasbench.errors import TableError, UnknownNameError
from nasbench.table import SCHEMA_VERSION, load_table, read_table, verify_table

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
