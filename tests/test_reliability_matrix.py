"""The corrupted-table matrix: each fault, met by load, query, run and verify (issue 11, group 6).

Every fault must be refused the same way everywhere: ``read_table`` raises TableError, ``query``
and ``run`` print one line and exit 2, ``tables verify`` prints a FAIL line and exits 1. None
may answer (exit 0) or crash with a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from clitools import assert_user_error

from nasbench.atomic import sha256_file
from nasbench.errors import TableError
from nasbench.table import read_table


def _manifest(folder: Path, change: Callable[[dict], None]) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _resign(folder: Path, shard: str) -> None:
    digest = sha256_file(folder / "data" / f"{shard}.parquet")

    def change(data: dict) -> None:
        for entry in data["files"]:
            if entry["path"] == f"data/{shard}.parquet":
                entry["sha256"], entry["unstamped_sha256"] = digest, None
        data["files"] = [{k: v for k, v in e.items() if v is not None} for e in data["files"]]

    _manifest(folder, change)


def _value(column: str, value: object) -> Callable:
    def apply(folder, fx) -> None:
        shard = fx.read_shard(folder, "seed-0")
        values = shard[column].to_pylist()
        values[3] = value
        fx.refinalize(folder, "seed-0", fx.set_column(shard, column, values))
    return apply


def _append(path: Path) -> None:
    with open(path, "ab") as handle:
        handle.write(b"x")


def _truncate(folder, fx) -> None:
    path = folder / "data" / "seed-1.parquet"
    path.write_bytes(path.read_bytes()[:200])
    _resign(folder, "seed-1")


def _duplicate_row(folder, fx) -> None:
    shard = fx.read_shard(folder, "seed-0")
    fx.rewrite_shard(folder, "seed-0", pa.concat_tables([shard, shard.slice(0, 1)]))


FAULTS = {  # name -> (how to break a copy of synth-small, what every refusal says)
    "checksum": (lambda f, fx: _append(f / "data" / "seed-1.parquet"), "checksum mismatch"),
    "missing file": (lambda f, fx: (f / "data" / "seed-1.parquet").unlink(), "missing file data/seed-1.parquet"),
    "truncated parquet": (_truncate, "data/seed-1.parquet is not a readable Parquet file"),
    "manifest not JSON": (lambda f, fx: (f / "manifest.json").write_text("{"), "not valid JSON"),
    "manifest field mistyped": (lambda f, fx: _manifest(f, lambda d: d.update(dataset=5)),
                                "field 'dataset' must be a JSON object"),
    "schema version": (lambda f, fx: _manifest(f, lambda d: d.update(schema_version=99)),
                       "schema_version 99 is not supported"),
    "name unlike folder": (lambda f, fx: _manifest(f, lambda d: d.update(name="elsewhere")),
                           "its folder is named 'faulty'"),
    "accuracy 150": (_value("valid_acc", [50.0, 60.0, 70.0, 80.0, 90.0, 150.0]), "150.0 is outside its range"),
    "NaN test accuracy": (_value("test_acc", [50.0, 60.0, 70.0, 80.0, 90.0, float("nan")]),
                          "column 'test_acc'"),
    "inf validation accuracy": (_value("valid_acc", [50.0, 60.0, 70.0, 80.0, 90.0, float("inf")]),
                                "inf is not a finite number"),
    "NaN seconds": (_value("epoch_seconds", [1.0, 1.0, float("nan"), 1.0, 1.0, 1.0]), "column 'epoch_seconds'"),
    "negative params": (_value("params", -5), "column 'params'"),
    "duplicate row": (_duplicate_row, "duplicate row for arch_index"),
}


class Fixtures:
    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


@pytest.fixture
def faulty(request, small_table_dir, copy_table, read_shard, refinalize, set_column, rewrite_shard) -> Path:
    folder = copy_table(small_table_dir, "faulty")
    read_table(folder)  # a load cache exists for the healthy table: the fault must not hide behind it
    apply, _ = FAULTS[request.param]
    apply(folder, Fixtures(read_shard=read_shard, refinalize=refinalize, set_column=set_column,
                           rewrite_shard=rewrite_shard))
    return folder


@pytest.mark.parametrize("faulty", list(FAULTS), indirect=True)
def test_every_fault_is_refused_by_load_query_run_and_verify(faulty, request, cli):
    message = FAULTS[request.node.callspec.params["faulty"]][1]
    with pytest.raises(TableError, match=None) as caught:
        read_table(faulty)
    assert message in str(caught.value)
    assert_user_error(cli("query", "--table", faulty, "3"), message)
    assert_user_error(cli("run", "random", "--table", faulty, "--budget", "5", "--seeds", "2"), message)
    status, out, err = cli("tables", "verify", faulty)
    assert status == 1 and "Traceback" not in out + err
    assert out.startswith("FAIL faulty:") and message in out
