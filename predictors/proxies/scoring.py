"""One chunk of proxy scores: build each architecture's untrained network under a recorded
init seed and score it with every proxy on one fixed batch (worker side; imports torch).

The batch is ``batch_size`` training examples drawn without replacement by
``numpy.random.default_rng(batch_seed)`` (:func:`batch_indices`), the same for every
architecture and init seed, so scores differ only by architecture and initialisation. The
network is the table's own skeleton (``manifest.generator.macro``) as deployed (the
builder's ``nn.AvgPool``), initialised by torch's default init under ``torch.manual_seed``
of the init seed inside ``torch.random.fork_rng`` (as training does), so nothing leaks
into or out of torch's global generator. Each proxy's own randomness comes from
``compute(..., seed=init_seed)``. On another device (``--device cuda``) the network is
initialised on the CPU as above and then moved, so its initial weights are the CPU's; each
row records the device that scored it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

COLUMNS = ("arch_index", "init_seed", "proxy", "score", "seconds", "error", "device")


@dataclass(frozen=True)
class ProxyJob:
    """A chunk of architectures to score under one init seed (picklable, no open resources)."""

    name: str  # the chunk's file stem, e.g. "init0-00000"
    indices: tuple[int, ...]
    init_seed: int
    dataset: str
    split_seed: int
    macro: dict[str, Any]  # MacroConfig fields (input_shape as a list)
    batch_size: int
    batch_seed: int
    proxies: tuple[str, ...]
    root: str | None = None  # folder of the dataset's files (CIFAR-10), None: the default
    space: str = "nb201"  # the search space the indices belong to
    device: str = "cpu"  # torch device that scores ("cuda", "cuda:1", ...); not part of the chunk's identity


RANDOM = "random"  # the dataset name of a documented random batch (no files needed)


def batch_indices(n_train: int, batch_size: int, batch_seed: int) -> np.ndarray:
    """The training examples of the scoring batch, in the order drawn."""
    if not 1 <= batch_size <= n_train:
        raise ValueError(f"batch_size: must be in 1..{n_train} (the training examples), got {batch_size}")
    return np.random.default_rng(batch_seed).choice(n_train, size=batch_size, replace=False)


def random_batch(shape: tuple[int, ...], num_classes: int, batch_size: int, batch_seed: int) -> tuple[Any, Any]:
    """The batch used without data files: standard normal inputs of ``shape`` (per example)
    and uniform labels, both from ``numpy.random.default_rng(batch_seed)``."""
    rng = np.random.default_rng(batch_seed)
    x = rng.standard_normal((batch_size, *shape)).astype(np.float32)
    return x, rng.integers(num_classes, size=batch_size).astype(np.int64)


@lru_cache(maxsize=2)
def _batch(dataset: str, split_seed: int, batch_size: int, batch_seed: int, shape: tuple[int, ...],
           num_classes: int, root: str | None) -> tuple[Any, Any]:
    import torch

    from nasbench.datasets import load_dataset

    if dataset == RANDOM:
        x, y = random_batch(shape, num_classes, batch_size, batch_seed)
    else:
        data = load_dataset(dataset, split_seed=split_seed, root=root)
        chosen = batch_indices(len(data.y_train), batch_size, batch_seed)
        x, y = np.ascontiguousarray(data.x_train[chosen]), data.y_train[chosen]
    return torch.from_numpy(x), torch.from_numpy(y)


def score_chunk(job: ProxyJob) -> dict[str, list]:
    """Score every architecture of ``job`` with every proxy: column lists of :data:`COLUMNS`.

    A proxy that raises gives a NaN score with its error message (counted, never dropped);
    a non-finite score is kept as it is.
    """
    import torch

    from nasbench.models.config import MacroConfig
    from nasbench.models.family import build_network
    from nasbench.spaces import get_space
    from nasbench.training import device_name, init_worker
    from predictors.proxies import ProxyError, compute, load_proxies
    from predictors.proxies.user import is_user_spec, register_user_proxy

    init_worker(1)
    load_proxies()
    for name in job.proxies:
        if is_user_spec(name):
            register_user_proxy(name)  # a worker process imports the user's file itself
    device = torch.device(job.device)
    label = device_name(device)
    inputs, targets = _batch(job.dataset, job.split_seed, job.batch_size, job.batch_seed,
                             tuple(job.macro["input_shape"]), int(job.macro["num_classes"]), job.root)
    inputs, targets = inputs.to(device), targets.to(device)
    macro = MacroConfig(**{**job.macro, "input_shape": tuple(job.macro["input_shape"])})
    out: dict[str, list] = {name: [] for name in COLUMNS}
    space = get_space(job.space)
    for index in job.indices:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(job.init_seed)
            model = build_network(space.from_index(index), macro).to(device)
        for proxy in job.proxies:
            start, error = time.perf_counter(), None
            try:
                value = compute(proxy, model, inputs, targets, seed=job.init_seed)
            except ProxyError as exc:
                value, error = math.nan, str(exc)
            out["arch_index"].append(index)
            out["init_seed"].append(job.init_seed)
            out["proxy"].append(proxy)
            out["score"].append(value)
            out["seconds"].append(time.perf_counter() - start)
            out["error"].append(error)
            out["device"].append(label)
    return out
