"""Torch-free description of NAS-Bench-201-style networks: op names, edge order, cell-op
validation and the macro skeleton config (shared by the cost model and the torch builder)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from nasbench.errors import InvalidArchitectureError, UnknownNameError
from nasbench.spaces.nb201 import EDGES, OPS, NB201Cell

__all__ = ["OPS", "EDGES", "CONV_KERNELS", "MacroConfig", "PRESETS", "validate_ops"]

CONV_KERNELS: dict[str, int] = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}


def validate_ops(ops: Sequence[str]) -> tuple[str, ...]:
    """The 6 edge ops as a tuple, or InvalidArchitectureError (a ValueError) naming the bad value."""
    if isinstance(ops, NB201Cell):
        return ops.ops
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise InvalidArchitectureError(f"ops must be a sequence of 6 op names, got {ops!r}")
    return NB201Cell(tuple(ops)).ops


def _positive_int(field: str, value: object) -> None:
    """Raise ValueError naming ``field`` unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"MacroConfig.{field} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class MacroConfig:
    """The macro skeleton around the cell; the defaults reproduce NAS-Bench-201 on CIFAR-10.

    stem (3-conv + BN, ``channels``) -> ``stages`` stages of ``cells_per_stage`` cells, with a
    residual reduction block (stride 2, channels doubled) between consecutive stages ->
    BN -> ReLU -> global average pool -> Linear(``num_classes``). ``input_shape`` is
    channels-first: (C, L) builds 1-D convolutions, (C, H, W) builds 2-D ones.
    """

    channels: int = 16
    cells_per_stage: int = 5
    stages: int = 3
    input_shape: tuple[int, ...] = (3, 32, 32)
    num_classes: int = 10
    #: BatchNorm momentum (torch's convention) of NB101 skeletons; None: NAS-Bench-101's 0.003.
    #: NB201 skeletons keep torch's default (0.1) and refuse any other value.
    bn_momentum: float | None = None

    def __post_init__(self) -> None:
        for field in ("channels", "cells_per_stage", "stages", "num_classes"):
            _positive_int(field, getattr(self, field))
        shape = self.input_shape
        if (
            not isinstance(shape, Sequence)
            or len(shape) not in (2, 3)
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape)
        ):
            raise ValueError(
                f"MacroConfig.input_shape must be (C, L) or (C, H, W) of positive ints, got {shape!r}"
            )
        object.__setattr__(self, "input_shape", tuple(shape))
        momentum = self.bn_momentum
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, (int, float))
                                     or not 0 < momentum <= 1):
            raise ValueError(f"MacroConfig.bn_momentum must be a number in (0, 1] or None, got {momentum!r}")

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (1 or 2)."""
        return len(self.input_shape) - 1

    def stage_channels(self) -> list[int]:
        """Channels of each stage: C, 2C, 4C, ..."""
        return [self.channels * 2**s for s in range(self.stages)]

    def stage_sizes(self) -> list[tuple[int, ...]]:
        """Spatial size of each stage; each reduction maps a size n to ceil(n / 2)."""
        sizes = [tuple(self.input_shape[1:])]
        for _ in range(self.stages - 1):
            sizes.append(tuple(math.ceil(n / 2) for n in sizes[-1]))
        return sizes

    @classmethod
    def for_dataset(cls, preset: str, input_shape: Sequence[int], num_classes: int) -> MacroConfig:
        """A preset's skeleton with a dataset's input shape and number of classes."""
        if preset not in PRESETS:
            raise UnknownNameError(f"unknown model preset {preset!r} (known: {', '.join(sorted(PRESETS))})")
        return dataclasses.replace(PRESETS[preset], input_shape=tuple(input_shape), num_classes=num_classes)


# "nb201": NAS-Bench-201's skeleton (C=16, N=5, 3 stages) on CIFAR-10.
# "small": the skeleton of the shipped tables (C=16, one cell, one stage: no reduction
#          blocks, so the cell does the work; calibrated in nasbench.training.CALIBRATED).
# "tiny":  a 3-stage, 8-channel skeleton, fast to build in tests; it saturates on the
#          small datasets (seed-to-seed Spearman 0.3-0.5), so it is not used for tables.
# Shapes shown are MNIST-1D's; use MacroConfig.for_dataset to set shape and classes.
PRESETS: dict[str, MacroConfig] = {
    "nb201": MacroConfig(channels=16, cells_per_stage=5, stages=3, input_shape=(3, 32, 32), num_classes=10),
    "small": MacroConfig(channels=16, cells_per_stage=1, stages=1, input_shape=(1, 40), num_classes=10),
    "tiny": MacroConfig(channels=8, cells_per_stage=1, stages=3, input_shape=(1, 40), num_classes=10),
}
