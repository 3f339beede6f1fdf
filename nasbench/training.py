"""Train one NAS-Bench-201-style cell on an embedded dataset: the training core of the
table generator.

``train_architecture(arch, dataset, config, seed)`` builds the network of an NB201 cell (or
its ops) or an NB101 cell in the preset's skeleton (nasbench.models.family),
trains it with mini-batch SGD (or Adam) and a per-step cosine learning rate, and returns a
:class:`TrainRecord` of per-epoch curves, exactly the list columns of a table row.

What a run does, in order:

- The weights are initialised by torch's default init under ``torch.manual_seed`` of a
  seed derived from ``seed`` inside ``torch.random.fork_rng`` (the caller's global torch
  state is untouched); the mini-batch order comes from a local ``torch.Generator`` seeded
  with a second derived seed. The same (arch, dataset, config, seed) therefore gives
  bit-identical curves on the same machine, torch build and thread count
  (``epoch_seconds`` aside); ``torch.use_deterministic_algorithms`` is on during the run
  (it costs nothing on CPU) and restored afterwards.
- Each epoch draws a fresh permutation of the training split and runs
  ``len(train) // batch_size`` full batches (the remainder is dropped, so every step has
  the same batch size; a new permutation each epoch means every example is used).
  ``train_loss``/``train_acc`` are the means over the epoch's steps, in train mode, as
  NAS-Bench-201 records them. Then the model is put in eval mode (BatchNorm running
  statistics) and the full validation and test splits are evaluated together, in batches
  of ``eval_batch_size``, under ``torch.inference_mode``.
- ``epoch_seconds`` is the wall time of the epoch's training steps only (not evaluation).

Speed. A step of these nets is 70-80% oneDNN convolution and BatchNorm kernels (tiny
tensors, so mostly fixed cost per call), not Python. What is done: the dataset stays in
memory as tensors (no DataLoader), the learning rate is set per step without a scheduler
object, SGD runs its ``foreach`` implementation, valid and test are evaluated in one pass
in batches of ``eval_batch_size`` (128: on CPU 1-D convs get ~2x slower per example at
batches of 1,000+), and the cells' 3x3 average pooling is swapped for a mathematically
identical shifted-sum module (the builder's ``AvgPool(3, 1, 1, count_include_pad=False)``
is 3-4x slower on CPU; pool-heavy cells train ~1.5x faster). Tried and not used:
channels_last (+-15%, depends on the cell), matmul/im2col convs and a hand-written
BatchNorm (slower), torch.compile (compiles once per architecture: far too slow here).
Call :func:`init_worker` once per worker process: one thread per process, one process
per core.

:data:`CALIBRATED` (in :mod:`nasbench.train_config`, with :class:`TrainConfig`) holds the configs calibrated for the shipped tables
(the v1 script ``python -m nasbench.calibrate``, since replaced by ``nasbench calibrate``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench.datasets import Dataset, load_dataset
from nasbench.models.family import (
    build_network,
    checked_arch,
    network_costs,
    preset_space,
    space_of,
)
from nasbench.models.fast_pool import ShiftAvgPool3, speed_up
from nasbench.spaces.nb201 import NB201Cell
from nasbench.train_config import CALIBRATED, CALIBRATED_NB101, OPTIMIZERS, SCHEDULES, TrainConfig

__all__ = [
    "TrainConfig", "TrainRecord", "train_architecture", "init_worker", "speed_up", "CALIBRATED", "CALIBRATED_NB101",
    "OPTIMIZERS", "SCHEDULES",
]


@dataclass
class TrainRecord:
    """Per-epoch curves of one training run (accuracies in percent, losses mean CE in nats).

    ``train_*`` are running means over the epoch's steps in train mode (``train_loss`` is the
    objective, so it includes label smoothing when configured); ``valid_*``/``test_*`` are
    measured after the epoch in eval mode. ``epoch_seconds`` times the training steps only,
    ``eval_seconds`` the evaluation after each epoch.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)
    params: int = 0
    flops: int = 0
    device: str = ""
    torch_version: str = ""
    seed: int = 0

    CURVES = ("train_loss", "train_acc", "valid_loss", "valid_acc", "test_loss", "test_acc")

    def curves(self) -> dict[str, list[float]]:
        """The six metric curves by name (no timings)."""
        return {name: getattr(self, name) for name in self.CURVES}


def init_worker(num_threads: int = 1) -> None:
    """Per-process setting for a training worker: ``num_threads`` intra-op threads.

    One thread per process, one process per core, gives the most trainings per second:
    these nets are far too small for intra-op parallelism, and two threads on a busy
    machine made a run several times slower (OpenMP threads wait on each other). Bit-level
    reproducibility is promised for the same thread count (reductions may split by thread).
    """
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
    torch.set_num_threads(num_threads)


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------

_TENSOR_CACHE: dict[tuple[int, str], tuple[Dataset, dict[str, torch.Tensor]]] = {}


def dataset_tensors(dataset: Dataset, device: torch.device) -> dict[str, torch.Tensor]:
    """The dataset's six arrays as tensors on ``device`` (cached for the last few datasets)."""
    key = (id(dataset), str(device))
    hit = _TENSOR_CACHE.get(key)
    if hit is not None and hit[0] is dataset:
        return hit[1]
    tensors = {}
    for name, array in dataset.arrays().items():
        t = torch.from_numpy(np.ascontiguousarray(array))
        tensors[name] = t.to(device) if device.type != "cpu" else t
    # valid and test are evaluated in one pass (eval-mode outputs are per example)
    tensors["x_eval"] = torch.cat([tensors["x_valid"], tensors["x_test"]])
    tensors["y_eval"] = torch.cat([tensors["y_valid"], tensors["y_test"]])
    if len(_TENSOR_CACHE) >= 4:
        _TENSOR_CACHE.pop(next(iter(_TENSOR_CACHE)))
    _TENSOR_CACHE[key] = (dataset, tensors)
    return tensors


_ShiftAvgPool3 = ShiftAvgPool3  # the name tests and older code use


def derived_seeds(seed: int) -> tuple[int, int]:
    """Independent (init, shuffle) seeds from the training seed (numpy SeedSequence)."""
    words = np.random.SeedSequence([int(seed), 0x4E42]).generate_state(4, dtype=np.uint32)
    init = (int(words[0]) << 31) ^ int(words[1])
    order = (int(words[2]) << 31) ^ int(words[3])
    return init, order


@torch.inference_mode()
def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int,
              splits: Sequence[int]) -> list[tuple[float, float]]:
    """(mean cross-entropy, accuracy in percent) of the model in eval mode on each of the
    consecutive parts of ``x`` with sizes ``splits`` (valid and test in one pass)."""
    losses, hits = [], []
    for start in range(0, len(y), batch):
        xb, yb = x[start:start + batch], y[start:start + batch]
        logits = model(xb)
        losses.append(F.cross_entropy(logits, yb, reduction="none"))
        hits.append(logits.argmax(1) == yb)
    loss, hit = torch.cat(losses).double(), torch.cat(hits)
    out, start = [], 0
    for n in splits:
        part = slice(start, start + n)
        out.append((float(loss[part].sum()) / n, 100.0 * float(hit[part].sum()) / n))
        start += n
    return out


def resolve_dataset(dataset: Dataset | str) -> Dataset:
    """The dataset itself, or the registered one of that name (split seed 0)."""
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, str):
        return load_dataset(dataset)
    raise ValueError(f"dataset must be a Dataset or a registered dataset name, got {dataset!r}")


def train_architecture(
    arch: Sequence[str] | NB201Cell | Any,
    dataset: Dataset | str,
    config: TrainConfig | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> TrainRecord:
    """Train cell ``arch`` (NB201 ops or cell, NB101 cell) on ``dataset`` with ``config`` and ``seed``.

    ``dataset`` is a :class:`~nasbench.datasets.Dataset` or a registered name (loaded with
    split seed 0). Deterministic for a given (arch, dataset, config, seed, device, torch
    build). Cells whose output is all zero train too (they stay at chance).
    """
    arch = checked_arch(arch)
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {config!r}")
    if preset_space(config.preset) != space_of(arch):
        raise ValueError(f"TrainConfig.preset {config.preset!r} builds {preset_space(config.preset)} networks, "
                         f"not {space_of(arch)} cells")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    data = resolve_dataset(dataset)
    dev = torch.device(device)
    macro = config.macro(data.input_shape, data.num_classes)
    n_train = len(data.y_train)
    if n_train < config.batch_size:
        raise ValueError(
            f"TrainConfig.batch_size={config.batch_size} exceeds the {n_train} training examples")
    tensors = dataset_tensors(data, dev)
    x_train, y_train = tensors["x_train"], tensors["y_train"]
    init_seed, order_seed = derived_seeds(int(seed))

    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(init_seed)
        model = build_network(arch, macro)
    params, flops = network_costs(arch, macro)
    torch_params = sum(p.numel() for p in model.parameters())
    if torch_params != params:  # the cost model must describe the built network exactly
        raise AssertionError(f"count_params={params} but the torch model has {torch_params} parameters")
    speed_up(model, macro.ndim)
    model.to(dev)

    trainable = list(model.parameters())
    if config.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            trainable, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
            weight_decay=config.weight_decay, foreach=True)
    else:
        optimizer = torch.optim.Adam(
            trainable, lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    group = optimizer.param_groups[0]
    generator = torch.Generator(device="cpu")
    generator.manual_seed(order_seed)

    steps_per_epoch = n_train // config.batch_size
    total_steps = config.epochs * steps_per_epoch
    bs = config.batch_size
    record = TrainRecord(params=params, flops=flops, device=device_name(dev),
                         torch_version=torch.__version__, seed=int(seed))

    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        step = 0
        for _ in range(config.epochs):
            model.train()
            start = time.perf_counter()
            perm = torch.randperm(n_train, generator=generator).to(dev)
            loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
            correct = torch.zeros((), dtype=torch.int64, device=dev)
            for i in range(steps_per_epoch):
                if config.schedule == "cosine":
                    group["lr"] = config.lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))
                idx = perm[i * bs:(i + 1) * bs]
                xb, yb = x_train[idx], y_train[idx]
                logits = model(xb)
                loss = F.cross_entropy(logits, yb, label_smoothing=config.label_smoothing)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    loss_sum += loss.detach().double()
                    correct += (logits.detach().argmax(1) == yb).sum()
                step += 1
            train_loss = float(loss_sum) / steps_per_epoch
            train_acc = 100.0 * float(correct) / (steps_per_epoch * bs)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            record.epoch_seconds.append(time.perf_counter() - start)

            start = time.perf_counter()
            model.eval()
            valid, test = _evaluate(model, tensors["x_eval"], tensors["y_eval"], config.eval_batch_size,
                                    (len(data.y_valid), len(data.y_test)))
            record.eval_seconds.append(time.perf_counter() - start)
            record.train_loss.append(train_loss)
            record.train_acc.append(train_acc)
            record.valid_loss.append(valid[0])
            record.valid_acc.append(valid[1])
            record.test_loss.append(test[0])
            record.test_acc.append(test[1])
    finally:
        torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
    return record


def device_name(dev: torch.device) -> str:
    """A readable device string: 'cpu', or 'cuda:0 (NVIDIA H100 ...)'."""
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(dev)
