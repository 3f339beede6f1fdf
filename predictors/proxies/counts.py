"""Size proxies: params (parameter count) and flops (multiply-accumulates of one forward pass).

flops counts what NAS-Bench-201's counter counts (and :func:`nasbench.models.count_flops`
reproduces for the builder's networks), for ONE example of the batch's shape: every call
of a conv layer adds ``output elements * C_in / groups * prod(kernel)`` multiply-accumulates
(plus one per output element for a bias), every call of a linear layer adds ``output
elements * in_features`` (plus one per output element for a bias); BatchNorm, activations,
pooling, additions and anything else count zero. Layers are found by type (nn.Conv1d/2d/3d,
nn.Linear), and counted each time they run, on a scratch copy in eval mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from predictors.proxies.base import Proxy, register
from predictors.proxies.common import scratch, weighted_layers

Loss = Callable[..., torch.Tensor]


def params(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
           generator: torch.Generator) -> float:
    """Number of parameters of the module (shared parameters once; buffers not counted)."""
    return float(sum(parameter.numel() for parameter in model.parameters()))


def layer_macs(layer: nn.Module, output: torch.Tensor) -> int:
    """Multiply-accumulates of one call of a conv or linear layer that produced ``output``."""
    elements = output.numel()
    if isinstance(layer, nn.Linear):
        per_element = layer.in_features
    else:
        per_element = layer.in_channels // layer.groups * math.prod(layer.kernel_size)
    return elements * per_element + (elements if layer.bias is not None else 0)


def flops(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
          generator: torch.Generator) -> float:
    """Conv and linear multiply-accumulates of one forward pass of one example (see the module doc)."""
    total = 0

    def count(layer: nn.Module, args: tuple, output: torch.Tensor) -> None:
        nonlocal total
        total += layer_macs(layer, output)

    with scratch(model, generator, train=False) as net:
        for layer in weighted_layers(net):
            layer.register_forward_hook(count)
        with torch.no_grad():
            net(torch.zeros((1, *inputs.shape[1:]), dtype=inputs.dtype, device=inputs.device))
    return float(total)


register(Proxy(
    "params", params, uses="none", batch_size=1,
    definition="number of parameters (sum of numel over module.parameters())",
    reference="White et al. 2022, NAS-Bench-Suite-Zero (NeurIPS Datasets and Benchmarks); "
              "automl/NASLib measures/model_stats.py",
    differences="a raw count where NASLib reports millions (ranks are the same)",
))
register(Proxy(
    "flops", flops, uses="none", batch_size=1,
    definition="conv and linear multiply-accumulates (plus bias additions) of one forward pass of one "
               "example; every other op counts zero",
    reference="Dong & Yang 2020, NAS-Bench-201 (ICLR) FLOP counter; White et al. 2022, "
              "NAS-Bench-Suite-Zero; automl/NASLib measures/model_stats.py",
    differences="a raw count where NASLib reports MFLOPs from its own counter; pooling counts zero "
                "(as NAS-Bench-201's published FLOPs of its cells)",
))
