"""Small networks and batches shared by the zero-cost proxy tests (and tests/bench)."""

from __future__ import annotations

import struct

import torch
from torch import nn
from torch.nn import functional as F

from nasbench.models import MacroConfig, build_model
from predictors.proxies import PROXIES

BATCH, CLASSES = 16, 5
CELL = ("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3")
DISCONNECTED = ("none",) * 6
SHAPES = {"nb201-2d": (3, 8, 8), "nb201-1d": (1, 16), "mlp": (1, 16)}


def small_config(shape: tuple[int, ...]) -> MacroConfig:
    """A small NAS-Bench-201 skeleton: 4 channels, 2 stages of 1 cell, 5 classes."""
    return MacroConfig(channels=4, cells_per_stage=1, stages=2, input_shape=shape, num_classes=CLASSES)


def make_net(kind: str, ops: tuple[str, ...] = CELL, seed: int = 0) -> nn.Module:
    """A small network of ``kind`` (a key of SHAPES) with weights from torch seed ``seed``."""
    torch.manual_seed(seed)
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, CLASSES))
    return build_model(ops, small_config(SHAPES[kind]))


def make_batch(kind: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """BATCH Gaussian inputs of ``kind``'s shape and random targets, from a seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn((BATCH, *SHAPES[kind]), generator=generator)
    return inputs, torch.randint(0, CLASSES, (BATCH,), generator=generator)


def bits(value: float) -> bytes:
    """The float64 bytes of ``value`` (NaN equals NaN, bit for bit)."""
    return struct.pack("<d", value)


def score(name: str, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, seed: int = 0) -> float:
    """Proxy ``name`` called directly (not through compute), with cross-entropy and a seeded generator."""
    return float(PROXIES.get(name).score(model, inputs, targets, F.cross_entropy, torch.Generator().manual_seed(seed)))
