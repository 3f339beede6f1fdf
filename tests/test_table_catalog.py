"""Finding tables (the catalog: --tables-dir, $NASBENCH_TABLES, shipped tables) and the table
identity that result files cite (a shard change changes it; legacy citations still match)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from nasbench.errors import TableError
from nasbench.report import compare_report
from nasbench.table import Manifest, cited_identity, list_tables, load_table, read_table, resolve_table, table_dirs

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


# -- identity ------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def test_identity_changes_when_a_shard_changes(small_table_dir, copy_table, read_shard, refinalize, set_column):
    folder = copy_table(small_table_dir)
    shard = read_shard(folder, "seed-1")
    before = refinalize(folder, "seed-1", shard)
    assert refinalize(folder, "seed-1", shard).sha256 == before.sha256  # same bytes, same identity
    tampered = refinalize(folder, "seed-1", set_column(shard, "params", shard["params"].to_numpy() + 1))
    assert tampered.files[0] == before.files[0] and tampered.files[1].sha256 != before.files[1].sha256
    assert tampered.sha256 != before.sha256 and not read_table(folder).matches(before.sha256)


def test_shipped_result_files_still_name_their_tables():
    entries = [p for p in sorted((REPO / "leaderboard" / "entries").glob("*/*.json"))
               if json.loads(p.read_text()).get("format") == "nasbench.study/1"]  # baselines.sh's result files
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
