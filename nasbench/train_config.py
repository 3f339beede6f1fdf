"""How one architecture is trained (:class:`TrainConfig`: optimiser, schedule, epochs, skeleton
preset) and the configs calibrated for the shipped tables; torch-free, so manifests, the CLI
and the calibration study read and check configs without importing torch."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.models.config import MacroConfig
from nasbench.models.family import preset_macro, preset_names

__all__ = ["TrainConfig", "CALIBRATED", "CALIBRATED_NB101", "OPTIMIZERS", "SCHEDULES"]


OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "constant")


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"TrainConfig.{name} must be an integer >= {minimum}, got {value!r}")


def _check_float(name: str, value: object, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False) -> None:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        ok = math.isfinite(v) and above and below
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"TrainConfig.{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """How one architecture is trained: optimiser, schedule, epochs and the macro skeleton.

    The skeleton is the ``preset`` (NB201's :data:`nasbench.models.config.PRESETS` or NB101's
    :data:`nasbench.models.nb101_config.NB101_PRESETS`, for cells of that space), with
    ``channels``, ``cells_per_stage`` and ``stages`` overriding it where given; the
    dataset supplies the input shape and the number of classes (see :meth:`macro`).
    ``lr`` is the peak learning rate; ``schedule="cosine"`` anneals it to 0 per step over
    the whole run (NAS-Bench-201's schedule, without warm-up). ``momentum`` and
    ``nesterov`` apply to SGD only (Adam uses its default betas). ``eval_batch_size``
    only changes speed (eval-mode outputs are per example).
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    schedule: str = "cosine"
    preset: str = "small"
    channels: int | None = None
    cells_per_stage: int | None = None
    stages: int | None = None
    eval_batch_size: int = 128

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 2)  # BatchNorm needs >= 2 samples a step
        _check_int("eval_batch_size", self.eval_batch_size, 1)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"TrainConfig.optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"TrainConfig.schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        _check_float("lr", self.lr, 0.0, math.inf, low_open=True, high_open=True)
        _check_float("momentum", self.momentum, 0.0, 1.0, high_open=True)
        _check_float("weight_decay", self.weight_decay, 0.0, math.inf, high_open=True)
        _check_float("label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        if not isinstance(self.nesterov, bool):
            raise ValueError(f"TrainConfig.nesterov must be a bool, got {self.nesterov!r}")
        if self.optimizer == "sgd" and self.nesterov and self.momentum == 0:
            raise ValueError("TrainConfig.nesterov=True needs momentum > 0, got momentum=0")
        if not isinstance(self.preset, str) or self.preset not in preset_names():
            raise ValueError(
                f"TrainConfig.preset must be one of {', '.join(preset_names())}, got {self.preset!r}")
        for name in ("channels", "cells_per_stage", "stages"):
            value = getattr(self, name)
            if value is not None:
                _check_int(name, value, 1)

    def macro(self, input_shape: Sequence[int], num_classes: int) -> MacroConfig:
        """The MacroConfig trained: the preset, its overrides, the dataset's shape and classes."""
        base = preset_macro(self.preset, tuple(input_shape), num_classes)
        overrides = {k: getattr(self, k) for k in ("channels", "cells_per_stage", "stages")
                     if getattr(self, k) is not None}
        return dataclasses.replace(base, **{k: int(v) for k, v in overrides.items()})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields (for manifests)."""
        return dataclasses.asdict(self)


# Calibrated with the v1 script (python -m nasbench.calibrate, replaced by `nasbench calibrate`): 60 archs from distinct isomorphism classes
# (each trained through its cheapest member), seeds 0 and 1, 1 thread per process, on a
# shared 2-core VM. One stage (no reduction blocks): with the 3-stage "tiny" skeleton even
# an all-skip cell reaches 94% (mnist1d) / 99% (digits) and the seed-to-seed Spearman of
# the final valid accuracy was 0.50 / 0.28; with one stage the cell does the work.
#   digits  (5 epochs):  Spearman 0.926 (bootstrap 90% CI 0.86-0.96), 0.51 core-s a run.
#   mnist1d (7 epochs):  Spearman 0.913 (0.85-0.95), 0.96 core-s a run; 10 epochs: 0.933,
#                        1.35 core-s; 5 epochs: 0.890, ~0.8 core-s.
CALIBRATED: dict[str, TrainConfig] = {
    "digits": TrainConfig(epochs=5, batch_size=64, lr=0.1, preset="small"),
    "mnist1d": TrainConfig(epochs=7, batch_size=128, lr=0.1, preset="small"),
    # The calibration study (tables/calibration, `nasbench calibrate`), config geo2-18k-e8-bs256:
    # 200 stratified classes x 3 seeds: seed Spearman 0.975, top-10% split-half Spearman 0.70,
    # top-1% overlap 71%, best 90.3, regret floor 0.34; not met: top-1% spread 0.29 vs noise
    # 0.55, median last-epoch gain 0.69. About 5.5 core-s a training (24 core-h a table).
    "mnist1d-hard": TrainConfig(epochs=8, batch_size=256, lr=0.2, preset="small"),
}


# NB101 cells (nasbench.models.nb101) in the one-cell "nb101-small" skeleton, trained with the
# NB201 tables' recipes; the pilot behind the digits entry is in tables/nb101-digits' datasheet notes.
CALIBRATED_NB101: dict[str, TrainConfig] = {
    "digits": TrainConfig(epochs=5, batch_size=64, lr=0.1, preset="nb101-small"),
}
