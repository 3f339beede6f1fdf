"""Helpers shared by the model-builder tests: FLOPs counted on a built module by forward hooks."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def hooked_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs per sample counted by forward hooks on conv and linear layers (NB201 style):
    conv MACs (+ one per output for a bias), linear in * out (+ out for a bias)."""
    total = 0

    def conv_hook(module: nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
        nonlocal total
        per_sample = output[0].numel()  # C_out * output positions
        kernel = int(np.prod(module.kernel_size))
        total += per_sample * module.in_channels // module.groups * kernel
        if module.bias is not None:
            total += per_sample

    def linear_hook(module: nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
        nonlocal total
        total += module.in_features * module.out_features
        if module.bias is not None:
            total += module.out_features

    handles = []
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    model.eval()
    with torch.no_grad():
        model(torch.randn(1, *input_shape))
    for handle in handles:
        handle.remove()
    return total
