"""Tests for the NAS-Bench-101-style model builder and its torch-free cost model."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from modeltools import hooked_flops
from torch import nn

from nasbench.errors import InvalidArchitectureError
from nasbench.models import (
    NB101_OPS,
    NB101_PRESETS,
    MacroConfig,
    build_nb101_model,
    compute_vertex_channels,
    count_nb101_costs,
    count_nb101_flops,
    count_nb101_params,
    nb101_config,
)
from nasbench.models.nb101 import NB101CellModule
from nasbench.models.nb101_config import validate_spec

C1, C3, MP = "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"

# NAS-Bench-101's README/colab example (an Inception-like cell) and the isomorphic form its
# dataset stores (module_adjacency / module_operations in the colab's query output).
INCEPTION = (
    [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
     [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", C1, C3, C3, C3, MP, "output"],
)
INCEPTION_STORED = (
    [[0, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", C3, C1, MP, C3, C3, "output"],
)
IDENTITY = ([[0, 1], [0, 0]], ["input", "output"])
# Vertex 1 (5 channels at c_out 9) feeds vertex 3 (4 channels): its input is truncated.
TRUNCATING = (
    [[0, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
    ["input", C3, C1, MP, "output"],
)

# Small skeletons: 2 stacks x 2 cells (a downsampling and a widening cell), odd spatial sizes.
SMALL_1D = MacroConfig(channels=8, cells_per_stage=2, stages=2, input_shape=(2, 9), num_classes=3)
SMALL_2D = MacroConfig(channels=8, cells_per_stage=2, stages=2, input_shape=(3, 7, 5), num_classes=4)


def prune(matrix: np.ndarray, ops: list[str]) -> tuple[np.ndarray, list[str]] | None:
    """NAS-Bench-101's pruning: keep the vertices on an input->output path; None if there is none."""
    n = len(ops)
    forward, backward = {0}, {n - 1}
    for v in range(1, n):
        if any(matrix[u, v] for u in forward):
            forward.add(v)
    for v in range(n - 2, -1, -1):
        if any(matrix[v, w] for w in backward):
            backward.add(v)
    if n - 1 not in forward:
        return None
    keep = sorted(forward & backward)
    return matrix[np.ix_(keep, keep)], [ops[v] for v in keep]


@st.composite
def pruned_specs(draw: st.DrawFn) -> tuple[np.ndarray, list[str]]:
    """A random valid pruned spec (2..7 vertices, at most 9 edges), pruned by :func:`prune`.

    Either a random upper-triangular matrix (edge probability 1/3), or a sparse one built as an
    edge into and out of every interior vertex plus a few random edges, so that large cells
    survive pruning.
    """
    n = draw(st.sampled_from([7, 6, 5, 4, 3, 2]))
    matrix = np.zeros((n, n), dtype=int)
    if draw(st.booleans()):
        size = n * (n - 1) // 2
        matrix[np.triu_indices(n, 1)] = draw(st.lists(st.sampled_from([0, 1, 0]), min_size=size, max_size=size))
    else:
        for v in range(1, n - 1):
            matrix[draw(st.integers(0, v - 1)), v] = 1
            matrix[v, draw(st.integers(v + 1, n - 1))] = 1
        for src, dst in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3)):
            if src < dst:
                matrix[src, dst] = 1
    ops = ["input", *draw(st.lists(st.sampled_from(NB101_OPS), min_size=n - 2, max_size=n - 2)), "output"]
    pruned = prune(matrix, ops)
    if pruned is None or pruned[0].sum() > 9:
        reject()
    return pruned


def check_costs(matrix: np.ndarray, ops: list[str], config: MacroConfig) -> None:
    """Analytic params/FLOPs equal the built module's parameter count and hooked FLOPs."""
    model = build_nb101_model(matrix, ops, config)
    params, flops = count_nb101_costs(matrix, ops, config)
    assert params == sum(p.numel() for p in model.parameters()), (matrix.tolist(), ops)
    assert flops == hooked_flops(model, config.input_shape), (matrix.tolist(), ops)


@pytest.mark.parametrize("config", [SMALL_1D, SMALL_2D], ids=["1d", "2d"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=pruned_specs())
def test_costs_match_the_built_module(config: MacroConfig, spec) -> None:
    check_costs(*spec, config)


@pytest.mark.parametrize("spec", [INCEPTION, INCEPTION_STORED, IDENTITY, TRUNCATING], ids=["inc", "inc2", "id", "trunc"])
@pytest.mark.parametrize("config", [SMALL_1D, SMALL_2D, nb101_config("nb101-small")], ids=["1d", "2d", "small"])
def test_costs_match_on_hand_specs(spec, config: MacroConfig) -> None:
    check_costs(np.array(spec[0]), spec[1], config)


def test_published_nb101_parameter_count() -> None:
    # NAS-Bench-101's colab (NASBench.ipynb, "Basic usage") queries the README's Inception-like
    # cell and prints trainable_parameters: 2694282 (TF trainable variables: conv kernels, BN
    # gamma and beta, dense kernel and bias) for the CIFAR-10 skeleton (stem 128, 3x3 modules).
    for matrix, ops in (INCEPTION, INCEPTION_STORED):
        assert count_nb101_params(matrix, ops, NB101_PRESETS["nb101"]) == 2_694_282
    model = build_nb101_model(*INCEPTION)  # default config: the "nb101" preset
    assert sum(p.numel() for p in model.parameters()) == 2_694_282
    assert count_nb101_flops(*INCEPTION) == count_nb101_flops(*INCEPTION_STORED)


def test_published_parameter_count_of_the_first_row_of_nas_bench_101() -> None:
    # The row with module hash 00005c142e6f48ac74fdcf73e3439874 (the smallest hash of the
    # dataset) records n_params 8555530, as quoted in NNI's NAS-Bench-101 docs and others.
    matrix = [[0, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0],
              [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu",
           "output"]
    assert count_nb101_params(matrix, ops, NB101_PRESETS["nb101"]) == 8_555_530


@pytest.mark.parametrize(
    ("matrix", "c_in", "c_out", "expected"),
    [
        # NAS-Bench-101's own cases (model_builder_test.py): linear chains, branching away from
        # the output, the output split with its remainder going to the first vertices, and
        # vertices taking the max over the vertices they feed.
        ([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], 8, 16, [8, 16, 16, 16]),
        ([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], 16, 8, [16, 8, 8, 8]),
        ([[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0] * 5], 8, 16, [8, 16, 16, 16, 16]),
        ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], 8, 8, [8, 4, 4, 8]),
        ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], 8, 15, [8, 8, 7, 15]),
        ([[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5], 8, 8, [8, 3, 3, 2, 8]),
        ([[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5], 8, 15, [8, 5, 5, 5, 15]),
        ([[0, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5], 8, 9, [8, 5, 5, 4, 9]),
        ([[0, 1, 0, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0] * 5], 8, 15, [8, 8, 7, 7, 15]),
        # The 2-vertex cell (input -> output only): no interior vertices to split over.
        ([[0, 1], [0, 0]], 1, 5, [1, 5]),
        ([[0, 1], [0, 0]], 5, 1, [5, 1]),
        # The README's Inception-like cell in the first stack of "nb101": 128 over 4 vertices.
        (INCEPTION[0], 128, 128, [128, 32, 32, 32, 32, 32, 128]),
    ],
)
def test_vertex_channels(matrix, c_in: int, c_out: int, expected: list[int]) -> None:
    assert compute_vertex_channels(c_in, c_out, np.array(matrix)) == expected
    assert compute_vertex_channels(c_in, c_out, matrix) == expected


def test_too_few_channels_for_the_output_split_is_a_clear_error() -> None:
    config = MacroConfig(channels=2, cells_per_stage=1, stages=1, input_shape=(1, 8), num_classes=2)
    with pytest.raises(InvalidArchitectureError, match="output_channels 2"):
        count_nb101_params(*INCEPTION, config)


def _assert_close(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape
    assert torch.allclose(a, b, atol=1e-6)


def test_cell_forward_follows_nb101() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 6, 5, 5)
    with torch.no_grad():
        # Inception cell: vertices 1, 2, 4, 5 feed the output (12 channels, 3 each); vertex 3
        # is projected from the input and feeds vertex 4 alone.
        cell = NB101CellModule(validate_spec(*INCEPTION), 6, 12, 2).eval()
        p, o = cell.projections, cell.vertex_ops
        v = {t: o[str(t)](p[str(t)](x)) for t in (1, 2, 3, 5)}
        v[4] = o["4"](v[3])
        _assert_close(cell(x), torch.cat([v[1], v[2], v[4], v[5]], dim=1))
        # Truncation: vertex 1 has 5 channels, vertex 3 takes its first 4; no input->output edge.
        cell = NB101CellModule(validate_spec(*TRUNCATING), 6, 9, 2).eval()
        assert cell.vertex_channels == [6, 5, 5, 4, 9] and cell.output_projection is None
        v1 = cell.vertex_ops["1"](cell.projections["1"](x))
        expected = torch.cat([cell.vertex_ops["2"](v1), cell.vertex_ops["3"](v1[:, :4])], dim=1)
        _assert_close(cell(x), expected)
        # 2-vertex cell: the projection of the input alone; input->output plus interior: added.
        cell = NB101CellModule(validate_spec(*IDENTITY), 6, 7, 2).eval()
        _assert_close(cell(x), cell.output_projection(x))
        spec = validate_spec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", MP, "output"])
        cell = NB101CellModule(spec, 6, 7, 2).eval()
        vertex = nn.functional.max_pool2d(cell.projections["1"](x), 3, stride=1, padding=1)
        _assert_close(cell(x), vertex + cell.output_projection(x))


def test_ops_and_batch_norm_follow_nb101() -> None:
    model = build_nb101_model(*INCEPTION, SMALL_2D)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.003 and m.eps == 1e-5 and m.affine for m in norms)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.bias is None and m.stride == (1, 1) and m.padding == (m.kernel_size[0] // 2,) * 2 for m in convs)
    pools = [m for m in model.modules() if isinstance(m, nn.MaxPool2d)]
    assert sorted((m.kernel_size, m.stride) for m in pools) == [(2, 2)] + [(3, 1)] * 4  # 1 downsample, 4 cells


@pytest.mark.parametrize(
    ("config", "stack_shapes"),
    [
        (NB101_PRESETS["nb101"], [(128, 32, 32), (256, 16, 16), (512, 8, 8)]),
        (nb101_config("nb101-small"), [(16, 40)]),
        (SMALL_1D, [(8, 9), (16, 5)]),
        (SMALL_2D, [(8, 7, 5), (16, 4, 3)]),
    ],
    ids=["nb101", "nb101-small", "odd-1d", "odd-2d"],
)
def test_output_shapes(config: MacroConfig, stack_shapes: list[tuple[int, ...]]) -> None:
    torch.manual_seed(0)
    model = build_nb101_model(*TRUNCATING, config)
    seen: list[tuple[int, ...]] = []
    cells = [m for m in model.cells if isinstance(m, NB101CellModule)]
    last_of_stack = cells[config.cells_per_stage - 1::config.cells_per_stage]
    for cell in last_of_stack:
        cell.register_forward_hook(lambda mod, inp, out: seen.append(tuple(out.shape[1:])))
    logits = model(torch.randn(2, *config.input_shape))
    assert logits.shape == (2, config.num_classes) and torch.isfinite(logits).all()
    assert seen == stack_shapes


def test_build_is_deterministic_under_seed_and_touches_no_global_state() -> None:
    torch.manual_seed(0)
    first = build_nb101_model(*INCEPTION, SMALL_1D).state_dict()
    after_first = torch.randn(3)
    torch.manual_seed(0)
    second = build_nb101_model(*INCEPTION, SMALL_1D).state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert torch.equal(torch.randn(3), after_first)  # the builder did not reseed torch
    torch.manual_seed(1)
    third = build_nb101_model(*INCEPTION, SMALL_1D).state_dict()
    assert not torch.equal(first["stem.0.weight"], third["stem.0.weight"])


@dataclasses.dataclass(frozen=True)
class _Cell:
    """A stand-in for the space's frozen cell: tuple-of-tuples matrix, tuple of op names."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]


def test_spec_objects_and_array_types_are_accepted() -> None:
    matrix, ops = INCEPTION
    expected = count_nb101_costs(matrix, ops)
    cell = _Cell(tuple(map(tuple, matrix)), tuple(ops))
    assert count_nb101_costs(cell) == expected
    assert count_nb101_costs(np.array(matrix, dtype=bool), tuple(ops)) == expected
    assert count_nb101_costs(np.array(matrix, dtype=np.int8), ops) == expected
    model = build_nb101_model(cell, config=SMALL_1D)
    assert model.spec.matrix == cell.matrix and model.spec.ops == cell.ops


UNPRUNED_NO_INPUT = [[0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
UNPRUNED_NO_OUTPUT = [[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
FOUR_OPS = ["input", C3, C1, "output"]


@pytest.mark.parametrize(
    ("matrix", "ops", "needle"),
    [
        ([[0, 1, 0], [0, 0, 1]], ["input", C3, "output"], r"square, got shape \(2, 3\)"),
        ([[0, 1], [0]], ["input", "output"], "square"),
        ("0110", ["input", "output"], "square 0/1 matrix"),
        ([[0]], ["input"], "2..7 vertices, got 1"),
        (np.triu(np.ones((8, 8), dtype=int), 1), ["input"] + [C3] * 6 + ["output"], "2..7 vertices, got 8"),
        ([[0, 2], [0, 0]], ["input", "output"], r"matrix\[0\]\[1\] must be 0 or 1, got 2"),
        ([[0, 0.5], [0, 0]], ["input", "output"], r"matrix\[0\]\[1\] must be 0 or 1"),
        ([["a", "b"], ["c", "d"]], ["input", "output"], "dtype"),
        ([[0, 1, 0], [0, 1, 1], [0, 0, 0]], ["input", C3, "output"], r"upper triangular, got matrix\[1\]\[1\]"),
        ([[0, 1, 0], [1, 0, 1], [0, 0, 0]], ["input", C3, "output"], r"upper triangular, got matrix\[1\]\[0\]"),
        ([[0, 1], [0, 0]], ["input", C3, "output"], r"one name per vertex \(2\), got 3"),
        ([[0, 1], [0, 0]], "input output", "sequence of 2 op names"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [C3, C3, "output"], r"ops\[0\] must be 'input'"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, C3], r"ops\[2\] must be 'output'"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], r"ops\[1\] .*'conv5x5'"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "output", "output"], r"ops\[1\] .*'output'"),
        ([[0, 0], [0, 0]], ["input", "output"], r"matrix\[0\]\[1\] must be 1"),
        (UNPRUNED_NO_INPUT, FOUR_OPS, "vertex 1 has no input"),
        (UNPRUNED_NO_OUTPUT, FOUR_OPS, "vertex 1 has no output"),
        (((0, 1), (0, 0)), None, "ops is required"),
    ],
)
def test_bad_specs_raise_invalid_architecture_error(matrix, ops, needle: str) -> None:
    for call in (validate_spec, count_nb101_params, build_nb101_model):
        with pytest.raises(InvalidArchitectureError, match=needle):
            call(matrix, ops)


def test_presets() -> None:
    assert NB101_PRESETS["nb101"] == MacroConfig(channels=128, cells_per_stage=3, stages=3)
    small = nb101_config("nb101-small", (1, 8, 8), 10)
    assert small.input_shape == (1, 8, 8) and small.channels == 16 and small.stages == small.cells_per_stage == 1
    with pytest.raises(KeyError, match="nb201"):
        nb101_config("nb201")


def test_wrong_input_shape_is_a_clear_error() -> None:
    model = build_nb101_model(*INCEPTION, SMALL_1D)
    with pytest.raises(ValueError, match="input shape"):
        model(torch.randn(2, 2, 10))


def test_models_package_and_nb101_costs_do_not_import_torch() -> None:
    code = (
        "import sys; import nasbench.models as m;"
        f"m.count_nb101_costs({INCEPTION[0]!r}, {INCEPTION[1]!r}, m.nb101_config('nb101-small'));"
        "m.compute_vertex_channels(8, 8, [[0, 1], [0, 0]]);"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)
