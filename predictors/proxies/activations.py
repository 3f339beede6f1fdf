"""Activation and input-Jacobian proxies: jacob_cov, epe_nas, nwot (NASWOT) and zen (Zen-NAS).

jacob_cov and epe_nas read the correlations of the per-example input gradients of the
summed outputs; nwot the binary codes of the ReLUs; zen the change of the feature map
under a small Gaussian perturbation of a Gaussian input, with Gaussian weights. Each runs
on a scratch copy of the module in train mode (see :mod:`predictors.proxies.common`).
Non-finite scores are returned as they are: a NaN when an example's input gradient is
constant (its correlations are undefined), -inf when the ReLU code kernel is singular or
the perturbation does not reach the feature map.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from predictors.proxies.base import Proxy, register
from predictors.proxies.common import (
    BATCHNORMS,
    GLOBAL_POOLS,
    RELUS,
    WEIGHTED,
    all_finite,
    batch_jacobian,
    scratch,
)

Loss = Callable[..., torch.Tensor]
K = 1e-5  # the regulariser of jacob_cov's eigenvalues and epe_nas's correlations
ZEN_GAMMA = 1e-2  # Zen-NAS's perturbation scale (mixup_gamma)


def _correlations(rows: np.ndarray) -> np.ndarray:
    """np.corrcoef of ``rows`` (NaN where a row is constant, without a warning)."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.atleast_2d(np.corrcoef(rows))


def jacob_cov(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
              generator: torch.Generator) -> float:
    """-sum over eigenvalues v of the correlation matrix of the examples' input gradients of
    (log(v + k) + 1/(v + k)), k = 1e-5; NaN when an input gradient is constant."""
    with scratch(model, generator) as net:
        jacobian, _ = batch_jacobian(net, inputs)
    corr = _correlations(jacobian)
    if not all_finite(corr):
        return float("nan")
    eigenvalues = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(eigenvalues + K) + 1.0 / (eigenvalues + K)))


def epe_nas(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
            generator: torch.Generator) -> float:
    """Per class c of the batch, s_c = sum of log(|corr| + k) over the correlation matrix of
    the class's input gradients; the score is sum |s_c| (with more than 100 outputs: the
    mean pairwise |s_c - s_c'|, each s_c divided by the class's example count)."""
    with scratch(model, generator) as net:
        jacobian, outputs = batch_jacobian(net, inputs)
    labels = targets.detach().cpu().numpy()
    if labels.ndim == 2:  # one-hot or soft targets: the class is the argmax
        labels = labels.argmax(axis=1)
    per_class = {}
    for label in np.unique(labels):
        rows = jacobian[labels == label]
        s = float(np.sum(np.log(np.abs(_correlations(rows)) + K)))
        per_class[label] = s / len(rows) if outputs > 100 else s
    values = np.array(list(per_class.values()))
    if outputs <= 100:
        return float(np.sum(np.abs(values)))
    return float(np.sum(np.abs(values[:, None] - values[None, :])) / len(values))


def nwot(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
         generator: torch.Generator) -> float:
    """log|det K|, K[i, j] = number of ReLU units on which examples i and j agree (both active
    or both inactive), summed over every ReLU module; -inf when K is singular."""
    n = len(inputs)
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def count(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        nonlocal kernel
        codes = (args[0].detach().reshape(n, -1) > 0).double().cpu()
        kernel = kernel + codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T

    with scratch(model, generator) as net:
        for module in net.modules():
            if isinstance(module, RELUS):
                module.register_forward_hook(count)
        with torch.no_grad():
            net(inputs)
    return float(torch.linalg.slogdet(kernel).logabsdet)


def _gaussian_init(net: nn.Module, generator: torch.Generator) -> None:
    """Zen-NAS's init: N(0, 1) conv/linear weights, zero biases, unit BatchNorm/GroupNorm affines."""
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, WEIGHTED):
                weight = module.weight
                weight.copy_(torch.randn(weight.shape, generator=generator, dtype=weight.dtype).to(weight.device))
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, (*BATCHNORMS, nn.GroupNorm)) and module.weight is not None:
                module.weight.fill_(1.0)
                module.bias.zero_()


def zen(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
        generator: torch.Generator) -> float:
    """log E_n sum|f(x) - f(x + 0.01 e)| + sum over BatchNorms of log sqrt(mean running_var),
    f the feature map before global average pooling, x and e Gaussian, Gaussian weights;
    running_var as the two train-mode passes leave it."""
    with scratch(model, generator) as net:
        _gaussian_init(net, generator)
        device, dtype = inputs.device, inputs.dtype
        x = torch.randn(inputs.shape, generator=generator).to(device=device, dtype=dtype)
        noise = torch.randn(inputs.shape, generator=generator).to(device=device, dtype=dtype)
        features: list[torch.Tensor] = []

        def before_pool(module: nn.Module, args: tuple) -> None:
            features.append(args[0])

        pools = [m for m in net.modules() if isinstance(m, GLOBAL_POOLS)]
        for module in pools:
            module.register_forward_pre_hook(before_pool)
        with torch.no_grad():
            outputs = [net(x), net(x + ZEN_GAMMA * noise)]
        if pools:  # the input of the last global pooling of each forward pass
            clean, perturbed = features[len(features) // 2 - 1], features[-1]
        else:
            clean, perturbed = outputs
        delta = (clean - perturbed).abs().reshape(len(x), -1).sum(dim=1).mean().double()
        bn_log_scale = sum((0.5 * torch.log(m.running_var.double().mean()) for m in net.modules()
                            if isinstance(m, BATCHNORMS) and m.running_var is not None),
                           torch.tensor(0.0, dtype=torch.float64))
        return float(torch.log(delta) + bn_log_scale)


register(Proxy(
    "jacob_cov", jacob_cov, uses="data", batch_size=64,
    definition="-sum over eigenvalues v of corr(J) of log(v+1e-5) + 1/(v+1e-5), J the rows "
               "d(sum of outputs)/d(input) of the batch's examples",
    reference="Mellor et al. 2021, Neural Architecture Search without Training (ICML), v1 score; "
              "Abdelfattah et al. 2021 (ICLR); SamsungLabs/zero-cost-nas foresight/pruners/measures/jacob_cov.py",
    differences="eigenvalues by numpy's symmetric solver (eigvalsh) instead of the general eig; NaN "
                "(without an exception message) when an example's input gradient is constant",
))
register(Proxy(
    "epe_nas", epe_nas, uses="data+labels", batch_size=64,
    definition="sum over the batch's classes c of |sum log(|corr(J_c)| + 1e-5)|, J_c the input-gradient "
               "rows of class c's examples (more than 100 outputs: mean pairwise difference)",
    reference="Lopes et al. 2021, EPE-NAS: Efficient Performance Estimation Without Training for NAS "
              "(ICANN); VascoLopes/EPE-NAS; automl/NASLib (zerocost branch) measures/epe_nas.py",
    differences="the number of classes is the width of the network's output, as in NASLib; "
                "one-hot targets are read by argmax; NaN when an input gradient is constant",
))
register(Proxy(
    "nwot", nwot, uses="data", batch_size=64,
    definition="log|det K|, K[i,j] = sum over ReLU modules of the units where examples i and j "
               "agree (both > 0 or both <= 0 at the ReLU's input)",
    reference="Mellor et al. 2021, Neural Architecture Search without Training (ICML), v2 score; "
              "BayesWatch/nas-without-training score_networks.py; automl/NASLib measures/nwot.py",
    differences="batch 64 as NAS-Bench-Suite-Zero (the paper: 128); the hooked modules are nn.ReLU, "
                "ReLU6, LeakyReLU and RReLU (the reference: any type whose name contains 'ReLU'); "
                "functional relu calls are not seen",
))
register(Proxy(
    "zen", zen, uses="none", batch_size=64,
    definition="log mean_n sum|f(x)-f(x+0.01e)| + sum over BatchNorms of log sqrt(mean over channels "
               "of running_var after the two train-mode passes), f the features before global average "
               "pooling, x, e ~ N(0,1), conv/linear weights ~ N(0,1)",
    reference="Lin et al. 2021, Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition "
              "(ICCV); idstcv/ZenNAS ZeroShotProxy/compute_zen_score.py; automl/NASLib measures/zen.py",
    differences="1-D/3-D BatchNorms count too (BatchNorms without running statistics are skipped); "
                "without a global average pool the network's output is used; one repeat (as NASLib; "
                "Zen-NAS averages 32); all randomness from the proxy's generator",
))
