"""Tests for the NAS-Bench-201-style model builder and its torch-free cost model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from modeltools import hooked_flops

from nasbench.models import OPS, PRESETS, MacroConfig, build_model, count_flops, count_params

ALL_CONV3 = ["nor_conv_3x3"] * 6
ALL_NONE = ["none"] * 6

CONFIGS = {
    "nb201": MacroConfig(),
    "tiny-1d": MacroConfig.for_dataset("tiny", (1, 40), 10),
    "odd-2d": MacroConfig(channels=4, cells_per_stage=2, stages=3, input_shape=(1, 7, 5), num_classes=3),
}


def random_cells(n: int = 30) -> list[list[str]]:
    """``n`` random cells from numpy default_rng(0), plus the two extreme cells."""
    rng = np.random.default_rng(0)
    cells = [[OPS[i] for i in rng.integers(0, len(OPS), size=6)] for _ in range(n)]
    return cells + [ALL_CONV3, ALL_NONE]


@pytest.mark.parametrize(
    "config",
    [
        MacroConfig.for_dataset("tiny", (1, 40), 10),
        MacroConfig.for_dataset("tiny", (1, 8, 8), 10),
        MacroConfig.for_dataset("tiny", (3, 32, 32), 10),
        MacroConfig(),
    ],
    ids=["1d-mnist1d", "2d-digits", "2d-cifar-tiny", "2d-nb201"],
)
def test_forward_shape(config: MacroConfig) -> None:
    torch.manual_seed(0)
    model = build_model(["nor_conv_3x3", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "none", "nor_conv_3x3"], config)
    logits = model(torch.randn(2, *config.input_shape))
    assert logits.shape == (2, config.num_classes)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_params_and_flops_match_torch(name: str) -> None:
    config = CONFIGS[name]
    for ops in random_cells():
        model = build_model(ops, config)
        assert count_params(ops, config) == sum(p.numel() for p in model.parameters()), ops
        assert count_flops(ops, config) == hooked_flops(model, config.input_shape), ops


@pytest.mark.parametrize(
    ("ops", "input_shape", "classes", "params", "flops"),
    [
        # NAS-Bench-201's published extremes: 1.531546 M params / 220.11969 MFLOPs (largest
        # cell) and 0.073306 M / 7.78305 MFLOPs (no conv) on CIFAR-10, 220.12554 MFLOPs on
        # CIFAR-100 and 55.03756 MFLOPs on ImageNet16-120.
        (ALL_CONV3, (3, 32, 32), 10, 1_531_546, 220_119_690),
        (ALL_NONE, (3, 32, 32), 10, 73_306, 7_783_050),
        (ALL_CONV3, (3, 32, 32), 100, 1_537_396, 220_125_540),
        (ALL_CONV3, (3, 16, 16), 120, None, 55_037_560),
    ],
)
def test_nb201_published_costs(ops, input_shape, classes, params, flops) -> None:
    config = MacroConfig(input_shape=input_shape, num_classes=classes)
    if params is not None:
        assert count_params(ops, config) == params
    assert count_flops(ops, config) == flops


def test_nb201_default_torch_param_count() -> None:
    model = build_model(ALL_CONV3, PRESETS["nb201"])
    assert sum(p.numel() for p in model.parameters()) == 1_531_546


def test_all_none_cell_outputs_zeros_and_finite_logits() -> None:
    config = MacroConfig.for_dataset("tiny", (1, 8, 8), 10)
    model = build_model(ALL_NONE, config)
    x = torch.randn(2, *config.input_shape)
    logits = model(x)
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    cell = model.cells[0]
    assert torch.equal(cell(torch.randn(2, 8, 8, 8)), torch.zeros(2, 8, 8, 8))


def test_build_is_deterministic_under_seed() -> None:
    config = MacroConfig.for_dataset("tiny", (1, 40), 10)
    ops = ["nor_conv_3x3", "nor_conv_1x1", "skip_connect", "avg_pool_3x3", "nor_conv_3x3", "none"]
    torch.manual_seed(0)
    first = build_model(ops, config).state_dict()
    torch.manual_seed(0)
    second = build_model(ops, config).state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize(
    ("ops", "needle"),
    [
        (["none"] * 5, "got 5"),
        (["none"] * 7, "got 7"),
        (["none"] * 5 + ["conv_5x5"], "conv_5x5"),
        ("nor_conv_3x3", "nor_conv_3x3"),
    ],
)
def test_bad_ops_raise_value_error(ops, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        build_model(ops, MacroConfig())
    with pytest.raises(ValueError, match=needle):
        count_params(ops, MacroConfig())


@pytest.mark.parametrize(
    ("field", "value"),
    [("channels", 0), ("cells_per_stage", -1), ("stages", 1.5), ("num_classes", True),
     ("input_shape", (3, 32, 32, 32)), ("input_shape", (3, 0))],
)
def test_bad_config_raises_value_error(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        MacroConfig(**{field: value})


def test_presets_and_for_dataset() -> None:
    assert PRESETS["nb201"] == MacroConfig()
    config = MacroConfig.for_dataset("tiny", [1, 8, 8], 10)
    assert config.input_shape == (1, 8, 8) and config.channels == PRESETS["tiny"].channels
    with pytest.raises(KeyError, match="nope"):
        MacroConfig.for_dataset("nope", (1, 40), 10)


def test_wrong_input_shape_is_a_clear_error() -> None:
    model = build_model(ALL_CONV3, MacroConfig.for_dataset("tiny", (1, 40), 10))
    with pytest.raises(ValueError, match="input shape"):
        model(torch.randn(2, 1, 41))


def test_costs_do_not_import_torch() -> None:
    code = (
        "import sys; import nasbench.models.costs as c; from nasbench.models import MacroConfig;"
        "c.count_flops(['none'] * 6, MacroConfig()); assert 'torch' not in sys.modules, 'torch imported'"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)
