"""Tests for the training core of the table generator (nasbench.training)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn

from nasbench.datasets import Dataset
from nasbench.models import build_model, count_flops, count_params
from nasbench.spaces.nb201 import NB201Cell
from nasbench.training import (
    CALIBRATED, TrainConfig, TrainRecord, _ShiftAvgPool3, init_worker, speed_up, train_architecture,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MIXED = ("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "nor_conv_3x3", "skip_connect")
ALL_NONE = ("none",) * 6
TINY = TrainConfig(epochs=3, batch_size=32, lr=0.1, channels=4, cells_per_stage=1, stages=2)


@pytest.fixture(scope="module")
def mixed_run(digits: Dataset) -> TrainRecord:
    return train_architecture(MIXED, digits, TINY, seed=0)


def test_same_seed_gives_bit_identical_curves(digits: Dataset, mixed_run: TrainRecord) -> None:
    again = train_architecture(MIXED, digits, TINY, seed=0)
    assert again.curves() == mixed_run.curves()  # exact float equality, every epoch
    assert (again.params, again.flops) == (mixed_run.params, mixed_run.flops)


def test_different_seed_gives_different_curves(digits: Dataset, mixed_run: TrainRecord) -> None:
    other = train_architecture(MIXED, digits, TINY, seed=1)
    assert other.train_loss != mixed_run.train_loss
    assert other.valid_loss != mixed_run.valid_loss


def test_curves_have_one_value_per_epoch_and_valid_ranges(mixed_run: TrainRecord) -> None:
    for name in (*TrainRecord.CURVES, "epoch_seconds", "eval_seconds"):
        assert len(getattr(mixed_run, name)) == TINY.epochs, name
    for name in ("train_acc", "valid_acc", "test_acc"):
        assert all(0.0 <= a <= 100.0 for a in getattr(mixed_run, name)), name
    for name in ("train_loss", "valid_loss", "test_loss"):
        assert all(math.isfinite(v) and v >= 0.0 for v in getattr(mixed_run, name)), name
    assert all(s > 0 for s in mixed_run.epoch_seconds)
    assert mixed_run.device == "cpu"
    assert mixed_run.torch_version == torch.__version__
    assert mixed_run.seed == 0


def test_tiny_config_learns(mixed_run: TrainRecord) -> None:
    """A 3-epoch (30-step), 4-channel run on 320 digits is already well above chance (10%)."""
    assert mixed_run.train_loss[-1] < mixed_run.train_loss[0]
    assert mixed_run.train_acc[-1] > 35.0
    assert mixed_run.valid_acc[-1] > 25.0


def test_params_and_flops_match_the_cost_model(digits: Dataset, mixed_run: TrainRecord) -> None:
    macro = TINY.macro(digits.input_shape, digits.num_classes)
    assert mixed_run.params == count_params(MIXED, macro)
    assert mixed_run.flops == count_flops(MIXED, macro)
    model = build_model(MIXED, macro)
    assert mixed_run.params == sum(p.numel() for p in model.parameters())


def test_all_none_cell_trains_and_stays_at_chance(digits: Dataset) -> None:
    """Its logits do not depend on the input, so it predicts one class everywhere."""
    record = train_architecture(ALL_NONE, digits, TINY, seed=0)
    assert len(record.valid_acc) == TINY.epochs
    majority = 100.0 * np.bincount(digits.y_valid).max() / len(digits.y_valid)
    assert all(a <= majority + 1e-9 for a in record.valid_acc)
    assert all(math.isfinite(v) for v in record.valid_loss)


def test_one_dimensional_dataset_and_adam(mnist1d: Dataset) -> None:
    config = dataclasses.replace(TINY, epochs=2, optimizer="adam", lr=0.01, nesterov=False,
                                 momentum=0.0)
    first = train_architecture(NB201Cell(MIXED), mnist1d, config, seed=3)
    second = train_architecture(MIXED, mnist1d, config, seed=3)
    assert first.curves() == second.curves()
    assert first.params == count_params(MIXED, config.macro((1, 40), 10))


def test_global_torch_state_is_left_alone(digits: Dataset) -> None:
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    train_architecture(ALL_NONE, digits, dataclasses.replace(TINY, epochs=1), seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.are_deterministic_algorithms_enabled() == deterministic


@pytest.mark.parametrize(
    "shape", [(3, 4, 40), (3, 4, 1), (3, 4, 2), (3, 4, 8, 8), (3, 4, 2, 1), (3, 4, 1, 3)])
def test_shift_pool_equals_avg_pool(shape: tuple[int, ...]) -> None:
    ndim = len(shape) - 2
    ref = (nn.AvgPool1d if ndim == 1 else nn.AvgPool2d)(3, stride=1, padding=1, count_include_pad=False)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(_ShiftAvgPool3(ndim)(x), ref(x))


@pytest.mark.parametrize("input_shape", [(1, 40), (1, 8, 8)])
def test_speed_up_keeps_the_function(input_shape: tuple[int, ...]) -> None:
    macro = TINY.macro(input_shape, 10)
    torch.manual_seed(0)
    model = build_model(("avg_pool_3x3",) * 3 + MIXED[3:], macro)
    fast = build_model(("avg_pool_3x3",) * 3 + MIXED[3:], macro)
    fast.load_state_dict(model.state_dict())
    speed_up(fast, macro.ndim)
    pools = [m for m in fast.modules() if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d))]
    assert all(m.kernel_size in (2, (2,), (2, 2)) for m in pools)  # only the reductions' are left
    x = torch.randn(16, *input_shape)
    model.train()
    fast.train()
    torch.testing.assert_close(fast(x), model(x))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epochs", 0), ("epochs", 2.5), ("epochs", True), ("batch_size", 1), ("eval_batch_size", 0),
        ("lr", 0.0), ("lr", -0.1), ("lr", float("nan")), ("lr", "0.1"), ("momentum", 1.0),
        ("momentum", -0.5), ("weight_decay", -1e-4), ("label_smoothing", 1.0), ("optimizer", "rmsprop"),
        ("schedule", "step"), ("preset", "huge"), ("channels", 0), ("cells_per_stage", -1),
        ("stages", 1.0), ("nesterov", "yes"),
    ],
)
def test_bad_config_values_raise_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError) as info:
        TrainConfig(**{field: value})
    assert f"TrainConfig.{field} " in str(info.value)
    assert repr(value) in str(info.value)


def test_nesterov_needs_momentum() -> None:
    with pytest.raises(ValueError, match="nesterov"):
        TrainConfig(momentum=0.0, nesterov=True)
    TrainConfig(momentum=0.0, nesterov=False)  # fine


def test_bad_call_arguments(digits: Dataset) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        train_architecture(MIXED, digits, dataclasses.replace(TINY, batch_size=1000), seed=0)
    with pytest.raises(ValueError, match="seed"):
        train_architecture(MIXED, digits, TINY, seed=-1)
    with pytest.raises(ValueError, match="ops"):
        train_architecture(("conv",) * 6, digits, TINY, seed=0)


def test_macro_applies_the_overrides() -> None:
    macro = TrainConfig(channels=12, cells_per_stage=2, stages=2).macro((1, 8, 8), 10)
    assert (macro.channels, macro.cells_per_stage, macro.stages) == (12, 2, 2)
    assert macro.input_shape == (1, 8, 8) and macro.num_classes == 10
    preset = TrainConfig().macro((1, 40), 10)
    assert (preset.channels, preset.cells_per_stage, preset.stages) == (16, 1, 1)


def test_valid_and_test_are_not_mixed_up(digits: Dataset, mixed_run: TrainRecord) -> None:
    """Changing only the test labels changes only the test curves."""
    shifted = dataclasses.replace(digits, y_test=(digits.y_test + 1) % 10)
    record = train_architecture(MIXED, shifted, TINY, seed=0)
    for name in ("train_loss", "train_acc", "valid_loss", "valid_acc"):
        assert getattr(record, name) == getattr(mixed_run, name), name
    assert record.test_acc != mixed_run.test_acc
    assert record.test_loss != mixed_run.test_loss


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_init_worker_rejects_bad_thread_counts(threads: object) -> None:
    with pytest.raises(ValueError, match="num_threads"):
        init_worker(threads)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(CALIBRATED))
def test_calibrated_configs_build_for_their_dataset(name: str) -> None:
    shape = {"digits": (1, 8, 8), "mnist1d": (1, 40), "mnist1d-hard": (1, 40)}[name]
    macro = CALIBRATED[name].macro(shape, 10)
    model = build_model(MIXED, macro)
    assert model(torch.zeros(2, *shape)).shape == (2, 10)
