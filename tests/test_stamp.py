"""Parquet schema metadata (table name, units) on a table's files: written by finalize,
stamped onto tables written before it, and never a change of the table's identity."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import nasbench.table.writer as writer_module
from nasbench.atomic import sha256_file
from nasbench.cli import main
from nasbench.errors import TableError
from nasbench.table import CURVE_COLUMNS, Manifest, read_table, verify_table
from nasbench.table.stamp import (
    TABLE_KEY,
    UNITS_KEY,
    StampedFile,
    nasbench_keys,
    stamp_file,
    stamp_table,
    table_metadata,
    write_parquet,
)
from nasbench.table.synthetic import LATENCY_DEVICES, build_synthetic_table

ARCHS = range(40)


def _unstamped_stamp(path, keys, listed=None) -> StampedFile:
    """What finalize did before files were stamped: checksum the file as written."""
    sha = sha256_file(path)
    return StampedFile(sha, sha, False)


@pytest.fixture
def old_table(tmp_path, monkeypatch) -> Path:
    """A small table written the way TableWriter wrote tables before stamping (like the shipped ones)."""
    with monkeypatch.context() as patch:
        patch.setattr(writer_module, "stamp_file", _unstamped_stamp)
        build_synthetic_table(tmp_path / "old", seeds=(0, 1), epochs=3, indices=ARCHS)
    return tmp_path / "old"


@pytest.fixture
def new_table(tmp_path) -> Path:
    build_synthetic_table(tmp_path / "new", seeds=(0, 1), epochs=3, indices=ARCHS)
    return tmp_path / "new"


def _file_keys(path: Path) -> dict[str, str]:
    return nasbench_keys(pq.read_schema(path).metadata)


def _data(folder: Path) -> list[pa.Table]:
    return [pq.read_table(folder / f.path).replace_schema_metadata(None) for f in Manifest.read(folder).files]


def test_new_files_carry_name_and_units_readable_without_nasbench(new_table):
    manifest = Manifest.read(new_table)
    for info in manifest.files:
        path = new_table / info.path
        meta = pq.read_schema(path).metadata  # plain pyarrow
        assert meta[b"nasbench.table"] == b"new" and meta[b"nasbench.schema_version"] == b"1"
        units = json.loads(meta[b"nasbench.units"])
        assert {units[c] for c in CURVE_COLUMNS if c.endswith("_acc")} == {"percent"}
        assert {units[c] for c in CURVE_COLUMNS if c.endswith("_loss")} == {"nats"}
        assert units["epoch_seconds"] == "seconds" and units["params"] == "count"
        for device in LATENCY_DEVICES:
            assert units[f"latency_{device}_ms"] == units[f"latency_{device}_spread_ms"] == "ms"
        assert "arch_str" not in units and "seed" not in units
        frame = pd.read_parquet(path)
        assert len(frame) == info.rows and list(frame.columns) == pq.read_schema(path).names
    assert verify_table(read_table(new_table)) == []


def test_identity_does_not_depend_on_the_metadata(old_table, new_table, edit_manifest):
    """The same data written with and without stamping has one identity and one legacy hash."""
    old, new = Manifest.read(old_table), Manifest.read(new_table)
    edit_manifest(old_table, lambda data: data.update(name="new"))  # the legacy hash covers the name
    old = Manifest.read(old_table)
    assert [f.unstamped_sha256 for f in old.files] == [None, None]
    assert [f.identity_sha256 for f in new.files] == [f.sha256 for f in old.files]
    assert [f.sha256 for f in new.files] != [f.sha256 for f in old.files]
    assert new.sha256 == old.sha256 and new.legacy_sha256 == old.legacy_sha256


def test_stamping_an_old_table_keeps_its_identity_data_and_legacy_hash(old_table):
    before = Manifest.read(old_table)
    data = _data(old_table)
    assert all(_file_keys(old_table / f.path) == {} for f in before.files)
    manifest, rewritten = stamp_table(old_table)
    assert rewritten == [f.path for f in before.files]
    assert manifest == Manifest.read(old_table)
    assert manifest.sha256 == before.sha256 and manifest.legacy_sha256 == before.legacy_sha256
    for old, new in zip(before.files, manifest.files):
        assert new.unstamped_sha256 == old.sha256 and new.sha256 == sha256_file(old_table / new.path)
        assert _file_keys(old_table / new.path)[TABLE_KEY] == "old"
    assert all(a.equals(b) for a, b in zip(_data(old_table), data))
    table = read_table(old_table)
    assert table.matches(before.sha256) and table.matches(before.legacy_sha256)
    assert verify_table(table) == []
    text = (old_table / "manifest.json").read_text()
    assert stamp_table(old_table) == (manifest, [])  # stamped already: nothing rewritten
    assert (old_table / "manifest.json").read_text() == text


def test_interrupted_stamping_fails_loudly_and_finishes_on_rerun(old_table):
    before = Manifest.read(old_table)
    first = before.files[0]
    keys = table_metadata("old", pq.read_schema(old_table / first.path).names)
    stamp_file(old_table / first.path, keys, listed=first)  # killed before the manifest was written
    with pytest.raises(TableError, match="checksum mismatch"):
        read_table(old_table)
    manifest, rewritten = stamp_table(old_table)
    assert rewritten == [before.files[1].path]
    assert manifest.sha256 == before.sha256 and verify_table(read_table(old_table)) == []


def test_stamping_refuses_a_file_that_does_not_hold_the_listed_data(old_table, read_shard, set_column):
    shard = read_shard(old_table, "seed-1")
    pq.write_table(set_column(shard, "params", shard["params"].to_numpy() + 1), old_table / "data/seed-1.parquet")
    changed = sha256_file(old_table / "data/seed-1.parquet")
    with pytest.raises(TableError, match="seed-1.parquet: checksum mismatch"):
        stamp_table(old_table)
    assert sha256_file(old_table / "data/seed-1.parquet") == changed  # left as it was


def test_verify_finds_a_stamped_file_whose_data_no_longer_matches_the_identity(new_table, read_shard, set_column,
                                                                             edit_manifest):
    """A file rewritten with its metadata kept and only ``sha256`` updated loads, but verify sees it."""
    path = new_table / "data/seed-0.parquet"
    shard = read_shard(new_table, "seed-0")
    changed = set_column(shard, "flops", shard["flops"].to_numpy() + 1)
    assert nasbench_keys(changed.schema.metadata)[TABLE_KEY] == "new"
    write_parquet(changed, path)

    def point_at_new_bytes(data: dict) -> None:
        data["files"][0]["sha256"] = sha256_file(path)

    edit_manifest(new_table, point_at_new_bytes)
    problems = verify_table(read_table(new_table))
    expected = ("data/seed-0.parquet: its bytes without nasbench metadata do not hash to its "
                "unstamped_sha256 (the table's identity does not name this data)")
    assert problems == [expected]


def test_renamed_table_is_flagged_and_restamped_without_a_new_identity(new_table, edit_manifest):
    before = Manifest.read(new_table)
    new_table = new_table.rename(new_table.with_name("renamed"))  # a table is renamed with its folder
    edit_manifest(new_table, lambda data: data.update(name="renamed"))
    problems = verify_table(read_table(new_table))
    assert len(problems) == 2 and "is stamped as table 'new', its manifest names 'renamed'" in problems[0]
    manifest, rewritten = stamp_table(new_table)
    assert len(rewritten) == 2 and manifest.sha256 == before.sha256
    assert {_file_keys(new_table / f.path)[TABLE_KEY] for f in manifest.files} == {"renamed"}
    assert verify_table(read_table(new_table)) == []


def test_cli_stamp(old_table, capsys):
    before = Manifest.read(old_table)
    assert main(["tables", "stamp", str(old_table)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (f"stamped old: rewrote 2 of 2 files; identity {before.sha256[:16]} and manifest "
                           f"sha256 {before.legacy_sha256[:16]} unchanged")
    assert main(["tables", "stamp", str(old_table)]) == 0
    assert "rewrote 0 of 2 files" in capsys.readouterr().out
    assert main(["tables", "verify", str(old_table)]) == 0
    units = json.loads(_file_keys(old_table / before.files[0].path)[UNITS_KEY])
    assert units["valid_acc"] == "percent"


def test_shipped_tables_are_stamped():
    """The shipped tables carry the metadata; their identities are those results cite."""
    root = Path(__file__).resolve().parents[1] / "tables"
    for name in ("nb201-digits", "nb201-mnist1d", "synthetic-nb201"):
        manifest = Manifest.read(root / name)
        for info in manifest.files:
            assert info.unstamped_sha256 is not None, (name, info.path)
            assert _file_keys(root / name / info.path)[TABLE_KEY] == name


def test_old_manifests_read_back_byte_for_byte(old_table):
    text = (old_table / "manifest.json").read_text()
    manifest = Manifest.read(old_table)
    assert manifest.to_json() == text and "unstamped_sha256" not in text
    assert dataclasses.replace(manifest).legacy_sha256 == manifest.legacy_sha256
