"""Shared torch helpers of the proxy modules: which layers count, and the scratch copy a proxy scores.

Every proxy scores a deep copy of the caller's module (:func:`scratch`), never the module
itself, so weights, buffers, gradients, ``requires_grad`` and train/eval modes are as they
were afterwards without any restore step that could be skipped by an exception. The copy
is in train mode (BatchNorm normalises with batch statistics), as in the reference
implementations, which score freshly built networks; dropout is switched off, so a score
is a function of the weights and the batch alone. Randomness inside the copy's forward
(a user module calling ``torch.rand``, say) runs on torch's global RNG forked for the
duration and seeded from the proxy's generator: the caller's global RNG state is untouched
and the score does not depend on it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

__all__ = [
    "BATCHNORMS",
    "GLOBAL_POOLS",
    "RELUS",
    "WEIGHTED",
    "all_finite",
    "batch_jacobian",
    "exact_sum",
    "halves",
    "remove_batchnorm",
    "scratch",
    "weighted_layers",
]

#: The layers whose weights the gradient proxies read (the references take nn.Conv2d and
#: nn.Linear; 1-D and 3-D convolutions count as their 2-D counterpart does).
WEIGHTED: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
BATCHNORMS: tuple[type[nn.Module], ...] = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
#: The rectifiers NASWOT reads codes from (the reference hooks every module whose type name
#: contains "ReLU").
RELUS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.RReLU)
GLOBAL_POOLS: tuple[type[nn.Module], ...] = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
_DROPOUTS: tuple[type[nn.Module], ...] = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                                          nn.FeatureAlphaDropout)


def weighted_layers(model: nn.Module) -> list[nn.Module]:
    """The conv and linear layers of ``model``, in module order."""
    return [module for module in model.modules() if isinstance(module, WEIGHTED)]


def remove_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm of ``model`` (in place) by an identity, as synflow's reference does."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, BATCHNORMS):
                setattr(parent, name, nn.Identity())
    return model


def _device(model: nn.Module) -> torch.device:
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextmanager
def scratch(model: nn.Module, generator: torch.Generator, *, train: bool = True,
            batchnorm: bool = True) -> Iterator[nn.Module]:
    """A deep copy of ``model`` to score: ``train`` mode with dropout off, no gradients, every
    parameter requiring grad, BatchNorm replaced by identities unless ``batchnorm``; torch's
    global RNG is forked and seeded from ``generator`` while the copy is in use."""
    net = copy.deepcopy(model)
    if isinstance(net, BATCHNORMS) and not batchnorm:
        net = nn.Identity()
    elif not batchnorm:
        remove_batchnorm(net)
    net.train(train)
    for module in net.modules():
        if isinstance(module, _DROPOUTS):
            module.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(True)
        parameter.grad = None
    device = _device(net)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(cuda[0]):
                torch.cuda.manual_seed(seed)
        yield net


def batch_jacobian(net: nn.Module, inputs: torch.Tensor) -> tuple[np.ndarray, int]:
    """d(sum of outputs)/d(input) per example as float64 rows (N, D), and the output width."""
    x = inputs.detach().clone().requires_grad_(True)
    y = net(x)
    if y.requires_grad:
        y.backward(torch.ones_like(y))
    grad = torch.zeros_like(x) if x.grad is None else x.grad.detach()  # None: no path from input to output
    return grad.reshape(len(x), -1).double().cpu().numpy(), int(y.shape[-1])


def halves(inputs: torch.Tensor, targets: torch.Tensor, proxy: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The batch split into two halves (the first gets the smaller half of an odd batch)."""
    n = len(inputs)
    if n < 2:
        raise ValueError(f"{proxy} needs a batch of at least 2 inputs, got {n}")
    half = n // 2
    return [(inputs[:half], targets[:half]), (inputs[half:], targets[half:])]


def all_finite(matrix: np.ndarray) -> bool:
    """True when every entry of ``matrix`` is finite (a NaN correlation means a constant row)."""
    return bool(np.all(np.isfinite(matrix)))


def exact_sum(values: Iterable[float]) -> float:
    """math.fsum of ``values``; inf + -inf gives NaN and an overflow inf, as plain addition would."""
    values = list(values)
    try:
        return math.fsum(values)
    except (ValueError, OverflowError):
        return float(sum(values))
