"""Torch builder for NAS-Bench-101-style networks (cell + skeleton), 1-D or 2-D.

Follows NAS-Bench-101 (google-research/nasbench ``model_builder.py``/``base_ops.py``). In a cell,
vertex t sums the outputs of its interior predecessors (truncated to t's channels, dropping the
extra channel of the +1 vertices) and, when fed by the input, a 1x1 conv-BN-ReLU projection of
the cell input; it then applies its op: conv3x3/conv1x1 + BN + ReLU (no conv bias) or a 3x3
stride-1 "same" max pool. The cell output concatenates (in vertex order) the vertices feeding
it, plus a projection of the cell input when input -> output is an edge; a 2-vertex cell is
that projection alone. Skeleton: stem conv3x3-BN-ReLU -> ``stages`` stacks of
``cells_per_stage`` cells, a 2x2/stride-2 max pool before every stack but the first with the
channels doubled (the stack's first cell widens them) -> global average pool -> Linear.
Batch norm uses NAS-Bench-101's momentum (TF 0.997, torch 0.003) and eps 1e-5. Specs must
already be pruned (see ``nasbench.models.nb101_config``). Weights use torch's default init
under the caller's torch seed; no global state is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from nasbench.models.config import MacroConfig
from nasbench.models.nb101_config import (
    BN_EPSILON, BN_MOMENTUM, NB101_CONV_KERNELS, NB101_PRESETS, NB101Spec, compute_vertex_channels,
    validate_spec,
)

__all__ = ["build_nb101_model", "NB101Network", "NB101CellModule", "ConvBNReLU", "compute_vertex_channels"]

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_MAX = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_GAP = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}


class ConvBNReLU(nn.Sequential):
    """Conv(k, stride 1, "same" padding, no bias) -> BatchNorm (NB101 momentum/eps) -> ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int, ndim: int) -> None:
        super().__init__(
            _CONV[ndim](c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False),
            _BN[ndim](c_out, eps=BN_EPSILON, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def _make_op(op: str, channels: int, ndim: int) -> nn.Module:
    """One vertex op with C_in == C_out == ``channels`` (the vertex input is already that wide)."""
    if op in NB101_CONV_KERNELS:
        return ConvBNReLU(channels, channels, NB101_CONV_KERNELS[op], ndim)
    return _MAX[ndim](3, stride=1, padding=1)  # "maxpool3x3" (validated); -inf padding == TF "same"


class NB101CellModule(nn.Module):
    """One NAS-Bench-101 cell (a "module" in its paper) from ``c_in`` to ``c_out`` channels."""

    def __init__(self, spec: NB101Spec, c_in: int, c_out: int, ndim: int) -> None:
        super().__init__()
        n = spec.num_vertices
        self.spec = spec
        self.vertex_channels = compute_vertex_channels(c_in, c_out, spec.matrix)
        self.projections = nn.ModuleDict()
        self.vertex_ops = nn.ModuleDict()
        for t in range(1, n - 1):  # NB101's creation order: vertex t's projection, then its op
            if spec.has_edge(0, t):
                self.projections[str(t)] = ConvBNReLU(c_in, self.vertex_channels[t], 1, ndim)
            self.vertex_ops[str(t)] = _make_op(spec.ops[t], self.vertex_channels[t], ndim)
        self.output_projection = ConvBNReLU(c_in, c_out, 1, ndim) if spec.has_edge(0, n - 1) else None
        self._sources = {t: [s for s in range(1, t) if spec.has_edge(s, t)] for t in range(1, n - 1)}
        self._concat = [t for t in range(1, n - 1) if spec.has_edge(t, n - 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors = [x]
        for t, sources in self._sources.items():
            width = self.vertex_channels[t]
            terms = [tensors[s][:, :width] for s in sources]  # truncation; a no-op when widths match
            if str(t) in self.projections:
                terms.append(self.projections[str(t)](x))
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            tensors.append(self.vertex_ops[str(t)](total))
        if not self._concat:  # 2-vertex cell: input -> output only
            return self.output_projection(x)
        out = tensors[self._concat[0]] if len(self._concat) == 1 else torch.cat(
            [tensors[t] for t in self._concat], dim=1)
        if self.output_projection is not None:
            out = out + self.output_projection(x)
        return out


class NB101Network(nn.Module):
    """Stem -> stacks of cells with max-pool downsampling -> global average pool -> Linear."""

    def __init__(self, spec: NB101Spec, config: MacroConfig) -> None:
        super().__init__()
        self.spec = spec
        self.config = config
        d, channels = config.ndim, config.stage_channels()
        self.stem = ConvBNReLU(config.input_shape[0], channels[0], 3, d)
        blocks: list[nn.Module] = []
        c_in = channels[0]
        for s, c_out in enumerate(channels):
            if s > 0:  # TF max_pooling2d(2, 2, "same") == ceil_mode: odd sizes n -> ceil(n / 2)
                blocks.append(_MAX[d](2, stride=2, ceil_mode=True))
            for _ in range(config.cells_per_stage):
                blocks.append(NB101CellModule(spec, c_in, c_out, d))
                c_in = c_out
        self.cells = nn.ModuleList(blocks)
        self.global_pooling = _GAP[d](1)
        self.classifier = nn.Linear(channels[-1], config.num_classes)
        if config.bn_momentum is not None:  # a skeleton trained for far fewer steps than NB101's
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.momentum = config.bn_momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = self.config.input_shape
        if tuple(x.shape[1:]) != expected:
            raise ValueError(f"input shape {tuple(x.shape)} does not match (batch, *{expected})")
        x = self.stem(x)
        for block in self.cells:
            x = block(x)
        return self.classifier(self.global_pooling(x).flatten(1))


def build_nb101_model(matrix: Any, ops: Sequence[str] | None = None,
                      config: MacroConfig | None = None) -> NB101Network:
    """The network for the pruned cell ``(matrix, ops)`` (or an object with ``.matrix``/``.ops``)
    in ``config`` (default: NAS-Bench-101's CIFAR-10 skeleton, preset "nb101")."""
    spec = validate_spec(matrix, ops)
    return NB101Network(spec, config if config is not None else NB101_PRESETS["nb101"])
