"""Training throughput: trainings per core-hour, one architecture at a time
(``train_architecture``) vs stacked (``nasbench.stacked.train_stacked``, K at once).

The same ``ARCHS`` random cells (numpy seed 0; sorted by ops, as the generator's stacked
path sorts a chunk), seed 0, one torch thread, are trained each way on mnist1d and digits, with the default ``TrainConfig()`` (preset "tiny") and, where
``nasbench.training.CALIBRATED`` exists, with the dataset's calibrated config. Process CPU
time over the whole workload (model building and evaluation included) gives
``archs_per_core_hour`` (recorded in ``extra_info`` and printed; run with ``-s`` to see
it). Run with ``pytest tests/bench/test_bench_training.py --benchmark-enable -s`` (about
12 minutes on a quiet 2-core VM); in the default run (``--benchmark-disable``) each case
trains two tiny networks once, as a smoke test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from nasbench import training
from nasbench.datasets import Dataset, load_dataset
from nasbench.spaces.nb201 import all_cells
from nasbench.stacked import train_stacked
from nasbench.training import TrainConfig, train_architecture

ARCHS = 32
MODES = {"naive": 0, "stack1": 1, "stack8": 8, "stack32": 32}
SMOKE = TrainConfig(epochs=1, batch_size=32, channels=4, cells_per_stage=1, stages=1)


def _cells(n: int) -> list[tuple[str, ...]]:
    indices = np.random.default_rng(0).choice(len(all_cells()), size=n, replace=False)
    return [all_cells()[int(i)].ops for i in indices]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    training.init_worker(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    out = {name: load_dataset(name) for name in ("mnist1d", "digits")}
    for data in out.values():  # warm-up: tensor cache, lazy kernels
        train_stacked([_cells(1)[0]], [0], data.head(64), SMOKE)
        train_architecture(_cells(1)[0], data.head(64), SMOKE)
    return out


def _config(preset: str, dataset: str) -> TrainConfig:
    if preset == "default":
        return TrainConfig()
    calibrated = getattr(training, "CALIBRATED", {})
    if dataset not in calibrated:
        pytest.skip(f"no calibrated TrainConfig for {dataset}")
    return calibrated[dataset]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dataset", ["mnist1d", "digits"])
@pytest.mark.parametrize("preset", ["default", "calibrated"])
def test_trainings_per_core_hour(benchmark, datasets: dict[str, Dataset], preset: str, dataset: str,
                                 mode: str) -> None:
    config, data, n = _config(preset, dataset), datasets[dataset], ARCHS
    stack = MODES[mode]
    if benchmark.disabled:  # smoke test: two tiny networks, once
        config, data, n, stack = SMOKE, data.head(96), 2, min(stack, 2)
    cells = sorted(_cells(n))  # stacked: similar cells share a stack, as the generator's stacks do
    cpu: list[float] = []

    def workload() -> list:
        start = time.process_time()
        if stack == 0:
            records = [train_architecture(ops, data, config, seed=0) for ops in cells]
        else:
            records = []
            for i in range(0, len(cells), stack):
                part = cells[i:i + stack]
                records += train_stacked(part, [0] * len(part), data, config)
        cpu.append(time.process_time() - start)
        return records

    records = benchmark.pedantic(workload, rounds=1, iterations=1)
    assert len(records) == n and all(len(r.valid_acc) == config.epochs for r in records)
    per_arch = cpu[-1] / n
    benchmark.extra_info.update({
        "archs": n, "stack": stack, "cpu_s_per_arch": per_arch, "archs_per_core_hour": 3600.0 / per_arch,
        "mean_final_valid_acc": float(np.mean([r.valid_acc[-1] for r in records])),
        "config": config.to_dict(),
    })
    print(f"\n[{preset} {dataset} {mode}] {per_arch:.3f} core-s per training, "
          f"{3600.0 / per_arch:,.0f} trainings per core-hour "
          f"(mean final valid acc {benchmark.extra_info['mean_final_valid_acc']:.2f})")
