"""The conformance suite every registered zero-cost proxy passes, and facts checked per proxy.

Every proxy, on a 2-D and a 1-D NAS-Bench-201-style network built by the project's own
builder and on a plain MLP: same seed, same score bit for bit; finite on a normal network;
no use of torch's global RNG; the module's weights, buffers, gradients, requires_grad and
train/eval modes as they were, whether it was in train or eval mode. A new proxy joins by
registering itself. What each proxy computes is checked in test_proxy_facts.py.
"""

from __future__ import annotations

import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from proxytools import SHAPES, bits, make_batch, make_net, score
from torch import nn

from predictors.proxies import PROXIES, ProxyError, compute, load_proxies

load_proxies()
NAMES = PROXIES.names()
README = Path(__file__).parents[1] / "predictors" / "proxies" / "README.md"


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Scores are bit-for-bit for one thread count; reductions differ across counts."""


# -- the conformance suite -------------------------------------------------------------------------


def test_the_fourteen_proxies_are_registered_and_documented():
    assert NAMES == sorted(["grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov", "nwot", "zen",
                            "epe_nas", "l2_norm", "plain", "params", "flops", "zico"])
    for name in NAMES:
        proxy = PROXIES.get(name)
        assert proxy.name == name and proxy.sign == 1 and proxy.batch_size >= 1
        assert proxy.definition and proxy.reference and proxy.differences, name


@pytest.mark.parametrize("kind", sorted(SHAPES))
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_score_bit_for_bit(name, kind):
    model, (inputs, targets) = make_net(kind), make_batch(kind)
    first = compute(name, model, inputs, targets, seed=3)
    assert bits(compute(name, model, inputs, targets, seed=3)) == bits(first)
    assert bits(score(name, model, inputs, targets, seed=3)) == bits(first)


@pytest.mark.parametrize("kind", sorted(SHAPES))
@pytest.mark.parametrize("name", NAMES)
def test_finite_on_a_normal_network(name, kind):
    model, (inputs, targets) = make_net(kind), make_batch(kind)
    assert math.isfinite(compute(name, model, inputs, targets))


@pytest.mark.parametrize("kind", sorted(SHAPES))
@pytest.mark.parametrize("name", NAMES)
def test_no_use_of_the_global_rng(name, kind):
    model, (inputs, targets) = make_net(kind), make_batch(kind)
    torch.manual_seed(1)
    state = torch.random.get_rng_state()
    first = score(name, model, inputs, targets)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(2)
    assert bits(score(name, model, inputs, targets)) == bits(first)


def _snapshot(model: nn.Module) -> dict:
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "training": [m.training for m in model.modules()],
        "hooks": [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in model.modules()],
    }


def _assert_same(before: dict, after: dict) -> None:
    assert before["state"].keys() == after["state"].keys()
    for key, value in before["state"].items():
        assert torch.equal(value, after["state"][key]), key
    for a, b in zip(before["grads"], after["grads"]):
        assert (a is None and b is None) or torch.equal(a, b)
    for field in ("requires_grad", "training", "hooks"):
        assert before[field] == after[field], field


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("kind", sorted(SHAPES))
@pytest.mark.parametrize("name", NAMES)
def test_restores_the_module_and_leaves_the_batch_alone(name, kind, mode):
    model, (inputs, targets) = make_net(kind), make_batch(kind)
    model.train(mode == "train")
    parameters = list(model.parameters())
    parameters[0].grad = torch.full_like(parameters[0], 0.5)  # a gradient left by the caller
    parameters[-1].requires_grad_(False)  # and a frozen parameter
    before, batch = _snapshot(model), (inputs.clone(), targets.clone())
    score(name, model, inputs, targets)
    _assert_same(before, _snapshot(model))
    assert torch.equal(inputs, batch[0]) and torch.equal(targets, batch[1]) and not inputs.requires_grad


@pytest.mark.parametrize("name", NAMES)
def test_a_score_does_not_depend_on_the_mode_the_module_is_in(name):
    """Proxies score the network as the references score fresh ones: in train mode."""
    model, (inputs, targets) = make_net("nb201-2d"), make_batch("nb201-2d")
    trained = score(name, model.train(), inputs, targets)
    assert bits(score(name, model.eval(), inputs, targets)) == bits(trained)


@pytest.mark.parametrize("name", [n for n in NAMES if PROXIES.get(n).uses != "data+labels"])
def test_proxies_that_do_not_read_labels_ignore_them(name):
    model, (inputs, targets) = make_net("nb201-2d"), make_batch("nb201-2d")
    assert bits(score(name, model, inputs, targets.flip(0))) == bits(score(name, model, inputs, targets))


@pytest.mark.parametrize("name", [n for n in NAMES if PROXIES.get(n).uses == "none"])
def test_proxies_that_do_not_read_the_batch_ignore_its_content(name):
    """synflow, zen, l2_norm, params and flops read the batch's shape only."""
    model = make_net("nb201-2d")
    a, b = make_batch("nb201-2d", seed=0), make_batch("nb201-2d", seed=1)
    assert bits(score(name, model, *a)) == bits(score(name, model, *b))


@pytest.mark.parametrize("name", [n for n in NAMES if PROXIES.get(n).uses != "none"])
def test_proxies_that_read_the_batch_see_it(name):
    model = make_net("nb201-2d")
    assert score(name, model, *make_batch("nb201-2d", 0)) != score(name, model, *make_batch("nb201-2d", 1))


def test_zen_draws_from_the_proxy_generator():
    model, (inputs, targets) = make_net("nb201-2d"), make_batch("nb201-2d")
    assert compute("zen", model, inputs, targets, seed=0) != compute("zen", model, inputs, targets, seed=1)


def test_importing_the_package_imports_no_torch():
    code = ("import sys, predictors, predictors.proxies, predictors.proxies.base; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_error_inside_a_proxy_is_one_proxy_error_naming_it():
    model, (inputs, targets) = make_net("mlp"), make_batch("mlp")
    with pytest.raises(ProxyError, match=r"proxy 'zico'.*at least 2 inputs, got 1"):
        compute("zico", model, inputs[:1], targets[:1])


def test_the_readme_has_a_row_for_every_proxy():
    rows = re.findall(r"^\| (\w+) \| ", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert set(NAMES) <= set(rows)


def test_the_readme_example_of_a_user_proxy_runs_and_leaves_the_module_alone(tmp_path):
    text = README.read_text(encoding="utf-8")
    path = tmp_path / "my_proxy.py"
    path.write_text(re.search(r"```python\n(# my_proxy.py\n.*?)```", text, flags=re.DOTALL).group(1))
    spec = importlib.util.spec_from_file_location("my_proxy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, (inputs, targets) = make_net("nb201-2d"), make_batch("nb201-2d")
    before = _snapshot(model)
    value = module.grad_sign(model, inputs, targets, nn.functional.cross_entropy, torch.Generator())
    assert 0.0 < value < 1.0
    _assert_same(before, _snapshot(model))
