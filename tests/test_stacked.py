"""Tests for stacked training (nasbench.stacked): K networks in one module, each trained as if
alone. Float64 checks pin the semantics tightly; float32 checks compare with
``train_architecture`` to float-rounding tolerance (the kernels differ, see the module doc)."""

from __future__ import annotations

import copy
import dataclasses
import random

import pytest
import torch
import torch.nn.functional as F

from nasbench.datasets import Dataset
from nasbench.generator.execute import ChunkJob, train_chunk
from nasbench.generator.plan import Chunk
from nasbench.models import MacroConfig, build_model
from nasbench.models.config import OPS
from nasbench.spaces.nb201 import all_cells
from nasbench.stacked import StackedNB201, dead_parameters, train_stacked
from nasbench.training import TrainConfig, TrainRecord, speed_up, train_architecture

ALL_NONE = ("none",) * 6
ALL_CONV = ("nor_conv_3x3",) * 6
# node 2 feeds nothing (edge 2->3 is "none"): the two convs into node 2 are dead
DEAD_EDGES = ("skip_connect", "nor_conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "none")
# the output (node 3 = node 1 = zeros) ignores the cell input: the stem is dead
IGNORES_INPUT = ("none", "avg_pool_3x3", "skip_connect", "none", "skip_connect", "none")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

MIXED = ("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "nor_conv_3x3", "skip_connect")
_rng = random.Random(0)
RANDOM = [tuple(_rng.choice(OPS) for _ in range(6)) for _ in range(3)]
CELLS = [*RANDOM, ALL_NONE, DEAD_EDGES, ALL_CONV, IGNORES_INPUT, MIXED]

TINY = TrainConfig(epochs=2, batch_size=32, lr=0.1, channels=4, cells_per_stage=1, stages=2)
SHAPES = [(1, 40), (1, 8, 8), (2, 9), (1, 7, 5)]  # odd sizes exercise the ceil-mode reduction pool


def _macro(shape: tuple[int, ...], stages: int = 3, cells: int = 1) -> MacroConfig:
    return MacroConfig(channels=4, cells_per_stage=cells, stages=stages, input_shape=shape, num_classes=5)


def _models(cells, macro: MacroConfig, dtype=torch.float32) -> list:
    out = []
    for k, ops in enumerate(cells):
        torch.manual_seed(100 + k)
        out.append(build_model(ops, macro).to(dtype))
    return out


def _close_records(a: TrainRecord, b: TrainRecord, loss_tol: float = 1e-4, acc_tol: float = 1.0) -> None:
    for name in ("train_loss", "valid_loss", "test_loss"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=loss_tol, abs=loss_tol), name
    for name in ("train_acc", "valid_acc", "test_acc"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), abs=acc_tol), name


# -- the module ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_equals_each_network(shape: tuple[int, ...]) -> None:
    macro = _macro(shape)
    models = _models(CELLS, macro)
    stacked = StackedNB201.from_models(models)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(len(CELLS), 16, *shape, generator=g)
    for train in (True, False):
        stacked.train(train)
        for m in models:
            m.train(train)
        out = stacked(x)
        assert out.shape == (len(CELLS), 16, 5)
        for k, m in enumerate(models):
            torch.testing.assert_close(out[k], m(x[k]), atol=1e-5, rtol=1e-5)
    shared = stacked.eval().forward_shared(x[0])
    for k, m in enumerate(models):
        torch.testing.assert_close(shared[k], m.eval()(x[0]), atol=1e-5, rtol=1e-5)


def test_weights_round_trip_exactly_and_every_parameter_belongs_to_one_network() -> None:
    macro = _macro((1, 40), stages=2, cells=2)
    models = _models(CELLS, macro)
    stacked = StackedNB201.from_models(models)
    assert sum(p.numel() for p in stacked.parameters()) == sum(
        p.numel() for m in models for p in m.parameters())
    for k, m in enumerate(models):
        exported = stacked.export_model(k)
        assert exported.ops == m.ops
        for (name, a), b in zip(exported.state_dict().items(), m.state_dict().values()):
            assert torch.equal(a, b), name
    with pytest.raises(ValueError, match="k must be"):
        stacked.export_model(len(CELLS))
    with pytest.raises(ValueError, match="does not match"):
        stacked(torch.zeros(len(CELLS), 2, 1, 39))
    with pytest.raises(ValueError, match=r"models\[0\]"):
        stacked.load_from_models([models[1], *models[1:]])


@pytest.mark.parametrize("shape", [(1, 12), (1, 6, 6)])
def test_dead_parameters_are_those_autograd_leaves_without_gradient(shape: tuple[int, ...]) -> None:
    rng = random.Random(1)
    cells = [*CELLS, *(all_cells()[i].ops for i in rng.sample(range(15625), 150))]
    macro = MacroConfig(channels=2, cells_per_stage=2, stages=2, input_shape=shape, num_classes=3)
    for ops in cells:
        model = build_model(ops, macro)
        F.cross_entropy(model(torch.randn(4, *shape)), torch.tensor([0, 1, 2, 0])).backward()
        names = [n for n, _ in model.named_parameters()]
        assert dead_parameters(ops, macro, names) == {n for n, p in model.named_parameters() if p.grad is None}, ops
    assert "stem.0.weight" in dead_parameters(IGNORES_INPUT, macro, ["stem.0.weight"])


def _sgd_steps(stacked, singles, shape, steps, dtype, lr=0.1):
    """``steps`` SGD steps (momentum, Nesterov, weight decay) on the stack and on each network."""
    K = len(singles)
    kw = dict(lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-3)
    opt = torch.optim.SGD(stacked.parameters(), foreach=True, **kw)
    opts = [torch.optim.SGD(m.parameters(), foreach=True, **kw) for m in singles]
    dead = stacked.dead_blocks()
    dead_values = [b.clone() for b in dead]
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(K, 16, *shape, generator=g, dtype=dtype)
        y = torch.randint(0, 5, (K, 16), generator=g)
        loss = F.cross_entropy(stacked(x).reshape(K * 16, -1), y.reshape(-1), reduction="none").view(K, 16)
        opt.zero_grad(set_to_none=True)
        loss.mean(1).sum().backward()
        opt.step()
        with torch.no_grad():
            for block, value in zip(dead, dead_values):
                block.copy_(value)
        for k, (m, o) in enumerate(zip(singles, opts)):
            o.zero_grad(set_to_none=True)
            F.cross_entropy(m(x[k]), y[k]).backward()
            o.step()


@pytest.mark.parametrize("shape", [(1, 40), (1, 8, 8)])
def test_one_sgd_step_updates_each_network_as_alone(shape: tuple[int, ...]) -> None:
    macro = _macro(shape)
    models = _models(CELLS, macro)
    stacked = StackedNB201.from_models(models)
    singles = [speed_up(copy.deepcopy(m), macro.ndim) for m in models]
    _sgd_steps(stacked, singles, shape, 1, torch.float32)
    for k, m in enumerate(singles):
        for (name, a), b in zip(stacked.export_model(k).state_dict().items(), m.state_dict().values()):
            torch.testing.assert_close(a, b, atol=2e-6, rtol=1e-5, msg=name)


@pytest.mark.parametrize("shape, stages", [((1, 40), 3), ((1, 7, 9), 2)])
def test_many_float64_steps_match_to_rounding(shape: tuple[int, ...], stages: int) -> None:
    """The semantic check: with float64 rounding out of the way, 12 steps of SGD agree
    parameter for parameter and BatchNorm statistic for statistic."""
    macro = _macro(shape, stages=stages)
    models = _models(CELLS, macro, torch.float64)
    stacked = StackedNB201.from_models(models)
    singles = [speed_up(copy.deepcopy(m), macro.ndim) for m in models]
    _sgd_steps(stacked, singles, shape, 12, torch.float64)
    for k, m in enumerate(singles):
        for (name, a), b in zip(stacked.export_model(k).state_dict().items(), m.state_dict().values()):
            torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9, msg=name)
    x = torch.randn(8, *shape, dtype=torch.float64)
    out = stacked.eval().forward_shared(x)
    for k, m in enumerate(singles):
        torch.testing.assert_close(out[k], m.eval()(x), atol=1e-9, rtol=1e-9)


# -- training -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stacked_run(digits: Dataset) -> list[TrainRecord]:
    return train_stacked(CELLS, list(range(len(CELLS))), digits, TINY)


def test_train_stacked_follows_train_architecture(digits: Dataset, stacked_run: list[TrainRecord]) -> None:
    for k, ops in enumerate(CELLS):
        alone = train_architecture(ops, digits, TINY, seed=k)
        got = stacked_run[k]
        _close_records(got, alone)
        assert (got.params, got.flops, got.seed, got.device) == (alone.params, alone.flops, k, alone.device)
        assert len(got.epoch_seconds) == len(got.eval_seconds) == TINY.epochs
        assert all(s > 0 for s in got.epoch_seconds)


def test_train_stacked_is_deterministic(digits: Dataset, stacked_run: list[TrainRecord]) -> None:
    again = train_stacked(CELLS, list(range(len(CELLS))), digits, TINY)
    assert [r.curves() for r in again] == [r.curves() for r in stacked_run]


def test_results_do_not_depend_on_the_stack_mates(digits: Dataset) -> None:
    a, b, c, d = MIXED, ALL_CONV, DEAD_EDGES, RANDOM[0]
    first = train_stacked([a, b, c], [5, 6, 7], digits, TINY)[0]
    second = train_stacked([d, a], [8, 5], digits, TINY)[1]
    _close_records(first, second)


def test_adam_and_label_smoothing_on_one_dimensional_data(mnist1d: Dataset) -> None:
    config = dataclasses.replace(TINY, epochs=1, optimizer="adam", lr=0.01, label_smoothing=0.1)
    cells = [MIXED, ALL_NONE]
    stacked = train_stacked(cells, [3, 3], mnist1d, config)
    for ops, got in zip(cells, stacked):
        _close_records(got, train_architecture(ops, mnist1d, config, seed=3))


def test_bad_arguments(digits: Dataset) -> None:
    with pytest.raises(ValueError, match="one seed per cell"):
        train_stacked([MIXED, ALL_CONV], [0], digits, TINY)
    with pytest.raises(ValueError, match="at least one cell"):
        train_stacked([], [], digits, TINY)
    with pytest.raises(ValueError, match="seed"):
        train_stacked([MIXED], [-1], digits, TINY)
    with pytest.raises(ValueError, match="config"):
        train_stacked([MIXED], [0], digits, {"epochs": 1})
    with pytest.raises(ValueError, match="ops_list"):
        StackedNB201([], _macro((1, 40)))


# -- generator hook -----------------------------------------------------------------------


def test_generator_chunk_in_stacks_matches_the_naive_chunk() -> None:
    indices = (11, 3, 700, 5, 1234)
    train = dataclasses.asdict(TrainConfig(epochs=1, batch_size=128, channels=4, cells_per_stage=1, stages=1))
    job = ChunkJob(Chunk("seed-0-00000", 0, indices), "digits", 0, train)
    naive = train_chunk(job)
    stacked = train_chunk(dataclasses.replace(job, stack=2))
    assert stacked.keys() == naive.keys()
    assert stacked["arch_index"] == naive["arch_index"] == list(indices)
    assert stacked["seed"] == naive["seed"]
    for name in ("train_loss", "valid_loss", "test_loss"):
        for a, b in zip(stacked[name], naive[name]):
            assert a == pytest.approx(b, rel=1e-4, abs=1e-4), name
    for name in ("train_acc", "valid_acc", "test_acc"):
        for a, b in zip(stacked[name], naive[name]):
            assert a == pytest.approx(b, abs=1.0), name
    with pytest.raises(ValueError, match="stack"):
        train_chunk(dataclasses.replace(job, stack=0))
