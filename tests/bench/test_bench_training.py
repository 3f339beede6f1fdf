"""Training throughput: trainings per core-hour of three ways to train a table's cells.

- ``textbook``: the naive one-at-a-time PyTorch loop a table generator starts from
  (``build_model`` as built, ``torch.optim.SGD``, a per-epoch eval of valid and test
  in separate passes; same schedule and hyperparameters);
- ``naive``: ``nasbench.training.train_architecture``, still one at a time, with the
  generator's speed-ups (exact shifted-sum pooling, one fused eval pass, cached tensors);
- ``stackK``: ``nasbench.stacked.train_stacked``, K networks trained as one batched net.

The same ``ARCHS`` random cells (numpy seed 0; sorted by ops, as the generator's stacked
path sorts a chunk), seed 0, one torch thread, are trained each way on mnist1d and digits, with the default ``TrainConfig()`` (preset "small", 10 epochs) and with the dataset's
calibrated config (``nasbench.training.CALIBRATED``, what the shipped tables use). Process CPU
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
MODES = {"textbook": -1, "naive": 0, "stack1": 1, "stack8": 8, "stack32": 32}
SMOKE = TrainConfig(epochs=1, batch_size=32, channels=4, cells_per_stage=1, stages=1)


def _textbook_train(ops: tuple[str, ...], data: Dataset, config: TrainConfig, seed: int) -> list[float]:
    """The plain loop: build, SGD with cosine steps, and a per-epoch eval; final valid accs."""
    from nasbench.models import build_model

    torch.manual_seed(seed)
    model = build_model(ops, config.macro(data.input_shape, data.num_classes))
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                nesterov=config.nesterov, weight_decay=config.weight_decay)
    steps = len(y) // config.batch_size
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * steps)
    generator = torch.Generator().manual_seed(seed)
    valid_acc = []
    for _ in range(config.epochs):
        model.train()
        order = torch.randperm(len(y), generator=generator)
        for i in range(steps):
            idx = order[i * config.batch_size:(i + 1) * config.batch_size]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            for split in ("valid", "test"):
                xs, ys = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
                logits = torch.cat([model(torch.from_numpy(xs[j:j + config.eval_batch_size]))
                                    for j in range(0, len(ys), config.eval_batch_size)])
                acc = 100.0 * float((logits.argmax(1) == torch.from_numpy(ys)).double().mean())
                if split == "valid":
                    valid_acc.append(acc)
    return valid_acc


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
    return training.CALIBRATED[dataset]


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
        if stack == -1:
            records = [_textbook_train(ops, data, config, seed=0) for ops in cells]
        elif stack == 0:
            records = [train_architecture(ops, data, config, seed=0) for ops in cells]
        else:
            records = []
            for i in range(0, len(cells), stack):
                part = cells[i:i + stack]
                records += train_stacked(part, [0] * len(part), data, config)
        cpu.append(time.process_time() - start)
        return records

    records = benchmark.pedantic(workload, rounds=1, iterations=1)
    curves = [r if isinstance(r, list) else r.valid_acc for r in records]
    assert len(records) == n and all(len(c) == config.epochs for c in curves)
    per_arch = cpu[-1] / n
    benchmark.extra_info.update({
        "archs": n, "stack": stack, "cpu_s_per_arch": per_arch, "archs_per_core_hour": 3600.0 / per_arch,
        "mean_final_valid_acc": float(np.mean([c[-1] for c in curves])),
        "config": config.to_dict(),
    })
    print(f"\n[{preset} {dataset} {mode}] {per_arch:.3f} core-s per training, "
          f"{3600.0 / per_arch:,.0f} trainings per core-hour "
          f"(mean final valid acc {benchmark.extra_info['mean_final_valid_acc']:.2f})")
