"""train_stacked: K architectures trained at once in one StackedNB201, each as
train_architecture would train it alone (see nasbench.stacked)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from nasbench.datasets import Dataset
from nasbench.models.config import validate_ops
from nasbench.models.costs import count_costs
from nasbench.models.nb201 import build_model
from nasbench.spaces.nb201 import NB201Cell
from nasbench.stacked.network import StackedNB201
from nasbench.training import (
    TrainConfig,
    TrainRecord,
    dataset_tensors,
    derived_seeds,
    device_name,
    resolve_dataset,
)

__all__ = ["train_stacked"]


@torch.inference_mode()
def _evaluate(model: StackedNB201, x: torch.Tensor, y: torch.Tensor, batch: int,
              splits: Sequence[int]) -> list[list[tuple[float, float]]]:
    """Per architecture, per consecutive part of ``x`` of sizes ``splits`` (valid, test):
    (mean cross-entropy, accuracy in percent) in eval mode; every architecture sees the
    same inputs. Per-example losses are summed in float64, as ``train_architecture`` does."""
    K = model.K
    losses, hits = [], []
    for start in range(0, len(y), batch):
        xb, yb = x[start:start + batch], y[start:start + batch]
        logits = model.forward_shared(xb)  # (K, b, classes)
        b = len(yb)
        losses.append(F.cross_entropy(logits.reshape(K * b, -1), yb.repeat(K), reduction="none").view(K, b))
        hits.append(logits.argmax(2) == yb)
    loss, hit = torch.cat(losses, 1).double(), torch.cat(hits, 1)
    out: list[list[tuple[float, float]]] = [[] for _ in range(K)]
    start = 0
    for n in splits:
        sums = loss[:, start:start + n].sum(1).tolist()
        correct = hit[:, start:start + n].sum(1).tolist()
        for k in range(K):
            out[k].append((float(sums[k]) / n, 100.0 * float(correct[k]) / n))
        start += n
    return out


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def train_stacked(
    ops_list: Sequence[Sequence[str] | NB201Cell],
    seeds: Sequence[int],
    dataset: Dataset | str,
    config: TrainConfig | None = None,
    device: str | torch.device = "cpu",
) -> list[TrainRecord]:
    """Train cell ``ops_list[k]`` with seed ``seeds[k]`` for every k at once; one
    :class:`~nasbench.training.TrainRecord` per architecture, in order.

    The same run as ``train_architecture(ops_list[k], dataset, config, seeds[k], device)``
    for each k (same initial weights, mini-batch order, optimiser, schedule and eval), up
    to float rounding (see :mod:`nasbench.stacked`). Cells and seeds may repeat. ``epoch_seconds`` and
    ``eval_seconds`` are the stack's wall times divided by K.
    """
    cells = [validate_ops(ops) for ops in ops_list]
    seeds = [_check_seed(s) for s in seeds]
    if not cells:
        raise ValueError("ops_list must hold at least one cell")
    if len(seeds) != len(cells):
        raise ValueError(f"seeds: need one seed per cell ({len(cells)}), got {len(seeds)}")
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {config!r}")
    data = resolve_dataset(dataset)
    dev = torch.device(device)
    macro = config.macro(data.input_shape, data.num_classes)
    n_train = len(data.y_train)
    if n_train < config.batch_size:
        raise ValueError(f"TrainConfig.batch_size={config.batch_size} exceeds the {n_train} training examples")
    tensors = dataset_tensors(data, dev)
    x_train, y_train = tensors["x_train"], tensors["y_train"]
    K = len(cells)

    models, costs, generators = [], [], []
    for ops, seed in zip(cells, seeds):
        init_seed, order_seed = derived_seeds(seed)
        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            torch.manual_seed(init_seed)
            model = build_model(ops, macro)
        params, flops = count_costs(ops, macro)
        if sum(p.numel() for p in model.parameters()) != params:
            raise AssertionError(f"count_params={params} disagrees with the torch model of {ops}")
        models.append(model)
        costs.append((params, flops))
        generator = torch.Generator(device="cpu")
        generator.manual_seed(order_seed)
        generators.append(generator)
    stacked = StackedNB201(cells, macro).load_from_models(models)
    del models
    stacked.to(dev)

    dead = stacked.dead_blocks()  # kept at their initial values, as autograd leaves them alone
    dead_values = [block.detach().clone() for block in dead]
    trainable = list(stacked.parameters())
    if config.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            trainable, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
            weight_decay=config.weight_decay, foreach=True)
    else:
        optimizer = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    group = optimizer.param_groups[0]

    steps_per_epoch = n_train // config.batch_size
    total_steps = config.epochs * steps_per_epoch
    bs = config.batch_size
    device_label = device_name(dev)
    records = [TrainRecord(params=p, flops=f, device=device_label, torch_version=torch.__version__,
                                     seed=s) for (p, f), s in zip(costs, seeds)]
    # valid and test in one pass, in batches of eval_batch_size examples (each fed to all K)
    x_eval, y_eval = tensors["x_eval"], tensors["y_eval"]  # valid then test, concatenated once per dataset
    splits = (len(data.y_valid), len(data.y_test))

    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        step = 0
        for _ in range(config.epochs):
            stacked.train()
            start = time.perf_counter()
            perms = torch.stack([torch.randperm(n_train, generator=g) for g in generators]).to(dev)
            loss_sum = torch.zeros(K, dtype=torch.float64, device=dev)
            correct = torch.zeros(K, dtype=torch.int64, device=dev)
            for i in range(steps_per_epoch):
                if config.schedule == "cosine":
                    group["lr"] = config.lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))
                idx = perms[:, i * bs:(i + 1) * bs]  # (K, B): each architecture its own batch
                xb, yb = x_train[idx], y_train[idx]
                logits = stacked(xb)  # (K, B, classes)
                per_arch = F.cross_entropy(logits.reshape(K * bs, -1), yb.reshape(-1), reduction="none",
                                           label_smoothing=config.label_smoothing).view(K, bs).mean(1)
                loss = per_arch.sum()  # the sum keeps each architecture's gradient its own
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    for block, value in zip(dead, dead_values):
                        block.copy_(value)
                    loss_sum += per_arch.detach().double()
                    correct += (logits.detach().argmax(2) == yb).sum(1)
                step += 1
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            train_seconds = (time.perf_counter() - start) / K
            train_loss = [float(v) / steps_per_epoch for v in loss_sum.tolist()]
            train_acc = [100.0 * float(c) / (steps_per_epoch * bs) for c in correct.tolist()]

            start = time.perf_counter()
            stacked.eval()
            evaluated = _evaluate(stacked, x_eval, y_eval, config.eval_batch_size, splits)
            eval_seconds = (time.perf_counter() - start) / K
            for k, record in enumerate(records):
                record.epoch_seconds.append(train_seconds)
                record.eval_seconds.append(eval_seconds)
                record.train_loss.append(train_loss[k])
                record.train_acc.append(train_acc[k])
                (valid_loss, valid_acc), (test_loss, test_acc) = evaluated[k]
                record.valid_loss.append(valid_loss)
                record.valid_acc.append(valid_acc)
                record.test_loss.append(test_loss)
                record.test_acc.append(test_acc)
    finally:
        torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
    return records
