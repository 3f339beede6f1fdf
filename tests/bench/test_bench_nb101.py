"""NB101 space speed: NAS-Bench-101's module hash of 10,000 specs, sample + mutate throughput,
and a query on a surrogate of the whole 423,624-cell space.

No peer installs here: NAS-Bench-101's own code needs TensorFlow 1 (its hash is re-implemented
and checked against its published rows in tests/test_nb101_space.py). Run with
``pytest tests/bench/test_bench_nb101.py --benchmark-enable -s`` to see the figures; the
targets are asserted only then (timings on a shared machine are not a unit test). Without
``--benchmark-enable`` each body runs once on a small count, as a smoke test.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from nasbench.oracle import Budget, Oracle
from nasbench.spaces import get_space
from nasbench.spaces.nb101_spec import module_hash

HASH_TARGET_S = 5.0  # 10,000 specs
MUTATE_TARGET_US = 500.0  # one sample + one mutation, amortised
QUERY_TARGET_US = 200.0  # one surrogate query once the space is predicted


@pytest.fixture(scope="module")
def space():
    return get_space("nb101")


def test_module_hash_of_10000_specs(benchmark, space):
    count = 10_000 if benchmark.enabled else 300
    rng = np.random.default_rng(0)
    cells = [space.from_index(int(i)) for i in rng.choice(space.size, count, replace=False)]
    specs = [(cell.matrix, cell.ops) for cell in cells]  # module_hash itself: no cache in between

    def hash_all() -> list[str]:
        return [module_hash(m, o) for m, o in specs]

    hashes = benchmark.pedantic(hash_all, rounds=3 if benchmark.enabled else 1, iterations=1)
    assert len(set(hashes)) == count
    if benchmark.enabled:
        best = benchmark.stats.stats.min
        print(f"\nmodule hash of {count:,} specs: {best:.2f} s ({best / count * 1e6:.0f} us a spec)")
        assert best < HASH_TARGET_S


def test_sample_and_mutate_throughput(benchmark, space):
    count = 10_000 if benchmark.enabled else 300

    def sample_and_mutate() -> int:
        rng = np.random.default_rng(1)
        changed = 0
        for _ in range(count):
            parent = space.sample(rng)
            changed += space.mutate(parent, rng) != parent
        return changed

    changed = benchmark.pedantic(sample_and_mutate, rounds=3 if benchmark.enabled else 1, iterations=1)
    assert changed == count
    if benchmark.enabled:
        per = benchmark.stats.stats.min / count * 1e6
        print(f"\nsample + mutate: {per:.0f} us a pair ({count:,} pairs)")
        assert per < MUTATE_TARGET_US


def test_surrogate_query_over_the_whole_space(benchmark, nb101_table, tmp_path_factory):
    from predictors.surrogate.artifact import save
    from predictors.surrogate.benchmark import load_surrogate_benchmark
    from predictors.surrogate.model import SurrogateModel
    from predictors.surrogate.sampling import uniform_sample

    model = SurrogateModel.fit(nb101_table, uniform_sample(nb101_table.indices, 0.5, 0), seed=0, max_steps=200)
    surrogate = load_surrogate_benchmark(save(model, tmp_path_factory.mktemp("s") / "bench-nb101"))
    start = time.perf_counter()
    best = surrogate.best_test_accuracy()  # predicts all 423,624 cells once
    whole = time.perf_counter() - start
    assert np.isfinite(best)
    rng = np.random.default_rng(2)
    archs = [surrogate.space.sample(rng) for _ in range(2_000 if benchmark.enabled else 50)]

    def queries() -> None:
        oracle = Oracle(surrogate, Budget(queries=len(archs)), rng=np.random.default_rng(0))
        for arch in archs:
            oracle.query(arch)

    benchmark.pedantic(queries, rounds=3 if benchmark.enabled else 1, iterations=1)
    if benchmark.enabled:
        per = benchmark.stats.stats.min / len(archs) * 1e6
        print(f"\nsurrogate over 423,624 cells: whole-space prediction {whole:.1f} s once, then {per:.0f} us a query")
        assert per < QUERY_TARGET_US
