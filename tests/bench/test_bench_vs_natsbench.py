"""nasbench side by side with NATS-Bench 1.8 (topology, fast mode) on the same 15,625-cell table.

The shipped table nb201-mnist1d is written in NATS-Bench's own file layout
(:mod:`natsbench_format`, differences listed there), so both APIs answer from the same numbers on
the same machine. Each operation is a benchmark group with one test per side; ratio = NATS-Bench
time / nasbench time (medians), recorded in each test's ``extra_info`` and printed as a Markdown
table at the end of the module (seen with ``-s``).

Targets (issue 10, item 1):

- a fresh process, import + load of a table: at least as fast as import + ``create`` (ratio >= 1);
- a fresh process ``nasbench query --table nb201-mnist1d 5`` and ``nasbench tables list``: < 0.3 s wall;
- one architecture's full record (all metrics, all seeds, curves): ratio >= 10;
- one string -> index: ratio >= 10;
- all 15,625 strings -> indices, vectorised against NATS-Bench's loop: ratio >= 10.

The two string targets are beyond CPython (README, Performance): ``space.index_of`` is one
C-level dict probe, and the bare probes over all strings cap the vectorised ratio near 5x.

Fresh-process times are wall clock (time.perf_counter around subprocess.run), median of 7 runs
after one warm-up run (OS file caches and the table load cache, a tmp ``$NASBENCH_CACHE``, filled);
the child's CPU time (user + sys, median) is shown beside it, as it varies less with other load.
"Record" is measured twice: the same architecture again (NATS-Bench serves it from memory) and
a new architecture each call (NATS-Bench reads its file; its caches are emptied before each call).

Run: ``pytest tests/bench/test_bench_vs_natsbench.py --benchmark-enable -s``
(writes all 15,625 NATS-Bench files once, about a minute). In the default run (benchmarks
disabled) each test runs once as a smoke test and only the files the tests read are written.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

nats_bench = pytest.importorskip("nats_bench")

from natsbench_format import DATASET, HP, write_natsbench

from nasbench.table import Table, load_table

TABLE = "nb201-mnist1d"
INDEX = 5  # the architecture of `nasbench query ... 5`
ARCHS = tuple(range(0, 15625, 977))  # 16 architectures for "a new architecture each call"
REPO = Path(__file__).resolve().parents[2]
ROUNDS, WARMUP = 7, 1  # fresh-process runs: median of ROUNDS after WARMUP

# (group, NATS-Bench test id or None, nasbench test id, target): the rows of the printed table.
COMPARISONS = [
    ("fresh process: python -c pass", None, "python-pass", ""),
    ("fresh process: import + create / load", "nats-create", "nasbench-load_table", "ratio >= 1"),
    ("fresh process: import + create / load + one full record", "nats-create+query_by_index",
     "nasbench-load_table+record", ""),
    ("fresh process: nasbench query --table nb201-mnist1d 5", None, "nasbench-query", "< 0.3 s"),
    ("fresh process: nasbench tables list", None, "nasbench-tables-list", "< 0.3 s"),
    ("fresh process: nasbench --help", None, "nasbench-help", ""),
    ("full record, same architecture again", "nats-query_by_index", "nasbench-record", "ratio >= 10"),
    ("full record, same architecture again", "nats-get_more_info", "nasbench-record", "ratio >= 10"),
    ("full record, a new architecture each call", "nats-query_by_index", "nasbench-record", "ratio >= 10"),
    ("full record, a new architecture each call", "nats-get_more_info", "nasbench-record", "ratio >= 10"),
    ("one string -> index", "nats-query_index_by_arch", "nasbench-space.index_of", "ratio >= 10"),
    ("one string -> index", "nats-query_index_by_arch", "nasbench-table.index_of", "ratio >= 10"),
    ("all 15,625 strings -> indices", "nats-loop", "nasbench-space.indices", "ratio >= 10"),
    ("all 15,625 strings -> indices", "nats-loop", "nasbench-table.index_of", "ratio >= 10"),
]
CALLS = {  # test id -> the call measured, for the printed table
    "python-pass": "python -c pass",
    "nats-create": "import nats_bench; create(dir, 'tss', fast_mode=True)",
    "nasbench-load_table": "import nasbench.table; load_table(name)",
    "nats-create+query_by_index": "... + api.query_by_index(5, dataset, hp)",
    "nasbench-load_table+record": "... + table.record(5)",
    "nasbench-query": "python -m nasbench query --table nb201-mnist1d 5",
    "nasbench-tables-list": "python -m nasbench tables list",
    "nasbench-help": "python -m nasbench --help",
    "nats-query_by_index": "api.query_by_index(i, dataset, hp) (all seeds, all curves)",
    "nats-get_more_info": "api.get_more_info(i, dataset, hp=hp, is_random=False) (seed mean, last epoch)",
    "nasbench-record": "table.record(i)",
    "nats-query_index_by_arch": "api.query_index_by_arch(s)",
    "nasbench-space.index_of": "space.index_of(s)",
    "nasbench-table.index_of": "table.index_of(strings)",
    "nats-loop": "[api.query_index_by_arch(s) for s in strings]",
    "nasbench-space.indices": "space.indices(strings)",
}
MEASURED: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}  # (group, id) -> (median s, extra_info)


def benchmarks_enabled(config: pytest.Config) -> bool:
    """True when pytest-benchmark measures (``--benchmark-enable``), False in the smoke run."""
    return bool(config.getoption("benchmark_enable") or not config.getoption("benchmark_disable"))


@pytest.fixture(scope="module")
def table(load_cache_root: Path) -> Table:
    """The table as a user meets it after the first load: the first decodes the Parquet files
    into the session's load cache (which the fresh processes then share), the second maps it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NASBENCH_CACHE", str(load_cache_root))
        load_table(TABLE)
        return load_table(TABLE)


@pytest.fixture(scope="module")
def natsbench_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, table: Table) -> Path:
    """The table in NATS-Bench's layout, written once: every architecture's file when measuring,
    only the files the tests read in the smoke run."""
    indices = None if benchmarks_enabled(request.config) else sorted({INDEX, *ARCHS})
    return write_natsbench(table, tmp_path_factory.mktemp("natsbench"), indices)


@pytest.fixture(scope="module")
def api(natsbench_dir: Path) -> Any:
    return nats_bench.create(str(natsbench_dir), "tss", fast_mode=True, verbose=False)


@pytest.fixture(scope="module")
def strings(table: Table) -> list[str]:
    return [str(table.space.from_index(i)) for i in range(table.space.size)]


@pytest.fixture(scope="module", autouse=True)
def markdown_table() -> Iterator[None]:
    """After the module: ratios into each test's extra_info, and the Markdown table printed."""
    yield
    if not MEASURED:
        return
    lines = [(f"\nnasbench vs NATS-Bench {nats_bench.version()} (load average {os.getloadavg()[0]:.2f}); "
              "ratio = NATS-Bench time / nasbench time\n"),
             "| operation | NATS-Bench | time | nasbench | time | ratio | target |", "|---|---|---|---|---|---|---|"]
    for group, nats_id, ours_id, target in COMPARISONS:
        ours = MEASURED.get((group, ours_id))
        if ours is None:
            continue
        theirs = MEASURED.get((group, nats_id)) if nats_id else None
        ratio = ""
        if theirs is not None:
            value = theirs[0] / ours[0]
            ours[1][f"ratio_vs_{nats_id}"] = theirs[1][f"ratio_vs_{ours_id}"] = round(value, 3)
            ratio = f"{value:.2f}"
        nats_cells = f"{CALLS[nats_id]} | {timing(*theirs)}" if theirs else "| "
        lines.append(f"| {group} | {nats_cells} | {CALLS[ours_id]} | {timing(*ours)} | {ratio} | {target} |")
    print("\n".join(lines))


def human(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def timing(median: float, extra_info: dict[str, Any]) -> str:
    """The median, and for a fresh process also the child's CPU time."""
    cpu = extra_info.get("child_cpu_median_s")
    return human(median) if cpu is None else f"{human(median)} (cpu {human(cpu)})"


def keep(benchmark: Any, group: str, test_id: str) -> None:
    """Remember a measured median (nothing in the smoke run) for the ratios and the table."""
    side = "natsbench" if test_id.startswith("nats-") else "nasbench" if test_id.startswith("nasbench-") else "baseline"
    benchmark.extra_info["side"] = side
    if benchmark.enabled and benchmark.stats is not None:
        MEASURED[(group, test_id)] = (benchmark.stats.stats.median, benchmark.extra_info)


# -- fresh processes ----------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def compiled_sources() -> None:
    """Byte-compile nasbench's sources first, as ``pip install`` does for nats_bench in
    site-packages: with PYTHONDONTWRITEBYTECODE set (as on this machine) an editable
    checkout would otherwise recompile every module in every fresh process."""
    import compileall

    for package in ("nasbench", "strategies"):
        compileall.compile_dir(REPO / package, quiet=1)

def run_python(code: list[str]) -> subprocess.CompletedProcess:
    """One fresh interpreter running ``code`` (arguments after ``python``) from the repository root."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *code], cwd=REPO, env=env, capture_output=True, text=True, check=True)


def fresh(benchmark: Any, code: list[str]) -> subprocess.CompletedProcess:
    """Time fresh processes (wall clock); the child's CPU time (user + sys) goes to extra_info, a
    figure less swayed by other work on the machine than the wall clock."""
    cpu: list[float] = []

    def timed() -> subprocess.CompletedProcess:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = run_python(code)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return done

    done = benchmark.pedantic(timed, rounds=ROUNDS, warmup_rounds=WARMUP, iterations=1)
    benchmark.extra_info["child_cpu_median_s"] = round(float(np.median(cpu[-ROUNDS:])), 4)
    return done


FRESH = "fresh process: import + create / load"
FRESH_RECORD = "fresh process: import + create / load + one full record"


@pytest.mark.benchmark(group=FRESH)
@pytest.mark.parametrize("side", ["nats-create", "nasbench-load_table"])
def test_fresh_process_load(benchmark: Any, side: str, natsbench_dir: Path) -> None:
    code = {
        "nats-create": f"from nats_bench import create; api = create({str(natsbench_dir)!r}, 'tss', "
                       "fast_mode=True, verbose=False); print(len(api))",
        "nasbench-load_table": f"from nasbench.table import load_table; print(load_table({TABLE!r}).space.size)",
    }[side]
    assert fresh(benchmark, ["-c", code]).stdout.strip() == "15625"
    keep(benchmark, FRESH, side)


@pytest.mark.benchmark(group=FRESH_RECORD)
@pytest.mark.parametrize("side", ["nats-create+query_by_index", "nasbench-load_table+record"])
def test_fresh_process_first_record(benchmark: Any, side: str, natsbench_dir: Path) -> None:
    code = {
        "nats-create+query_by_index": f"from nats_bench import create; api = create({str(natsbench_dir)!r}, "
                                      f"'tss', fast_mode=True, verbose=False); "
                                      f"print(sorted(api.query_by_index({INDEX}, {DATASET!r}, hp={HP!r})))",
        "nasbench-load_table+record": f"from nasbench.table import load_table; "
                                     f"print(load_table({TABLE!r}).record({INDEX})['seeds'])",
    }[side]
    assert fresh(benchmark, ["-c", code]).stdout.strip() == "[0, 1]"
    keep(benchmark, FRESH_RECORD, side)


CLI = {
    "python-pass": ("fresh process: python -c pass", ["-c", "pass"], ""),
    "nasbench-query": ("fresh process: nasbench query --table nb201-mnist1d 5",
                       ["-m", "nasbench", "query", "--table", TABLE, str(INDEX)], "valid"),
    "nasbench-tables-list": ("fresh process: nasbench tables list", ["-m", "nasbench", "tables", "list"], TABLE),
    "nasbench-help": ("fresh process: nasbench --help", ["-m", "nasbench", "--help"], "usage"),
}


@pytest.mark.benchmark(group="fresh process: CLI")
@pytest.mark.parametrize("side", list(CLI))
def test_fresh_process_cli(benchmark: Any, side: str) -> None:
    group, code, expect = CLI[side]
    assert expect in fresh(benchmark, code).stdout
    keep(benchmark, group, side)


# -- one architecture's full record ----------------------------------------------------------

def nats_call(api: Any, side: str) -> Callable[[int], Any]:
    if side == "nats-query_by_index":
        return lambda index: api.query_by_index(index, DATASET, hp=HP)
    return lambda index: api.get_more_info(index, DATASET, hp=HP, is_random=False)


RECORD_SIDES = ["nats-query_by_index", "nats-get_more_info", "nasbench-record"]


def check_record(side: str, got: Any, table: Table, index: int) -> None:
    """Both sides answer from the same numbers."""
    record = table.record(index)
    if side == "nats-query_by_index":
        assert sorted(got) == record["seeds"]
        assert [got[s].get_eval("x-valid")["accuracy"] for s in sorted(got)] == pytest.approx(record["valid_acc"])
        assert list(got[record["seeds"][0]].train_acc1es.values()) == pytest.approx(record["curves"]["train_acc"][0])
    elif side == "nats-get_more_info":
        assert got["valid-accuracy"] == pytest.approx(np.mean(record["valid_acc"]))
        assert got["test-accuracy"] == pytest.approx(np.mean(record["test_acc"]))
    else:
        assert got == record and len(got["curves"]["valid_acc"]) == len(table.seeds)


@pytest.mark.benchmark(group="full record, same architecture again")
@pytest.mark.parametrize("side", RECORD_SIDES)
def test_record_same_architecture(benchmark: Any, side: str, api: Any, table: Table) -> None:
    call = table.record if side == "nasbench-record" else nats_call(api, side)
    call(INDEX)  # in memory from now on (NATS-Bench: the file is read; nasbench: dense columns built)
    check_record(side, benchmark(call, INDEX), table, INDEX)
    keep(benchmark, "full record, same architecture again", side)


@pytest.mark.benchmark(group="full record, a new architecture each call")
@pytest.mark.parametrize("side", RECORD_SIDES)
def test_record_new_architecture(benchmark: Any, side: str, api: Any, table: Table) -> None:
    call = table.record if side == "nasbench-record" else nats_call(api, side)
    table.record(INDEX)  # nasbench's dense columns are built once per table, not per architecture
    order, last = iter(ARCHS * 1000), []

    def next_arch() -> tuple[tuple[int], dict]:
        api.arch2infos_dict.clear()  # NATS-Bench forgets every architecture: the next call reads its file
        api.evaluated_indexes.clear()
        last[:] = [next(order)]
        return (last[0],), {}

    got = benchmark.pedantic(call, setup=next_arch, rounds=10 * len(ARCHS), warmup_rounds=2)
    check_record(side, got, table, last[0])
    keep(benchmark, "full record, a new architecture each call", side)


# -- strings -> indices -------------------------------------------------------------------

@pytest.mark.benchmark(group="one string -> index")
@pytest.mark.parametrize("side", ["nats-query_index_by_arch", "nasbench-space.index_of", "nasbench-table.index_of"])
def test_one_string_to_index(benchmark: Any, side: str, api: Any, table: Table, strings: list[str]) -> None:
    text = strings[INDEX]
    call = {
        "nats-query_index_by_arch": api.query_index_by_arch,
        "nasbench-space.index_of": table.space.index_of,
        "nasbench-table.index_of": lambda s: table.index_of([s])[0],
    }[side]
    call(text)  # nasbench builds its string -> index dict on first use
    assert int(benchmark(call, text)) == INDEX
    keep(benchmark, "one string -> index", side)


@pytest.mark.benchmark(group="all 15,625 strings -> indices")
@pytest.mark.parametrize("side", ["nats-loop", "nasbench-space.indices", "nasbench-table.index_of"])
def test_all_strings_to_indices(benchmark: Any, side: str, api: Any, table: Table, strings: list[str]) -> None:
    call = {
        "nats-loop": lambda ss: [api.query_index_by_arch(s) for s in ss],
        "nasbench-space.indices": table.space.indices,
        "nasbench-table.index_of": table.index_of,
    }[side]
    call(strings[:1])
    got = benchmark(call, strings)
    assert np.array_equal(np.asarray(got), np.arange(table.space.size))
    keep(benchmark, "all 15,625 strings -> indices", side)
