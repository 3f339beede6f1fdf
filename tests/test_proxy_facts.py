"""What each zero-cost proxy computes, checked against a hand computation on a tiny network,
and the documented scores of a disconnected cell (the conformance suite is beside this file)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from proxytools import (
    BATCH,
    CLASSES,
    DISCONNECTED,
    make_batch,
    make_net,
    score,
    small_config,
)
from torch import nn
from torch.nn import functional as F

from nasbench.models import OPS, MacroConfig, build_model, count_flops, count_params
from predictors.proxies import PROXIES, compute, load_proxies
from predictors.proxies.common import exact_sum

load_proxies()
K = 1e-5


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Scores are bit-for-bit for one thread count."""


def linear_net(bias: bool = True) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, CLASSES, bias=bias))


def random_cells(n: int) -> list[tuple[str, ...]]:
    rng = np.random.default_rng(0)
    return [tuple(OPS[i] for i in rng.integers(0, len(OPS), size=6)) for _ in range(n)] + [DISCONNECTED]


# -- params and flops ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 8, 8), (1, 16), (3, 7, 5)])
def test_params_and_flops_equal_the_builders_analytic_counts(shape):
    config = small_config(shape)
    inputs = torch.zeros((2, *shape))
    for ops in random_cells(6):
        model = build_model(ops, config)
        assert compute("params", model, inputs, torch.zeros(2, dtype=torch.long)) == count_params(ops, config)
        assert sum(p.numel() for p in model.parameters()) == count_params(ops, config)
        assert compute("flops", model, inputs, torch.zeros(2, dtype=torch.long)) == count_flops(ops, config)


def test_flops_of_the_nas_bench_201_all_conv3x3_cell_is_its_published_figure():
    model = build_model(["nor_conv_3x3"] * 6, MacroConfig())
    assert compute("flops", model, torch.zeros((1, 3, 32, 32)), torch.zeros(1, dtype=torch.long)) == 220_119_690


def test_flops_counts_grouped_convolutions_biases_and_linear_layers():
    model = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, groups=2), nn.Flatten(), nn.Linear(6 * 25, 3, bias=False))
    value = compute("flops", model, torch.zeros((2, 4, 5, 5)), torch.zeros(2, dtype=torch.long))
    assert value == 6 * 25 * (2 * 9) + 6 * 25 + 6 * 25 * 3


# -- gradient proxies ------------------------------------------------------------------------------


def test_grad_norm_snip_and_plain_from_one_backward_pass():
    model, (inputs, targets) = make_net("mlp"), make_batch("mlp")
    F.cross_entropy(model(inputs), targets).backward()
    layers = [m for m in model if isinstance(m, nn.Linear)]
    assert score("grad_norm", model, inputs, targets) == pytest.approx(sum(float(m.weight.grad.norm()) for m in layers))
    assert score("snip", model, inputs, targets) == pytest.approx(
        sum(float((m.weight.detach() * m.weight.grad).abs().sum()) for m in layers))
    assert score("plain", model, inputs, targets) == pytest.approx(
        sum(float((m.weight.detach() * m.weight.grad).sum()) for m in layers), rel=1e-4)


def test_grasp_is_minus_w_dot_hessian_times_gradient():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5, bias=False), nn.Tanh(), nn.Linear(5, 3, bias=False)).double()
    inputs = torch.randn(6, 4, dtype=torch.float64)
    targets = torch.tensor([0, 1, 2, 0, 1, 2])
    shapes = [m.weight.shape for m in (model[0], model[2])]
    flat = torch.cat([model[0].weight.detach().reshape(-1), model[2].weight.detach().reshape(-1)])

    def loss_of(w: torch.Tensor) -> torch.Tensor:
        w1, w2 = w[:20].reshape(shapes[0]), w[20:].reshape(shapes[1])
        return F.cross_entropy(torch.tanh(inputs @ w1.T) @ w2.T, targets)

    gradient = torch.autograd.functional.jacobian(loss_of, flat)
    hessian = torch.autograd.functional.hessian(loss_of, flat)
    expected = float(-(flat * (hessian @ gradient)).sum())
    assert score("grasp", model, inputs, targets) == pytest.approx(expected, rel=1e-9)


def test_fisher_of_one_linear_layer():
    model, (inputs, targets) = linear_net(), make_batch("mlp")
    logits = model(inputs).detach().requires_grad_(True)
    F.cross_entropy(logits, targets).backward()
    per_channel = 0.5 * (logits.detach() * logits.grad).pow(2).mean(0)
    assert score("fisher", model, inputs, targets) == pytest.approx(float(per_channel.sum()) * 16, rel=1e-6)


def test_synflow_conserves_flow_and_ignores_batchnorm():
    """With |W| and an all-ones input every layer of a chain carries the same synaptic flow R:
    a two-layer chain scores 2R; BatchNorm is removed before scoring."""
    torch.manual_seed(0)
    plain_net = nn.Sequential(nn.Flatten(), nn.Linear(16, 12, bias=False), nn.ReLU(), nn.Linear(12, 5, bias=False))
    with_bn = nn.Sequential(plain_net[0], plain_net[1], nn.BatchNorm1d(12), nn.ReLU(), plain_net[3])
    inputs, targets = make_batch("mlp")
    w1, w2 = plain_net[1].weight.detach().double().abs(), plain_net[3].weight.detach().double().abs()
    flow = float((w2 @ w1 @ torch.ones(16, dtype=torch.float64)).sum())
    assert score("synflow", plain_net, inputs, targets) == pytest.approx(2 * flow, rel=1e-12)
    assert score("synflow", with_bn, inputs, targets) == pytest.approx(2 * flow, rel=1e-12)


def test_zico_of_one_linear_layer_over_the_two_halves():
    model, (inputs, targets) = linear_net(bias=False), make_batch("mlp")
    grads = []
    for part in (slice(0, BATCH // 2), slice(BATCH // 2, BATCH)):
        model.zero_grad()
        F.cross_entropy(model(inputs[part]), targets[part]).backward()
        grads.append(model[1].weight.grad.detach().double().reshape(-1).clone())
    g = torch.stack(grads)
    expected = math.log(float((g.abs().mean(0) / g.std(0, unbiased=False)).sum()))
    model.zero_grad(set_to_none=True)
    assert score("zico", model, inputs, targets) == pytest.approx(expected, rel=1e-9)


def test_layer_sums_are_exact_and_keep_non_finite_values():
    assert exact_sum([0.1] * 10) == 1.0
    assert exact_sum([1e308, 1e308]) == math.inf
    assert math.isnan(exact_sum([math.inf, -math.inf]))


def test_l2_norm_sums_the_layer_norms():
    model = make_net("mlp")
    assert score("l2_norm", model, *make_batch("mlp")) == pytest.approx(
        float(model[1].weight.detach().norm()) + float(model[3].weight.detach().norm()))


# -- Jacobian and activation proxies ---------------------------------------------------------------


def test_jacob_cov_and_epe_nas_of_a_linear_model():
    """A linear model gives every example the same input gradient: all correlations are 1,
    the eigenvalues N and 0 (N-1 times), and each class c adds n_c^2 log(1 + k)."""
    model, (inputs, targets) = linear_net(), make_batch("mlp")
    n = BATCH
    expected = -((math.log(n + K) + 1 / (n + K)) + (n - 1) * (math.log(K) + 1 / K))
    assert score("jacob_cov", model, inputs, targets) == pytest.approx(expected, rel=1e-6)
    counts = np.bincount(targets.numpy())
    assert score("epe_nas", model, inputs, targets) == pytest.approx(float(np.sum(counts**2)) * math.log(1 + K),
                                                                     rel=1e-6)


def test_nwot_is_the_log_determinant_of_the_relu_code_kernel():
    model = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(16, CLASSES))
    inputs, targets = make_batch("mlp")
    codes = (inputs.reshape(BATCH, -1) > 0).double()
    kernel = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert score("nwot", model, inputs, targets) == pytest.approx(float(torch.linalg.slogdet(kernel).logabsdet))


def test_nwot_grows_with_more_distinct_relu_codes():
    model, targets = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(16, CLASSES)), torch.zeros(8, dtype=torch.long)
    signs = torch.randint(0, 2, (8, 16), generator=torch.Generator().manual_seed(0)) * 2.0 - 1
    near = torch.ones(8, 16)
    near[torch.arange(8), torch.arange(8)] = -1  # every pair of codes differs on 2 units only
    same = torch.ones(8, 16)
    distinct, close, equal = (score("nwot", model, x, targets) for x in (signs, near, same))
    assert distinct > close > equal == -math.inf


def test_zen_ignores_the_modules_own_weights():
    """Zen-NAS re-draws every conv/linear weight from N(0, 1) with the proxy's generator."""
    model, (inputs, targets) = make_net("nb201-2d"), make_batch("nb201-2d")
    scaled = make_net("nb201-2d")
    with torch.no_grad():
        for parameter in scaled.parameters():
            parameter.mul_(3.0)
    assert score("zen", scaled, inputs, targets) == score("zen", model, inputs, targets)


def test_zen_stays_finite_when_a_batchnorm_only_sees_zeros():
    """A conv edge fed by an all-zero node gives its BatchNorm zero batch variance; as in the
    reference, the scale term reads running_var (damped by momentum), so the score stays finite."""
    ops = ("avg_pool_3x3", "none", "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")  # node 2 is zeros
    model, (inputs, targets) = make_net("nb201-2d", ops), make_batch("nb201-2d")
    assert math.isfinite(score("zen", model, inputs, targets))


# -- a disconnected cell ---------------------------------------------------------------------------

DISCONNECTED_SCORES = {
    "zero": ["grad_norm", "grasp", "plain", "snip", "synflow", "zico"],
    "nan": ["epe_nas", "jacob_cov"],
    "-inf": ["nwot", "zen"],
    "positive": ["fisher", "flops", "l2_norm", "params"],
}


def test_the_disconnected_groups_cover_every_proxy():
    assert sorted(name for group in DISCONNECTED_SCORES.values() for name in group) == PROXIES.names()


@pytest.mark.parametrize("kind", ["nb201-2d", "nb201-1d"])
def test_a_cell_without_a_path_from_input_to_output_scores_as_documented(kind):
    """All-'none' cell: the logits are the classifier's bias whatever the input, so gradients
    of weights vanish, input gradients are constant (undefined correlations), every ReLU code
    is equal and the feature map does not move; fisher keeps the classifier's own term."""
    model, (inputs, targets) = make_net(kind, DISCONNECTED), make_batch(kind)
    scores = {name: compute(name, model, inputs, targets) for name in PROXIES.names()}
    assert all(scores[name] == 0.0 for name in DISCONNECTED_SCORES["zero"]), scores
    assert all(math.isnan(scores[name]) for name in DISCONNECTED_SCORES["nan"]), scores
    assert all(scores[name] == -math.inf for name in DISCONNECTED_SCORES["-inf"]), scores
    assert all(0 < scores[name] < math.inf for name in DISCONNECTED_SCORES["positive"]), scores
