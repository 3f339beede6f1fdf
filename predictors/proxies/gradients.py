"""Gradient and weight proxies: grad_norm, snip, grasp, fisher, plain, synflow, l2_norm and ZiCo.

Each follows its reference implementation (SamsungLabs/zero-cost-nas, as carried into
NASLib for NAS-Bench-Suite-Zero; SLDGroup/ZiCo) on a scratch copy of the module in train
mode (see :mod:`predictors.proxies.common`). Per-weight saliencies are summed over the
weights of every conv and linear layer, as NAS-Bench-Suite-Zero reduces them to one score
(per layer in the tensor's dtype, then across layers exactly, with math.fsum).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from predictors.proxies.base import Proxy, register
from predictors.proxies.common import exact_sum, halves, scratch, weighted_layers

ZC = "SamsungLabs/zero-cost-nas foresight/pruners/measures/{0}.py; automl/NASLib naslib/predictors/utils/pruners/measures/{0}.py"
ABDELFATTAH = "Abdelfattah et al. 2021, Zero-Cost Proxies for Lightweight NAS (ICLR)"
Loss = Callable[..., torch.Tensor]


def weight_gradients(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                     loss: Loss) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, dL/dweight) of each conv/linear layer the loss reaches, after one forward/backward."""
    loss(net(inputs), targets).backward()
    return [(layer.weight.detach(), layer.weight.grad) for layer in weighted_layers(net)
            if layer.weight.grad is not None]


def grad_norm(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
              generator: torch.Generator) -> float:
    """Sum over conv/linear layers of the L2 norm of the weight gradient."""
    with scratch(model, generator) as net:
        pairs = weight_gradients(net, inputs, targets, loss)
        return exact_sum(float(grad.norm()) for _, grad in pairs)


def snip(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
         generator: torch.Generator) -> float:
    """Connection sensitivity: sum of |W * dL/dW| over conv/linear weights."""
    with scratch(model, generator) as net:
        pairs = weight_gradients(net, inputs, targets, loss)
        return exact_sum(float((weight * grad).abs().sum()) for weight, grad in pairs)


def plain(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
          generator: torch.Generator) -> float:
    """Signed sum of W * dL/dW over conv/linear weights."""
    with scratch(model, generator) as net:
        pairs = weight_gradients(net, inputs, targets, loss)
        return exact_sum(float((weight * grad).sum()) for weight, grad in pairs)


def grasp(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
          generator: torch.Generator) -> float:
    """-sum of W * (H g) over conv/linear weights: g the loss gradient, H the loss Hessian in them."""
    with scratch(model, generator) as net:
        weights = [layer.weight for layer in weighted_layers(net)]
        value = loss(net(inputs), targets)
        grads = torch.autograd.grad(value, weights, create_graph=True, allow_unused=True)
        terms = [(g.detach() * g).sum() for g in grads if g is not None and g.requires_grad]
        if not terms:  # no second-order path from the loss to any weight: H g = 0
            return 0.0
        hessian_grad = torch.autograd.grad(sum(terms), weights, allow_unused=True)
        return -exact_sum(float((w.detach() * hg).sum()) for w, hg in zip(weights, hessian_grad) if hg is not None)


def fisher(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
           generator: torch.Generator) -> float:
    """Channel Fisher information of each conv/linear output a: 0.5 * mean over examples of
    (sum over positions of a * dL/da)^2, broadcast over the channel's weights and summed."""
    with scratch(model, generator) as net:
        layers = weighted_layers(net)
        saliency: list[torch.Tensor | None] = [None] * len(layers)

        def forward_hook(index: int, channel_last: bool) -> Callable[..., None]:
            def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
                if not output.requires_grad:
                    return
                act = output.detach().clone()

                def on_grad(grad: torch.Tensor) -> None:
                    product = act * grad.detach()
                    if channel_last:  # a linear layer: its channels are the last dimension
                        product = product.movedim(-1, 1)
                    per_channel = product.sum(dim=tuple(range(2, product.dim()))) if product.dim() > 2 else product
                    value = 0.5 * per_channel.pow(2).mean(0)
                    saliency[index] = value if saliency[index] is None else saliency[index] + value

                output.register_hook(on_grad)
            return hook

        for index, layer in enumerate(layers):
            layer.register_forward_hook(forward_hook(index, isinstance(layer, nn.Linear)))
        loss(net(inputs), targets).backward()
        # each channel's value counts once per weight feeding the channel: weight[0].numel()
        return exact_sum(float(value.abs().double().sum()) * layer.weight[0].numel()
                         for layer, value in zip(layers, saliency) if value is not None)


def synflow(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
            generator: torch.Generator) -> float:
    """Synaptic flow: sum of |W * dR/dW| over conv/linear weights, R the sum of the outputs of
    the network with absolute weights and no BatchNorm on one all-ones input, in float64."""
    with scratch(model, generator, batchnorm=False) as net:
        net.double()
        with torch.no_grad():
            for parameter in net.parameters():
                parameter.abs_()
        ones = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64, device=inputs.device)
        net(ones).sum().backward()
        return exact_sum(float((layer.weight.detach() * layer.weight.grad).abs().sum())
                         for layer in weighted_layers(net) if layer.weight.grad is not None)


def l2_norm(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
            generator: torch.Generator) -> float:
    """Sum over conv/linear layers of the L2 (Frobenius) norm of the weight."""
    with torch.no_grad():
        return exact_sum(float(layer.weight.detach().norm()) for layer in weighted_layers(model))


def zico(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: Loss,
         generator: torch.Generator) -> float:
    """Sum over conv/linear layers of log(sum over weights of mean|g| / std(g)), the mean and
    standard deviation of each weight's gradient g taken over the batch's two halves."""
    with scratch(model, generator) as net:
        layers = weighted_layers(net)
        samples: list[list[torch.Tensor]] = [[] for _ in layers]
        for x, y in halves(inputs, targets, "zico"):
            net.zero_grad(set_to_none=True)
            loss(net(x), y).backward()
            for layer, seen in zip(layers, samples):
                grad = layer.weight.grad
                seen.append((torch.zeros_like(layer.weight) if grad is None else grad.detach()).reshape(-1).double())
        total = 0.0
        for seen in samples:
            stacked = torch.stack(seen)
            std = stacked.std(dim=0, unbiased=False)
            varying = std != 0
            ratio = float((stacked.abs().mean(dim=0)[varying] / std[varying]).sum())
            if ratio != 0:
                total += math.log(ratio)
        return total


register(Proxy(
    "grad_norm", grad_norm, uses="data+labels", batch_size=64,
    definition="sum over conv/linear layers of ||dL/dW||_2",
    reference=f"{ABDELFATTAH}; {ZC.format('grad_norm')}",
    differences="none beyond the shared conventions (README)",
))
register(Proxy(
    "snip", snip, uses="data+labels", batch_size=64,
    definition="sum over conv/linear weights of |W * dL/dW| (connection sensitivity)",
    reference=f"Lee et al. 2019, SNIP (ICLR); {ABDELFATTAH}; {ZC.format('snip')}",
    differences="read from the weight gradient instead of a multiplicative mask's gradient "
                "(equal by the chain rule)",
))
register(Proxy(
    "grasp", grasp, uses="data+labels", batch_size=64,
    definition="-sum over conv/linear weights of W * (H g), g = dL/dW, H the Hessian of L in those weights",
    reference=f"Wang et al. 2020, GraSP (ICLR); {ABDELFATTAH}; {ZC.format('grasp')}",
    differences="one forward pass gives both g and Hg (the reference runs the batch forward twice, "
                "which in train mode gives the same values); temperature 1 and a random batch as "
                "zero-cost-nas, not GraSP's T=200 and class-balanced batch",
))
register(Proxy(
    "fisher", fisher, uses="data+labels", batch_size=64,
    definition="sum over conv/linear output channels of 0.5*mean_n(sum_positions a*dL/da)^2 "
               "times the number of weights feeding the channel",
    reference=f"Theis et al. 2018, Faster gaze prediction with dense networks and Fisher pruning; "
              f"Turner et al. 2020, BlockSwap (ICLR); {ABDELFATTAH}; {ZC.format('fisher')}",
    differences="the reference skips layers its own models mark dont_ch_prune; a generic module has "
                "no such mark, so every conv/linear layer counts; a linear layer on (N, ..., F) "
                "inputs takes F as its channels (the reference would sum over F)",
))
register(Proxy(
    "plain", plain, uses="data+labels", batch_size=64,
    definition="sum over conv/linear weights of W * dL/dW (signed)",
    reference=f"Mozer & Smolensky 1989, Skeletonization; {ABDELFATTAH}; {ZC.format('plain')}",
    differences="none beyond the shared conventions (README)",
))
register(Proxy(
    "synflow", synflow, uses="none", batch_size=1,
    definition="sum over conv/linear weights of |W * dR/dW|, R = sum of outputs of the net with |W|, "
               "BatchNorm removed, float64, one all-ones input of the batch's shape",
    reference=f"Tanaka et al. 2020, Pruning neural networks without any data by iteratively conserving "
              f"synaptic flow (NeurIPS); {ABDELFATTAH}; {ZC.format('synflow')}",
    differences="absolute values are taken of the parameters only (the reference also takes them of "
                "buffers, which with BatchNorm removed are usually none)",
))
register(Proxy(
    "l2_norm", l2_norm, uses="none", batch_size=1,
    definition="sum over conv/linear layers of ||W||_2 (Frobenius norm of the weight)",
    reference="White et al. 2022, NAS-Bench-Suite-Zero (NeurIPS Datasets and Benchmarks); "
              "automl/NASLib naslib/predictors/utils/pruners/measures/l2_norm.py",
    differences="none (reads the weights only; no forward pass)",
))
register(Proxy(
    "zico", zico, uses="data+labels", batch_size=128,
    definition="sum over conv/linear layers of log(sum over weights of mean|g|/std(g)), g the weight "
               "gradient on each half of the batch (weights with std 0 skipped; layers summing to 0 skipped)",
    reference="Li et al. 2023, ZiCo: Zero-shot NAS via inverse Coefficient of Variation on Gradients "
              "(ICLR); SLDGroup/ZiCo ZeroShotProxy/compute_zico.py",
    differences="the two gradient samples are the batch's two halves (the paper: two batches of 64); "
                "each half's gradient is taken from zero, as the paper defines it, whereas the reference "
                "code does not zero gradients between batches (its second sample is g1+g2); float64",
    rescore_rtol=0.05,  # a weight whose two gradients agree to rounding has a std of ~1e-12: its
                        # mean/std ratio, and so the score, moves with the last bits (measured: 1.3e-2)
))
