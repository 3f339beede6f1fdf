"""Zero-cost proxy speed: seconds per architecture per proxy on two skeletons.

- ``digits``: the skeleton of the shipped digits table (``nasbench.training.CALIBRATED
  ["digits"]``, preset "small": C=16, one cell, one stage, 1x8x8 inputs), scored with the
  first 64 training images of digits;
- ``nb201``: NAS-Bench-201's own skeleton (``MacroConfig()``: C=16, N=5, 3 stages, CIFAR
  shape), scored with a batch of 64 random 3x32x32 inputs and random labels (torch seed 0).

``ARCHS`` random cells (numpy seed 0) are built first (not timed); each proxy then scores
every one of them through ``predictors.proxies.compute`` (seed 0), one torch thread, as a
precompute worker would. Process CPU time per architecture is recorded in ``extra_info``
(``cpu_s_per_arch``) and printed; run with
``pytest tests/bench/test_bench_proxies.py --benchmark-enable -s`` (about 5 minutes on a
quiet 2-core VM). In the default run (``--benchmark-disable``) each case scores one cell
with a batch of 4, as a smoke test. The figures measured are in predictors/proxies/README.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from nasbench.datasets import load_dataset
from nasbench.models import MacroConfig, build_model
from nasbench.spaces.nb201 import all_cells
from nasbench.training import CALIBRATED
from predictors.proxies import PROXIES, compute, load_proxies

load_proxies()
ARCHS = {"digits": 16, "nb201": 3}
BATCH = 64


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _cells(n: int) -> list[tuple[str, ...]]:
    indices = np.random.default_rng(0).choice(len(all_cells()), size=n, replace=False)
    return [all_cells()[int(i)].ops for i in indices]


def _skeleton(name: str, batch: int) -> tuple[MacroConfig, torch.Tensor, torch.Tensor]:
    """The skeleton's config and a batch of ``batch`` inputs with their labels."""
    if name == "digits":
        data = load_dataset("digits")
        config = CALIBRATED["digits"].macro(data.input_shape, data.num_classes)
        return config, torch.from_numpy(data.x_train[:batch]), torch.from_numpy(data.y_train[:batch])
    config = MacroConfig()
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn((batch, *config.input_shape), generator=generator)
    return config, inputs, torch.randint(0, config.num_classes, (batch,), generator=generator)


@pytest.mark.parametrize("proxy", PROXIES.names())
@pytest.mark.parametrize("skeleton", ["digits", "nb201"])
def test_seconds_per_architecture(benchmark, skeleton: str, proxy: str) -> None:
    n, batch = (1, 4) if benchmark.disabled else (ARCHS[skeleton], BATCH)
    config, inputs, targets = _skeleton(skeleton, batch)
    torch.manual_seed(0)
    models = [build_model(ops, config) for ops in _cells(n)]
    cpu: list[float] = []

    def workload() -> list[float]:
        start = time.process_time()
        scores = [compute(proxy, model, inputs, targets, seed=0) for model in models]
        cpu.append(time.process_time() - start)
        return scores

    scores = benchmark.pedantic(workload, rounds=1, iterations=1)
    assert len(scores) == n
    per_arch, nonfinite = cpu[-1] / n, sum(not math.isfinite(s) for s in scores)
    benchmark.extra_info.update({"archs": n, "batch": batch, "cpu_s_per_arch": per_arch, "nonfinite": nonfinite})
    print(f"\n[{skeleton} {proxy}] {per_arch:.3f} core-s per architecture (batch {batch}, {n} cells, "
          f"{nonfinite} non-finite)")
