"""Analytic parameter and FLOP counts of NAS-Bench-201-style networks, without torch.

Both counts describe exactly the modules that ``nasbench.models.build_model`` creates:

- parameters: conv weights (no conv has a bias), BatchNorm affine weight and bias (not
  the running statistics), and the classifier's weight and bias; equal to
  ``sum(p.numel() for p in model.parameters())``. "none" edges have no parameters; conv
  edges whose input is always zero still exist and are counted.
- FLOPs, for ONE sample, following NAS-Bench-201's counter (so the all-nor_conv_3x3 cell
  gives its published 220.11969 MFLOPs on CIFAR-10): convolutions count multiply-
  accumulates ``C_out * C_in / groups * k**d * output_positions``, the classifier counts
  ``in * out + out`` (weights plus bias); BatchNorm, ReLU, pooling and additions count
  zero. Every conv in the network runs in the forward pass (also on all-zero inputs), so
  every conv is counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nasbench.models.config import CONV_KERNELS, MacroConfig, validate_ops

__all__ = ["count_params", "count_flops", "count_costs"]


def count_costs(ops: Sequence[str], config: MacroConfig) -> tuple[int, int]:
    """(parameters, FLOPs per sample) of the network ``build_model(ops, config)``."""
    ops = validate_ops(ops)
    d = config.ndim
    params = flops = 0

    def conv(c_in: int, c_out: int, k: int, size: tuple[int, ...], bn: bool = True) -> None:
        nonlocal params, flops
        weights = c_in * c_out * k**d
        params += weights + (2 * c_out if bn else 0)
        flops += weights * math.prod(size)

    channels, sizes = config.stage_channels(), config.stage_sizes()
    conv(config.input_shape[0], channels[0], 3, sizes[0])  # stem
    for s, (c, size) in enumerate(zip(channels, sizes)):
        if s > 0:  # residual reduction block: conv_a (stride 2), conv_b, 1x1 shortcut
            conv(channels[s - 1], c, 3, size)
            conv(c, c, 3, size)
            conv(channels[s - 1], c, 1, size, bn=False)
        for _ in range(config.cells_per_stage):
            for op in ops:
                if op in CONV_KERNELS:
                    conv(c, c, CONV_KERNELS[op], size)
    c_last, classes = channels[-1], config.num_classes
    params += 2 * c_last + c_last * classes + classes  # head BN + classifier
    flops += c_last * classes + classes
    return params, flops


def count_params(ops: Sequence[str], config: MacroConfig) -> int:
    """Number of trainable parameters (BN affine included, running stats excluded)."""
    return count_costs(ops, config)[0]


def count_flops(ops: Sequence[str], config: MacroConfig) -> int:
    """FLOPs per sample in NAS-Bench-201's convention (conv/linear MACs + linear bias)."""
    return count_costs(ops, config)[1]
