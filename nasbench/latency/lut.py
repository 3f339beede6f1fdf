"""Operator look-up table: estimate any architecture's latency on a device from a few
minutes of profiling there, instead of timing all 15,625 networks (as HW-NAS-Bench and
FBNet do).

Model: latency(arch) = base + sum over stages s of N x sum over the cell's edges of
cost[s][op], where ``base`` is the whole network with an all-"none" cell (stem,
reductions, head, empty nodes) and cost[s][op] is op(x) + one tensor addition at stage s's
shape (the addition joins the edge into its node). Profiled for the eager torch runtime:
an ONNX Runtime graph fuses ops, so per-op sums describe it poorly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from nasbench.atomic import atomic_write_text
from nasbench.errors import NasbenchError
from nasbench.latency.measure import measure_model, time_calls
from nasbench.models import MacroConfig, build_model
from nasbench.models.nb201 import make_op
from nasbench.spaces.nb201 import OPS, op_ids_by_index

LUT_FORMAT = "nasbench.latency-lut/1"


@dataclass(frozen=True)
class LatencyLUT:
    """Profiled costs (ms) of one device at one batch size for one macro skeleton."""

    device: str
    runtime: str
    batch: int
    macro: dict
    base_ms: float
    op_ms: list[dict[str, float]]  # per stage: op name -> ms (none: 0)

    def estimate(self, indices: np.ndarray) -> np.ndarray:
        """Estimated latency (ms) of the nb201 cells at ``indices``."""
        ids = op_ids_by_index()[np.asarray(indices, dtype=np.int64)]  # (n, 6)
        per_cell = np.zeros(len(ids))
        for stage in self.op_ms:
            costs = np.asarray([stage.get(op, 0.0) for op in OPS])
            per_cell += self.macro["cells_per_stage"] * costs[ids].sum(axis=1)
        return self.base_ms + per_cell

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps({"format": LUT_FORMAT, **asdict(self)}, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> LatencyLUT:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise NasbenchError(f"latency table {path}: cannot be read ({exc})") from None
        if data.pop("format", None) != LUT_FORMAT:
            raise NasbenchError(f"latency table {path}: not a {LUT_FORMAT} file")
        return cls(**data)


def _macro(macro: dict | MacroConfig) -> MacroConfig:
    if isinstance(macro, MacroConfig):
        return macro
    return MacroConfig(**{**macro, "input_shape": tuple(macro["input_shape"])})


def profile(
    macro: dict | MacroConfig, device: str, batch: int = 1, warmup: int = 10, repeats: int = 50
) -> LatencyLUT:
    """Time the all-none network and every op at every stage's shape on this machine."""
    config = _macro(macro)
    torch.manual_seed(0)
    base = measure_model(build_model(["none"] * 6, config), config.input_shape, "torch", (batch,), warmup, repeats)
    op_ms = []
    for channels, size in zip(config.stage_channels(), config.stage_sizes()):
        x = torch.randn((batch, channels, *size))
        with torch.inference_mode():
            add = time_calls(lambda: x + x, warmup, repeats).median_ms
            stage = {"none": 0.0}
            for op in OPS[1:]:
                module = make_op(op, channels, config.ndim).eval()
                stage[op] = time_calls(lambda: module(x), warmup, repeats).median_ms + add
        op_ms.append(stage)
    fields = {"channels": config.channels, "cells_per_stage": config.cells_per_stage, "stages": config.stages,
              "input_shape": list(config.input_shape), "num_classes": config.num_classes}
    return LatencyLUT(device, "torch", batch, fields, base[batch].median_ms, op_ms)
