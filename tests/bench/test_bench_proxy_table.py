"""The whole-table precompute, end to end: ``compute_proxy_table`` on the shipped digits table
restricted to its first ``ARCHS`` architectures, one init seed, one worker (as a precompute
worker runs), all proxies; the wall time per architecture is extrapolated to the 15,625
cells and printed as core-hours per init seed (issue 12's budget: about 2).

Run: ``pytest tests/bench/test_bench_proxy_table.py --benchmark-enable -s``. In the default
run (benchmarks disabled) it scores 2 architectures as a smoke test.
"""

from __future__ import annotations

import shutil
import time

from nasbench.table import load_table
from predictors.proxies import load_proxies
from predictors.proxies.precompute import compute_proxy_table


def test_whole_table_precompute_time(benchmark, tmp_path) -> None:
    archs = 256 if benchmark.enabled else 2
    source = load_table("nb201-digits")
    copy = tmp_path / "nb201-digits"
    shutil.copytree(source.path, copy, ignore=shutil.ignore_patterns("proxies", "work"))
    table = load_table(copy)
    proxies = load_proxies()

    def run() -> float:
        shutil.rmtree(copy / "proxies", ignore_errors=True)
        start = time.perf_counter()
        compute_proxy_table(table, proxies, [0], workers=1, chunk_size=64, indices=table.indices[:archs],
                            progress=False)
        return time.perf_counter() - start

    seconds = benchmark.pedantic(run, rounds=1, iterations=1)
    per_arch = seconds / archs
    benchmark.extra_info["seconds_per_arch"] = per_arch
    benchmark.extra_info["core_hours_per_init_seed"] = per_arch * table.space.size / 3600
    print(f"\nwhole-table precompute: {per_arch:.3f} s per architecture for {len(proxies)} proxies, "
          f"{per_arch * table.space.size / 3600:.2f} core-hours per init seed for 15,625 cells")
    assert (copy / "proxies" / "manifest.json").is_file()

