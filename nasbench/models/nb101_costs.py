"""Analytic parameter and FLOP counts of NAS-Bench-101-style networks, without torch.

Both counts describe exactly the modules that ``nasbench.models.nb101.build_nb101_model``
creates, in the convention of ``nasbench.models.costs``:

- parameters: conv weights (no conv has a bias), BatchNorm weight and bias (not the running
  statistics) and the classifier's weight and bias; equal to ``sum(p.numel() for p in
  model.parameters())`` and to NAS-Bench-101's ``trainable_parameters`` (TF's trainable
  variables: conv kernels, BN gamma and beta, dense kernel and bias).
- FLOPs, for ONE sample: convolutions count multiply-accumulates ``C_out * C_in * k**d *
  output_positions``, the classifier ``in * out + out``; BatchNorm, ReLU, pooling, channel
  truncation, concatenation and additions count zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nasbench.models.config import MacroConfig
from nasbench.models.nb101_config import (
    NB101_CONV_KERNELS, NB101_PRESETS, NB101Spec, compute_vertex_channels, validate_spec,
)

__all__ = ["count_nb101_costs", "count_nb101_params", "count_nb101_flops", "cell_costs"]


def cell_costs(spec: NB101Spec, c_in: int, c_out: int, positions: int, ndim: int) -> tuple[int, int]:
    """(parameters, FLOPs per sample) of one cell from ``c_in`` to ``c_out`` channels at
    ``positions`` spatial positions (length, or height * width)."""
    n = spec.num_vertices
    channels = compute_vertex_channels(c_in, c_out, spec.matrix)
    params = flops = 0

    def conv_bn_relu(cin: int, cout: int, k: int) -> None:
        nonlocal params, flops
        weights = cin * cout * k**ndim
        params += weights + 2 * cout
        flops += weights * positions

    for t in range(1, n - 1):
        if spec.has_edge(0, t):
            conv_bn_relu(c_in, channels[t], 1)  # projection of the cell input
        if spec.ops[t] in NB101_CONV_KERNELS:
            conv_bn_relu(channels[t], channels[t], NB101_CONV_KERNELS[spec.ops[t]])
    if spec.has_edge(0, n - 1):
        conv_bn_relu(c_in, c_out, 1)  # projection of the input into the output
    return params, flops


def count_nb101_costs(matrix: Any, ops: Sequence[str] | None = None,
                      config: MacroConfig | None = None) -> tuple[int, int]:
    """(parameters, FLOPs per sample) of ``build_nb101_model(matrix, ops, config)``."""
    spec = validate_spec(matrix, ops)
    config = config if config is not None else NB101_PRESETS["nb101"]
    d = config.ndim
    channels, sizes = config.stage_channels(), config.stage_sizes()
    positions = [math.prod(size) for size in sizes]
    stem = config.input_shape[0] * channels[0] * 3**d
    params, flops = stem + 2 * channels[0], stem * positions[0]
    c_in = channels[0]
    for c_out, where in zip(channels, positions, strict=True):
        for _ in range(config.cells_per_stage):
            p, f = cell_costs(spec, c_in, c_out, where, d)
            params, flops = params + p, flops + f
            c_in = c_out
    classes = config.num_classes
    head = channels[-1] * classes + classes
    return params + head, flops + head


def count_nb101_params(matrix: Any, ops: Sequence[str] | None = None, config: MacroConfig | None = None) -> int:
    """Number of trainable parameters (BN affine included, running stats excluded)."""
    return count_nb101_costs(matrix, ops, config)[0]


def count_nb101_flops(matrix: Any, ops: Sequence[str] | None = None, config: MacroConfig | None = None) -> int:
    """FLOPs per sample (conv/linear MACs + linear bias), as ``nasbench.models.costs`` counts them."""
    return count_nb101_costs(matrix, ops, config)[1]
