"""The load cache: decoded columns reused across processes, never stale, never required."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nasbench.table import read_table
from nasbench.table.arrays import cache_dir, cache_path
from nasbench.table.columns import CURVE_COLUMNS


def _same(a, b) -> bool:
    return all(np.array_equal(a.curve(n), b.curve(n), equal_nan=True) for n in CURVE_COLUMNS) and all(
        np.array_equal(a.scalar(n), b.scalar(n), equal_nan=True) for n in ("params", "flops", "trained_as")
    ) and np.array_equal(a.arch_hashes, b.arch_hashes)


def test_second_load_reads_the_cache_and_gives_the_same_table(small_table_dir, copy_table, monkeypatch, tmp_path):
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    folder = copy_table(small_table_dir)
    first = read_table(folder)
    path = cache_path(first.manifest, first.path)
    assert path is not None and path.is_dir() and path.parent == tmp_path / "cache"
    second = read_table(folder)
    assert second._arrow is None  # noqa: SLF001 (no Parquet decoded on a cache hit)
    assert first._arrow is not None  # noqa: SLF001
    assert _same(first, second)
    assert second.record(3) == first.record(3)
    assert second.to_pandas().equals(first.to_pandas())


def test_cache_off_writes_nothing(small_table_dir, copy_table, monkeypatch, tmp_path):
    for value in ("off", "0", ""):
        monkeypatch.setenv("NASBENCH_CACHE", value)
        assert cache_dir() is None
    table = read_table(copy_table(small_table_dir))
    assert cache_path(table.manifest, table.path) is None and table._arrow is not None  # noqa: SLF001


def test_default_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("NASBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "nasbench"


def test_changed_data_gets_a_new_key_and_a_corrupt_cache_is_ignored(small_table_dir, copy_table, read_shard,
                                                                    set_column, refinalize):
    folder = copy_table(small_table_dir)
    before = read_table(folder)
    old_path = cache_path(before.manifest, before.path)
    for shard in ("seed-0", "seed-1"):
        data = read_shard(folder, shard)
        refinalize(folder, shard, set_column(data, "params", data["params"].to_numpy() + 1))
    after = read_table(folder)
    new_path = cache_path(after.manifest, after.path)
    assert new_path != old_path
    assert np.array_equal(after.scalar("params")[after.indices], before.scalar("params")[before.indices] + 1)
    (new_path / "index.json").write_text("{not json")
    again = read_table(folder)  # decodes the Parquet files and rewrites the cache
    assert again._arrow is not None  # noqa: SLF001
    assert np.array_equal(again.scalar("params"), after.scalar("params"))
    assert read_table(folder)._arrow is None  # noqa: SLF001 (the rewritten cache is used)


def test_a_verified_load_still_checks_every_file_when_cached(small_table_dir, copy_table):
    from nasbench.errors import TableError

    folder = copy_table(small_table_dir)
    read_table(folder)
    with open(folder / "data" / "seed-1.parquet", "ab") as handle:
        handle.write(b"\x01")
    with pytest.raises(TableError, match="checksum mismatch"):
        read_table(folder)


def test_a_fresh_process_loads_a_cached_table_without_pyarrow_or_pandas(small_table_dir, copy_table):
    folder = copy_table(small_table_dir)
    read_table(folder)
    code = ("import sys; from nasbench.table import read_table; t = read_table(sys.argv[1]); t.record(3); "
            "t.lookup([0, 1]); print(sorted(m for m in ('pyarrow', 'pandas', 'scipy', 'torch', 'networkx', "
            "'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lookup_commands_start_numpy_single_threaded_unless_told_otherwise(tmp_path):
    import os

    code = ("import os, sys; from nasbench.cli import main; main(['tables', 'list']); "
            "print('BLAS', os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip().endswith("BLAS 1")
    env["OPENBLAS_NUM_THREADS"] = "4"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip().endswith("BLAS 4")


def test_a_complete_table_records_from_the_memory_map_exactly_as_from_decoded_arrays(full_table_dir, monkeypatch,
                                                                                     tmp_path):
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    decoded = read_table(full_table_dir)  # decodes Parquet (and writes the cache)
    mapped = read_table(full_table_dir)  # memory-maps the cache
    assert decoded._arrow is not None and mapped._arrow is None  # noqa: SLF001
    assert "rows" not in vars(mapped._columns)  # noqa: SLF001 (no numpy arrays were built)
    for index in (0, 1, 5, 7777, 15624):
        fast = mapped.record(index)
        assert "rows" not in vars(mapped._columns)  # noqa: SLF001 (the record came from memoryviews)
        slow = decoded.record(index)
        assert fast == slow and [type(v) for v in fast.values()] == [type(v) for v in slow.values()]
    assert mapped.record("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|") == decoded.record(
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert _same(mapped, decoded)  # and the numpy views of the same pages agree


def test_a_partial_table_records_through_numpy_from_the_cache(small_table_dir, copy_table):
    folder = copy_table(small_table_dir)
    decoded, mapped = read_table(folder), read_table(folder)
    assert mapped._arrow is None and mapped.record(3) == decoded.record(3)  # noqa: SLF001


def test_a_fresh_process_loads_and_records_a_cached_complete_table_without_numpy(full_table_dir):
    read_table(full_table_dir)
    code = ("import sys; from nasbench.table import read_table; t = read_table(sys.argv[1]); "
            "r = t.record(5); print(r['seeds'], 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(full_table_dir)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[0, 1] False"


def test_a_same_size_edit_with_the_old_mtime_is_still_caught(small_table_dir, copy_table):
    """Unchanged files are not hashed again (their stamp matches), but any write changes ctime."""
    import os

    from nasbench.errors import TableError

    folder = copy_table(small_table_dir)
    read_table(folder)
    read_table(folder)  # stamps recorded, files trusted by stamp
    path = folder / "data" / "seed-1.parquet"
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    with pytest.raises(TableError, match="checksum mismatch"):
        read_table(folder)
