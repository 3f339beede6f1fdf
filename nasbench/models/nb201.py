"""Torch builder for NAS-Bench-201-style networks (cell + macro skeleton), 1-D or 2-D.

Follows NAS-Bench-201 (AutoDL-Projects ``TinyNetwork``/``InferCell``/``ResNetBasicblock``):
node j of a cell is the sum over i < j of op_{j<-i}(node i), the cell output is node 3;
"none" edges are skipped (a node with no other inputs is zeros), every other edge runs,
also on an all-zero input, exactly as in NAS-Bench-201. One deviation, invisible at even
sizes: the reduction shortcut's AvgPool uses ``ceil_mode=True`` so odd spatial sizes work.
Weights use torch's default init under the caller's torch seed; no global state is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasbench.models.config import CONV_KERNELS, EDGES, MacroConfig, validate_ops

__all__ = ["build_model", "NB201Network", "Cell", "ResidualReduction", "ReLUConvBN", "make_op"]

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_AVG = {1: nn.AvgPool1d, 2: nn.AvgPool2d}
_GAP = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv(k, bias=False, padding k//2) -> BatchNorm(affine, running stats)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, ndim: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            _CONV[ndim](c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            _BN[ndim](c_out, affine=True, track_running_stats=True),
        )


class Zero(nn.Module):
    """The "none" op: a parameter-free placeholder whose output is zeros."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def make_op(op: str, channels: int, ndim: int) -> nn.Module:
    """One edge op with C_in == C_out == ``channels`` and stride 1."""
    if op in CONV_KERNELS:
        return ReLUConvBN(channels, channels, CONV_KERNELS[op], 1, ndim)
    if op == "avg_pool_3x3":
        return _AVG[ndim](3, stride=1, padding=1, count_include_pad=False)
    if op == "skip_connect":
        return nn.Identity()
    return Zero()  # "none" (validated by the caller)


class Cell(nn.Module):
    """A 4-node NAS-Bench-201 cell; ``edges[e]`` is the op on ``EDGES[e]``."""

    def __init__(self, ops: Sequence[str], channels: int, ndim: int) -> None:
        super().__init__()
        self.ops = validate_ops(ops)
        self.edges = nn.ModuleList(make_op(op, channels, ndim) for op in self.ops)
        self._inputs = [
            [(e, frm) for e, (frm, to) in enumerate(EDGES) if to == node and self.ops[e] != "none"]
            for node in range(1, 4)
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for inputs in self._inputs:
            terms = [self.edges[e](nodes[frm]) for e, frm in inputs]
            node = terms[0] if terms else torch.zeros_like(x)
            for term in terms[1:]:
                node = node + term
            nodes.append(node)
        return nodes[3]


class ResidualReduction(nn.Module):
    """ResNet basic block between stages: stride 2, channels c_in -> c_out (NB201's)."""

    def __init__(self, c_in: int, c_out: int, ndim: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, ndim)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, ndim)
        self.downsample = nn.Sequential(
            _AVG[ndim](2, stride=2, padding=0, ceil_mode=True),
            _CONV[ndim](c_in, c_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """Stem -> stages of cells with residual reductions -> BN-ReLU-GAP-Linear head."""

    def __init__(self, ops: Sequence[str], config: MacroConfig) -> None:
        super().__init__()
        self.ops = validate_ops(ops)
        if config.bn_momentum is not None:
            raise ValueError(f"MacroConfig.bn_momentum={config.bn_momentum} is for NB101 skeletons; NB201 "
                             "networks use torch's default BatchNorm momentum")
        self.config = config
        d, channels = config.ndim, config.stage_channels()
        self.stem = nn.Sequential(
            _CONV[d](config.input_shape[0], channels[0], 3, padding=1, bias=False),
            _BN[d](channels[0]),
        )
        blocks: list[nn.Module] = []
        for s, c in enumerate(channels):
            if s > 0:
                blocks.append(ResidualReduction(channels[s - 1], c, d))
            blocks.extend(Cell(self.ops, c, d) for _ in range(config.cells_per_stage))
        self.cells = nn.ModuleList(blocks)
        self.lastact = nn.Sequential(_BN[d](channels[-1]), nn.ReLU(inplace=False))
        self.global_pooling = _GAP[d](1)
        self.classifier = nn.Linear(channels[-1], config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = self.config.input_shape
        if tuple(x.shape[1:]) != expected:
            raise ValueError(f"input shape {tuple(x.shape)} does not match (batch, *{expected})")
        x = self.stem(x)
        for block in self.cells:
            x = block(x)
        x = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(x)


def build_model(ops: Sequence[str], config: MacroConfig | None = None) -> NB201Network:
    """The network for cell ``ops`` (NB201 edge order) in ``config`` (default: NAS-Bench-201)."""
    return NB201Network(ops, config if config is not None else MacroConfig())
