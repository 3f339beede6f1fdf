"""Shared fixtures: small SYNTHETIC tables built once per session with the project's own
builder, copies that tests may corrupt, and helpers that rewrite shards consistently."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nasbench.atomic import sha256_file
from nasbench.datasets import Dataset, load_dataset
from nasbench.spaces import NB201Space, get_space
from nasbench.table import Manifest, Table, TableWriter, read_table
from nasbench.table.synthetic import build_synthetic_table

FULL_SEEDS = (0, 1)
FULL_EPOCHS = 6
SMALL_ARCHS = 200


@pytest.fixture(scope="session", autouse=True)
def load_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's table load cache, set before any fixture loads a table (tests never
    write to the user's ~/.cache)."""
    root = tmp_path_factory.mktemp("load-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NASBENCH_CACHE", str(root))
        yield root


@pytest.fixture(autouse=True)
def _no_tables_env(monkeypatch: pytest.MonkeyPatch, load_cache_root: Path) -> None:
    """Tests never see tables from the caller's $NASBENCH_TABLES, nor the caller's load cache."""
    monkeypatch.delenv("NASBENCH_TABLES", raising=False)
    monkeypatch.setenv("NASBENCH_CACHE", str(load_cache_root))


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One intra-op torch thread, as in a generator worker (two threads on a busy machine
    are many times slower for these tiny nets); the caller's setting is restored."""
    import torch  # only the torch tests ask for this fixture

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits() -> Dataset:
    """The first 320 training and 200 valid/test digits (keeps training tests fast)."""
    return load_dataset("digits").head(320, 200)


@pytest.fixture(scope="module")
def mnist1d() -> Dataset:
    """The first 256 training and 200 valid/test MNIST-1D examples."""
    return load_dataset("mnist1d").head(256, 200)


@pytest.fixture(scope="session")
def space() -> NB201Space:
    return get_space("nb201")


@pytest.fixture(scope="session")
def tables_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the session's tables ``synth-full`` and ``synth-small``."""
    return tmp_path_factory.mktemp("tables")


@pytest.fixture(scope="session")
def full_table_dir(tables_root: Path) -> Path:
    """All 15,625 architectures, seeds 0 and 1, 6 epochs."""
    folder = tables_root / "synth-full"
    build_synthetic_table(folder, seeds=FULL_SEEDS, epochs=FULL_EPOCHS)
    return folder


@pytest.fixture(scope="session")
def small_table_dir(tables_root: Path) -> Path:
    """Architectures 0..199 only, seeds 0 and 1, 6 epochs."""
    folder = tables_root / "synth-small"
    build_synthetic_table(folder, seeds=FULL_SEEDS, epochs=FULL_EPOCHS, indices=range(SMALL_ARCHS))
    return folder


@pytest.fixture
def cli(tables_root: Path, full_table_dir: Path, small_table_dir: Path, capsys: pytest.CaptureFixture) -> Callable:
    """Run ``nasbench --tables-dir <session tables> ARGS``; returns (status, stdout, stderr)."""
    from nasbench.cli import main

    def _run(*args: str) -> tuple[int, str, str]:
        status = main(["--tables-dir", str(tables_root), *map(str, args)])
        out, err = capsys.readouterr()
        return status, out, err

    return _run


@pytest.fixture(scope="session")
def full_table(full_table_dir: Path) -> Table:
    return read_table(full_table_dir)


@pytest.fixture(scope="session")
def small_table(small_table_dir: Path) -> Table:
    return read_table(small_table_dir)


@pytest.fixture
def copy_table(tmp_path: Path) -> Callable[..., Path]:
    """Copy a table folder into this test's tmp_path (safe to corrupt)."""

    def _copy(source: Path, name: str | None = None) -> Path:
        """A copy named ``name`` has that name in its manifest too (loads refuse a folder whose
        name differs from its manifest's); the name is not part of the table's identity."""
        target = tmp_path / "copies" / (name or source.name)
        shutil.copytree(source, target)
        if name is not None and name != source.name:
            manifest = _load_manifest_json(target)
            manifest["name"] = name
            (target / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                                  encoding="utf-8")
        return target

    return _copy


def _load_manifest_json(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def edit_manifest() -> Callable[[Path, Callable[[dict], None]], None]:
    """Apply ``change(data)`` to a folder's manifest.json (written back as JSON)."""

    def _edit(folder: Path, change: Callable[[dict], None]) -> None:
        data = _load_manifest_json(folder)
        change(data)
        (folder / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")

    return _edit


@pytest.fixture
def rewrite_shard() -> Callable[[Path, str, pa.Table], None]:
    """Write ``table`` over a shard with plain pyarrow (no schema check) and update the
    manifest's sha256 and row counts so that only the content is wrong."""

    def _rewrite(folder: Path, shard: str, table: pa.Table) -> None:
        path = folder / "data" / f"{shard}.parquet"
        pq.write_table(table, path)
        data = _load_manifest_json(folder)
        for entry in data["files"]:
            if entry["path"] == f"data/{shard}.parquet":
                entry["sha256"] = sha256_file(path)
                entry["rows"] = table.num_rows
        data["rows"] = sum(entry["rows"] for entry in data["files"])
        (folder / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")

    return _rewrite


@pytest.fixture
def read_shard() -> Callable[[Path, str], pa.Table]:
    def _read(folder: Path, shard: str) -> pa.Table:
        return pq.read_table(folder / "data" / f"{shard}.parquet")

    return _read


@pytest.fixture
def refinalize() -> Callable[[Path, str, pa.Table], Manifest]:
    """Write a (tampered) shard through TableWriter and re-finalize the table properly,
    so checksums, schema and layout are all valid."""

    def _refinalize(folder: Path, shard: str, table: pa.Table) -> Manifest:
        old = Manifest.read(folder)
        writer = TableWriter(folder, latency_devices=old.latency_devices)
        writer.write_shard(shard, table)
        return writer.finalize(
            name=old.name,
            space=old.space,
            description=old.description,
            dataset=old.dataset,
            generator=old.generator,
            synthetic=old.synthetic,
            versions=old.versions,
            shards=[Path(info.path).stem for info in old.files],
        )

    return _refinalize


def replace_column(table: pa.Table, name: str, values: np.ndarray | list) -> pa.Table:
    """``table`` with column ``name`` replaced by ``values`` (same Arrow type)."""
    position = table.schema.get_field_index(name)
    field = table.schema.field(name)
    return table.set_column(position, field, pa.array(values, type=field.type))


@pytest.fixture
def set_column() -> Callable[[pa.Table, str, np.ndarray | list], pa.Table]:
    return replace_column


@pytest.fixture(scope="session")
def nb101_table(tmp_path_factory: pytest.TempPathFactory) -> Table:
    """A SYNTHETIC nb101 table: 300 uniformly sampled unique cells, seeds 0 and 1, 12 epochs."""
    from nasbench.table.synthetic_nb101 import build_synthetic_nb101_table

    folder = tmp_path_factory.mktemp("tables") / "synthetic-nb101"
    build_synthetic_nb101_table(folder, archs=300)
    return read_table(folder)
