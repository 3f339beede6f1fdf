"""Never a wrong answer: bad values and bad manifests are refused at load, naming what is wrong,
and a broken table does not hide the others (issue 11, group 1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from clitools import assert_user_error

from nasbench.errors import TableError
from nasbench.oracle import Budget
from nasbench.table import read_table


def _edit_manifest(folder: Path, **fields) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(fields)
    path.write_text(json.dumps(data), encoding="utf-8")


def _tampered(copy_table, small_table_dir, read_shard, refinalize, set_column, column, value, name="tampered"):
    folder = copy_table(small_table_dir, name)
    shard = read_shard(folder, "seed-0")
    values = shard[column].to_pylist()
    values[7] = value
    refinalize(folder, "seed-0", set_column(shard, column, values))
    return folder


@pytest.mark.parametrize("field, value, message", [
    ("dataset", 5, "field 'dataset' must be a JSON object, got 5"),
    ("generator", [], "field 'generator' must be a JSON object"),
    ("name", 3, "field 'name' must be a non-empty string, got 3"),
    ("space", "", "field 'space' must be a non-empty string"),
    ("files", {"a": 1}, "field 'files' must be a list"),
    ("files", [7], "files[0]: expected a JSON object, got 7"),
    ("files", [{"path": "../x.parquet", "rows": 1, "sha256": "0" * 64}], "files[0]: 'path' must be a relative path"),
    ("files", [{"path": "x.parquet", "rows": -1, "sha256": "0" * 64}], "files[0]: 'rows' must be a non-negative integer"),
    ("files", [{"path": "x.parquet", "rows": 1, "sha256": "xyz"}], "files[0]: 'sha256' must be 64 lowercase hex digits"),
])
def test_a_mistyped_manifest_field_is_one_line_naming_it(small_table_dir, copy_table, field, value, message):
    folder = copy_table(small_table_dir)
    _edit_manifest(folder, **{field: value})
    with pytest.raises(TableError, match=None) as caught:
        read_table(folder)
    assert message in str(caught.value)


def test_tables_list_reports_a_broken_table_on_its_own_line_and_lists_the_rest(cli, small_table_dir, tables_root):
    broken, misnamed = tables_root / "zz-broken", tables_root / "zz-misnamed"
    for folder in (broken, misnamed):
        shutil.copytree(small_table_dir, folder)
    try:
        _edit_manifest(broken, name="zz-broken", dataset=5)
        status, out, err = cli("tables", "list")
    finally:
        shutil.rmtree(broken)
        shutil.rmtree(misnamed)
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert status == 0 and "Traceback" not in out + err
    assert {"synth-full", "synth-small"} <= set(rows)
    assert "broken:" in rows["zz-broken"] and "field 'dataset' must be a JSON object" in rows["zz-broken"]
    assert "broken:" in rows["zz-misnamed"] and "its manifest names it 'synth-small'" in rows["zz-misnamed"]


def test_query_and_run_refuse_an_accuracy_of_150(cli, small_table_dir, copy_table, read_shard, refinalize, set_column):
    folder = _tampered(copy_table, small_table_dir, read_shard, refinalize, set_column, "valid_acc",
                       [50.0, 60.0, 70.0, 80.0, 90.0, 150.0])
    expected = ("table 'tampered': column 'valid_acc', data/seed-0.parquet row 7", "150.0 is outside its range")
    assert_user_error(cli("query", "--table", folder, "3"), *expected)
    assert_user_error(cli("run", "random", "--table", folder, "--budget", "10", "--seeds", "2"), *expected)
    status, out, _ = cli("tables", "verify", folder)
    assert status == 1 and out.startswith("FAIL tampered:") and "150.0 is outside its range" in out


def test_budget_arithmetic_cannot_stall_on_a_nan_duration(small_table_dir, copy_table, read_shard, refinalize,
                                                         set_column, monkeypatch):
    """Even a table that got past the load checks (here: they are switched off) cannot make a
    seconds budget loop forever: the oracle refuses a NaN cost."""
    from nasbench.oracle import Oracle
    from nasbench.table import values

    folder = _tampered(copy_table, small_table_dir, read_shard, refinalize, set_column, "epoch_seconds",
                       [1.0, 1.0, 1.0, 1.0, 1.0, float("nan")])
    monkeypatch.setattr(values, "check_values", lambda *args: None)
    monkeypatch.setenv("NASBENCH_CACHE", "off")
    table = read_table(folder)
    arch = int(read_shard(folder, "seed-0")["arch_index"][7].as_py())
    assert np.isnan(table.curve("epoch_seconds")[arch, 0, -1])
    oracle = Oracle(table, Budget(seconds=1e9), rng=0)
    with pytest.raises(TableError, match=f"architecture {arch}: training seconds nan are not a non-negative number"):
        for _ in range(64):  # the oracle samples seed 0 (the tampered one) about every other query
            oracle.evaluate(arch)


@pytest.mark.parametrize("name", ["random", "evolution", "local-search", "bananas", "bohb", "hyperband", "reinforce"])
def test_every_strategy_searches_a_partial_table_within_its_recorded_cells(small_table, name):
    from nasbench.study import run_study
    from strategies import get_strategy

    result = run_study(get_strategy(name), small_table, Budget(queries=60), [0, 1])
    for run in result.runs:
        assert len(run.trajectory) > 0 and small_table.present[run.trajectory.indices].all()


def test_a_subset_space_keeps_indices_and_samples_mutates_within_the_domain(space):
    from nasbench.spaces.subset import SubsetSpace

    domain = np.arange(0, 15625, 7)
    subset = SubsetSpace(space, domain)
    rng = np.random.default_rng(0)
    drawn = [subset.index(subset.sample(rng)) for _ in range(500)]
    assert set(drawn) <= set(domain.tolist()) and len(set(drawn)) > 400
    arch = subset.from_index(7)
    assert subset.index(arch) == 7 and str(arch) == str(space.from_index(7)) and subset.index_of(str(arch)) == 7
    for _ in range(200):
        child = subset.mutate(arch, rng)
        assert child != arch and subset.index(child) % 7 == 0
    assert all(subset.index(n) % 7 == 0 for n in subset.neighbours(arch))
    assert subset.allows(14) and not subset.allows(15)
    assert np.array_equal(subset.encode([arch], "onehot"), space.encode([arch], "onehot"))
