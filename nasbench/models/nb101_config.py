"""Torch-free description of NAS-Bench-101-style networks: op names, spec validation, the
vertex channel rule and the skeleton presets (shared by the cost model and the torch builder).

A spec is ``(matrix, ops)``: an upper-triangular 0/1 adjacency matrix of 2..7 vertices (vertex 0
is the input, the last vertex the output) and one op name per vertex. The builder assumes the
spec is already PRUNED as NAS-Bench-101's ModelSpec prunes it (every vertex on an input->output
path); it does not prune, it rejects a spec with an interior vertex lacking an input or an output.
The 9-edge limit is a property of the search space, not of the builder, and is not checked here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench.errors import InvalidArchitectureError, UnknownNameError
from nasbench.models.config import MacroConfig

__all__ = [
    "NB101_OPS", "NB101_CONV_KERNELS", "NB101_PRESETS", "MAX_VERTICES", "BN_MOMENTUM", "BN_EPSILON",
    "NB101Spec", "validate_spec", "compute_vertex_channels", "nb101_config",
]

NB101_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
NB101_CONV_KERNELS: dict[str, int] = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}
MAX_VERTICES = 7
# NAS-Bench-101's batch norm (base_ops.py): TF momentum 0.997 is torch momentum 1 - 0.997.
BN_MOMENTUM = 0.003
BN_EPSILON = 1e-5


@dataclasses.dataclass(frozen=True)
class NB101Spec:
    """A validated pruned cell: ``matrix[i][j] == 1`` is an edge i -> j; ``ops[i]`` is vertex i's op."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    @property
    def num_vertices(self) -> int:
        """Number of vertices, input and output included."""
        return len(self.ops)

    def has_edge(self, src: int, dst: int) -> bool:
        """Whether the edge src -> dst exists."""
        return bool(self.matrix[src][dst])


def _as_matrix(matrix: Any) -> np.ndarray:
    """``matrix`` as a 2-D int array of 0/1 entries, or InvalidArchitectureError naming the value."""
    if isinstance(matrix, (str, bytes)):
        raise InvalidArchitectureError(f"matrix must be a square 0/1 matrix, got {matrix!r}")
    try:
        array = np.asarray(matrix)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise InvalidArchitectureError(f"matrix must be a square 0/1 matrix, got {matrix!r}") from exc
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise InvalidArchitectureError(f"matrix must be square, got shape {array.shape}")
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InvalidArchitectureError(f"matrix entries must be 0 or 1, got dtype {array.dtype}")
    bad = np.argwhere((array != 0) & (array != 1))
    if len(bad):
        i, j = (int(v) for v in bad[0])
        raise InvalidArchitectureError(f"matrix[{i}][{j}] must be 0 or 1, got {array[i, j].item()!r}")
    return array.astype(np.int64)


def validate_spec(matrix: Any, ops: Sequence[str] | None = None) -> NB101Spec:
    """The pruned cell ``(matrix, ops)`` (or an object with ``.matrix``/``.ops``) as an NB101Spec.

    Raises InvalidArchitectureError (a ValueError) naming the bad field and value.
    """
    if ops is None:
        if not (hasattr(matrix, "matrix") and hasattr(matrix, "ops")):
            raise InvalidArchitectureError(
                f"ops is required unless the spec has .matrix and .ops, got {type(matrix).__name__}")
        matrix, ops = matrix.matrix, matrix.ops
    array = _as_matrix(matrix)
    n = array.shape[0]
    if not 2 <= n <= MAX_VERTICES:
        raise InvalidArchitectureError(f"matrix must have 2..{MAX_VERTICES} vertices, got {n}")
    below = np.argwhere(np.tril(array) != 0)
    if len(below):
        i, j = (int(v) for v in below[0])
        raise InvalidArchitectureError(f"matrix must be strictly upper triangular, got matrix[{i}][{j}] = 1")
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise InvalidArchitectureError(f"ops must be a sequence of {n} op names, got {ops!r}")
    ops = tuple(ops)
    if len(ops) != n:
        raise InvalidArchitectureError(f"ops must have one name per vertex ({n}), got {len(ops)}: {ops!r}")
    if ops[0] != "input":
        raise InvalidArchitectureError(f"ops[0] must be 'input', got {ops[0]!r}")
    if ops[-1] != "output":
        raise InvalidArchitectureError(f"ops[{n - 1}] must be 'output', got {ops[-1]!r}")
    for v, op in enumerate(ops[1:-1], start=1):
        if op not in NB101_OPS:
            raise InvalidArchitectureError(f"ops[{v}] must be one of {', '.join(NB101_OPS)}, got {op!r}")
    if n == 2 and not array[0, 1]:
        raise InvalidArchitectureError("matrix[0][1] must be 1: a 2-vertex cell is the input->output edge")
    for v in range(1, n - 1):
        if not array[:, v].any():
            raise InvalidArchitectureError(f"matrix column {v} is empty: vertex {v} has no input (spec not pruned)")
        if not array[v, :].any():
            raise InvalidArchitectureError(f"matrix row {v} is empty: vertex {v} has no output (spec not pruned)")
    return NB101Spec(tuple(tuple(int(x) for x in row) for row in array), ops)


def compute_vertex_channels(input_channels: int, output_channels: int, matrix: Any) -> list[int]:
    """Output channels of every vertex, by NAS-Bench-101's rule (for a valid pruned matrix).

    The output's channels are split evenly over the interior vertices feeding it, the first
    ``output_channels % fan_in`` of them (in vertex order) taking one extra channel; every other
    interior vertex takes the max over the interior vertices it feeds. Vertex 0 keeps
    ``input_channels``, the output ``output_channels``; a 2-vertex cell is just the two.
    """
    array = np.asarray(matrix)
    n = array.shape[0]
    channels = [0] * n
    channels[0], channels[n - 1] = input_channels, output_channels
    if n == 2:
        return channels
    feeds_output = [v for v in range(1, n - 1) if array[v, n - 1]]
    share, extra = divmod(output_channels, len(feeds_output))
    if share == 0:
        raise InvalidArchitectureError(
            f"output_channels {output_channels} is fewer than the {len(feeds_output)} vertices feeding the "
            "cell output; every vertex needs at least one channel")
    for rank, v in enumerate(feeds_output):
        channels[v] = share + (1 if rank < extra else 0)
    for v in range(n - 3, 0, -1):  # vertex n-2 can only feed the output
        if not array[v, n - 1]:
            channels[v] = max(channels[d] for d in range(v + 1, n - 1) if array[v, d])
    return channels


def nb101_config(preset: str, input_shape: Sequence[int] | None = None,
                 num_classes: int | None = None) -> MacroConfig:
    """An NB101 preset's skeleton, optionally with a dataset's input shape and number of classes."""
    if preset not in NB101_PRESETS:
        raise UnknownNameError(f"unknown NB101 model preset {preset!r} (known: {', '.join(sorted(NB101_PRESETS))})")
    config = NB101_PRESETS[preset]
    if input_shape is not None:
        config = dataclasses.replace(config, input_shape=tuple(input_shape))
    if num_classes is not None:
        config = dataclasses.replace(config, num_classes=num_classes)
    return config


# MacroConfig fields read for NB101 skeletons: channels = stem (= first stack) channels,
# cells_per_stage = modules per stack, stages = stacks (a 2x2/stride-2 max pool and doubled
# channels between stacks).
# "nb101":       NAS-Bench-101 on CIFAR-10 (stem 128, 3 stacks x 3 modules).
# "nb101-small": the skeleton for the shipped tables, like nb201's "small" (16 channels, one
#                stack of one cell, so the cell does the work); shape shown is MNIST-1D's. Its
#                BatchNorm momentum is torch's 0.1: with NAS-Bench-101's 0.003 a 5-epoch run on
#                digits (80 steps) leaves the running statistics ~21% of the way to the data's,
#                and every cell evaluates near chance (measured: 16-20% valid accuracy).
# Kept apart from nasbench.models.config.PRESETS so an NB201 preset name never builds an NB101
# skeleton (or the reverse).
NB101_PRESETS: dict[str, MacroConfig] = {
    "nb101": MacroConfig(channels=128, cells_per_stage=3, stages=3, input_shape=(3, 32, 32), num_classes=10),
    "nb101-small": MacroConfig(channels=16, cells_per_stage=1, stages=1, input_shape=(1, 40), num_classes=10,
                               bn_momentum=0.1),
}
