"""Stacked training: K NAS-Bench-201-style networks trained at once, each as if alone.

:class:`StackedNB201` holds K networks (any K cells, one macro skeleton) in one module whose
ops run once for all K; :func:`train_stacked` trains them together with the optimiser,
schedule, batching and evaluation of :func:`nasbench.training.train_architecture`, one
:class:`~nasbench.training.TrainRecord` per architecture.

How K networks live in one module. Activations are channels-last ``(B, H, W, K*C)``
tensors (1-D inputs as H=1); architecture k owns channels ``k*C .. (k+1)*C - 1``.

- Every convolution of the skeleton (stem, reduction blocks) is a grouped convolution with
  ``groups=K``; BatchNorm over ``K*C`` channels is per-architecture BatchNorm (statistics
  are per channel); the classifier is a ``(K, C, classes)`` weight applied with one
  batched matmul (``baddbmm``).
- On each cell edge, each op that some of the K cells use there gets ONE module serving
  exactly the architectures that use it: a ``nor_conv_*`` op is a grouped Conv-BN over
  only those architectures (their channels gathered with ``index_select`` after a ReLU
  shared per source node, the result added back with ``index_add``); ``skip_connect`` and
  ``avg_pool_3x3`` have no parameters, run on all channels and are added through a fixed
  0/1 channel mask when not every architecture uses them; ``none`` adds nothing. So the
  stacked module has no unused parameters: every parameter element belongs to exactly
  one architecture's network, and optimiser state never mixes architectures.
- Each architecture gets its OWN mini-batch: :meth:`StackedNB201.forward` takes
  ``(K, B, *input_shape)``; :meth:`StackedNB201.forward_shared` feeds one ``(B,
  *input_shape)`` batch to all K (evaluation). Outputs are ``(K, B, classes)``.

Equivalence with one-at-a-time training (tests/test_stacked.py):

- Initial weights: architecture k's are those of ``build_model(ops_k, macro)`` under the
  torch seed that ``train_architecture`` derives from seed k: the network is built that
  way and copied in (:meth:`StackedNB201.load_from_models`); :meth:`StackedNB201.export_model`
  copies architecture k back out into a plain network (both exact copies).
- Same function, same gradients, same updates: per architecture the same ops in the same
  order (a node sums its incoming edges in edge order; masked-out terms add exact zeros);
  the loss is the SUM over architectures of each one's mean cross-entropy over its own
  batch, so each architecture's gradient is its own; SGD (momentum, Nesterov, weight
  decay) and Adam are element-wise, so a step on the stacked tensors is a step of each
  network. Parameters that get NO gradient alone (dead edges, or everything before a cell
  whose output ignores its input: :func:`dead_parameters`) are skipped by the optimiser
  alone; here they are put back after each step. Batch order: architecture k's
  permutations come from the same generator and seed as ``train_architecture``'s.
  In float64 a 15-step SGD run agrees with the individual networks to ~1e-12.
- Not bit for bit in float32: the kernels differ (channels-last grouped convolutions and
  BatchNorm vs the builder's channels-first ones; the classifier as ``baddbmm``), so
  values agree to float rounding (~1e-6 in one forward). Over many SGD steps rounding
  differences grow as in any chaotic training run. Measured on digits (16 cells, final
  valid accuracy): with the calibrated 5-epoch one-stage config, stacked vs alone differ
  by 0.09 points on average (11 of 16 identical; two seeds differ by 4.4); with the
  10-epoch 3-stage default by 0.57 points, about as much as two seeds (0.64) there. For
  the same reason a result depends, at rounding level, on the architectures sharing its
  stack; a fixed stacking rule keeps runs deterministic.

Speed (tests/bench/test_bench_training.py: 32 random cells, one thread, 2-core VM): on
the default 3-stage 8-channel "tiny" skeleton, 1.15-1.2x the trainings per core-hour of
``train_architecture`` for K = 1..8 (K = 1 alone gives 1.15x: channels-last kernels and the
pooling's hand-written backward), 1.05-1.1x at K = 32; on the calibrated one-stage
16-channel skeletons (``training.CALIBRATED``) K = 1 is on par and stacking is SLOWER
(about 0.65x at K = 8, 0.5x at K = 32). At batch 64-128 these nets are not dominated by
Python overhead (about 30% of a step) but by convolution/BatchNorm kernels and by memory
traffic; a stack multiplies the activation working set by K (out of cache beyond a few
MB), and with random cells most edge ops serve only part of the stack (gathers, masks).
``epoch_seconds`` and ``eval_seconds`` of each record are the stack's wall times divided
by K (amortised: the K architectures ran interleaved, not one after another).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench import training as _training
from nasbench.datasets import Dataset
from nasbench.models.config import CONV_KERNELS, EDGES, OPS, MacroConfig, validate_ops
from nasbench.models.costs import count_costs
from nasbench.models.nb201 import NB201Network, build_model
from nasbench.spaces.nb201 import NB201Cell

__all__ = ["StackedNB201", "StackedCell", "StackedReduction", "train_stacked", "dead_parameters"]

def _nchw(x: torch.Tensor) -> torch.Tensor:
    """A (B, H, W, C) activation as the channels-last (B, C, H, W) view torch ops expect."""
    return x.permute(0, 3, 1, 2)


def _nhwc(y: torch.Tensor) -> torch.Tensor:
    """A channels-last (B, C, H, W) result back as a contiguous (B, H, W, C) activation."""
    return y.permute(0, 2, 3, 1).contiguous()


def _conv(n: int, c_in: int, c_out: int, kernel: int, stride: int, ndim: int) -> nn.Conv2d:
    """``n`` stacked convolutions (groups=n, no bias, padding k//2); 1-D ones as (1, k)."""
    if ndim == 1:
        return nn.Conv2d(n * c_in, n * c_out, (1, kernel), stride=(1, stride), padding=(0, kernel // 2),
                         groups=n, bias=False)
    return nn.Conv2d(n * c_in, n * c_out, kernel, stride=stride, padding=kernel // 2, groups=n, bias=False)


class _ConvBN(nn.Module):
    """``n`` stacked [ReLU ->] Conv -> BatchNorm blocks on (B, H, W, n*C) activations.

    The submodules are named "1" (conv) and "2" (BatchNorm) as in
    :class:`nasbench.models.nb201.ReLUConvBN`, so parameter names map one to one.
    """

    def __init__(self, n: int, c_in: int, c_out: int, kernel: int, stride: int, ndim: int,
                 relu: bool = True) -> None:
        super().__init__()
        self.relu = relu
        self.add_module("1", _conv(n, c_in, c_out, kernel, stride, ndim))
        self.add_module("2", nn.BatchNorm2d(n * c_out, affine=True, track_running_stats=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.relu:
            x = F.relu(x)
        return _nhwc(self._modules["2"](self._modules["1"](_nchw(x))))


def _inverse_counts(counts_h: torch.Tensor, counts_w: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """1 / (count_h * count_w) in float64, cast to ``like``'s dtype, shaped (1, H, W, 1)."""
    total = counts_h[:, None] * counts_w[None, :]
    return (1.0 / total).to(device=like.device, dtype=like.dtype)[None, :, :, None]


def _shift_sum3(x: torch.Tensor, dim: int) -> torch.Tensor:
    """y[i] = x[i-1] + x[i] + x[i+1] along ``dim`` (zeros outside), summed in that order."""
    n = x.shape[dim]
    y = x.clone()
    if n > 1:
        y.narrow(dim, 1, n - 1).add_(x.narrow(dim, 0, n - 1))  # x[i] + x[i-1] == x[i-1] + x[i]
        y.narrow(dim, 0, n - 1).add_(x.narrow(dim, 1, n - 1))
    return y


class _ShiftPool3Fn(torch.autograd.Function):
    """y = S(x) * inv with S the zero-padded 3-neighbour sum along W (and then H in 2-D).
    S is symmetric, so the gradient is S(grad * inv); no zero-filled slice gradients."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, inv: torch.Tensor, ndim: int) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(inv)
        ctx.ndim = ndim
        s = _shift_sum3(x, 2)
        if ndim == 2:
            s = _shift_sum3(s, 1)
        return s * inv

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (inv,) = ctx.saved_tensors
        g = grad * inv
        if ctx.ndim == 2:
            g = _shift_sum3(g, 1)
        return _shift_sum3(g, 2), None, None


class _WindowPool(nn.Module):
    """Base of the NHWC average pools: caches 1/count per (H, W, device, dtype), from the
    per-axis window counts of ``_counts`` (float64, so products are exact)."""

    def __init__(self, ndim: int) -> None:
        super().__init__()
        self.ndim = ndim
        self._inv: dict[tuple, torch.Tensor] = {}

    @staticmethod
    def _counts(n: int) -> torch.Tensor:
        raise NotImplementedError

    def _inverse(self, x: torch.Tensor) -> torch.Tensor:
        H, W = x.shape[1], x.shape[2]
        key = (H, W, x.device, x.dtype)
        inv = self._inv.get(key)
        if inv is None:
            h = self._counts(H) if self.ndim == 2 else torch.ones(1, dtype=torch.float64)
            inv = self._inv[key] = _inverse_counts(h, self._counts(W), x)
        return inv


class _ShiftPool3(_WindowPool):
    """``AvgPool(3, stride 1, padding 1, count_include_pad=False)`` on (B, H, W, C) as shifted
    sums times the reciprocal count: the arithmetic of ``nasbench.training``'s fast pool
    (left + centre + right along W, then along H in 2-D; times 1/count from float64)."""

    @staticmethod
    def _counts(n: int) -> torch.Tensor:
        c = torch.full((n,), 3.0, dtype=torch.float64)
        c[0] -= 1
        c[-1] -= 1
        if n == 1:
            c[0] = 1.0
        return c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ShiftPool3Fn.apply(x, self._inverse(x), self.ndim)


class _HalvePoolFn(torch.autograd.Function):
    """y = (sum of each 2 (or 2x2) window, in avg_pool's order) * inv on even-sized NHWC x;
    each input gets grad * inv of its window."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, inv: torch.Tensor, ndim: int) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(inv)
        ctx.ndim = ndim
        if ndim == 1:
            s = x[:, :, 0::2] + x[:, :, 1::2]
        else:
            s = x[:, 0::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 0::2] + x[:, 1::2, 1::2]
        return s * inv

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (inv,) = ctx.saved_tensors
        g = grad * inv
        B, H, W, C = g.shape
        if ctx.ndim == 1:
            dx = g.unsqueeze(3).expand(B, H, W, 2, C).reshape(B, H, 2 * W, C)
        else:
            dx = g.reshape(B, H, 1, W, 1, C).expand(B, H, 2, W, 2, C).reshape(B, 2 * H, 2 * W, C)
        return dx, None, None


class _HalvePool(_WindowPool):
    """``AvgPool(2, stride 2, padding 0, ceil_mode=True)`` on (B, H, W, C): the window sum over
    the in-range elements in avg_pool's order, times 1/count (1, 1/2 or 1/4: exact, so
    equal to avg_pool's sum / count)."""

    @staticmethod
    def _counts(n: int) -> torch.Tensor:
        c = torch.full(((n + 1) // 2,), 2.0, dtype=torch.float64)
        if n % 2:
            c[-1] = 1.0
        return c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        H, W = x.shape[1], x.shape[2]
        inv = self._inverse(x)
        pad_h = H % 2 if self.ndim == 2 else 0
        if W % 2 or pad_h:  # odd sizes: a zero adds nothing to the last window's sum
            x = F.pad(x, (0, 0, 0, W % 2, 0, pad_h))
        return _HalvePoolFn.apply(x, inv, self.ndim)


def dead_parameters(ops: Sequence[str], config: MacroConfig, names: Sequence[str]) -> set[str]:
    """The parameters among ``names`` (of ``build_model(ops, config)``) that never get a
    gradient: autograd leaves their ``.grad`` at None, so the optimiser skips them.

    - An edge op whose target node feeds nothing that reaches the cell output (node 3).
    - Everything before the last cell (stem, earlier cells, reduction blocks) when the cell
      output does not depend on the cell input (no path of non-"none" edges 0 -> 3).
    (Convs run on all-zero nodes DO get gradients: zero for the conv, not for its BN.)
    """
    ops = validate_ops(ops)
    used = {3}
    for node in (2, 1):
        if any(op != "none" and frm == node and to in used for op, (frm, to) in zip(ops, EDGES)):
            used.add(node)
    reached = {0}
    for node in (1, 2, 3):
        if any(op != "none" and to == node and frm in reached for op, (frm, to) in zip(ops, EDGES)):
            reached.add(node)
    last = config.stages * config.cells_per_stage + config.stages - 2  # the last block is a cell
    dead = set()
    for name in names:
        parts = name.split(".")
        if parts[0] == "cells" and parts[2] == "edges" and EDGES[int(parts[3])][1] not in used:
            dead.add(name)
        elif 3 not in reached and (parts[0] == "stem" or (parts[0] == "cells" and int(parts[1]) < last)):
            dead.add(name)
    return dead


class StackedCell(nn.Module):
    """One cell position of K networks; ``edges[e][op]`` serves the archs ``archs[e][op]``."""

    def __init__(self, ops_list: Sequence[tuple[str, ...]], channels: int, ndim: int) -> None:
        super().__init__()
        self.K, self.C, self.ndim = len(ops_list), channels, ndim
        K, C = self.K, channels
        self.edges = nn.ModuleList()
        self.archs: list[dict[str, tuple[int, ...]]] = []
        plan: list[list[tuple[int, int, str, bool, bool]]] = [[] for _ in range(3)]
        for e, (frm, to) in enumerate(EDGES):
            modules = nn.ModuleDict()
            users: dict[str, tuple[int, ...]] = {}
            for op in OPS:
                archs = tuple(k for k in range(K) if ops_list[k][e] == op)
                if op == "none" or not archs:
                    continue
                users[op] = archs
                full = len(archs) == K
                if op in CONV_KERNELS:
                    # the ReLU is applied once per source node and shared by its conv edges
                    modules[op] = _ConvBN(len(archs), C, C, CONV_KERNELS[op], 1, ndim, relu=False)
                    if not full:
                        self.register_buffer(f"index_{e}_{op}", torch.tensor(archs, dtype=torch.long),
                                             persistent=False)
                else:
                    modules[op] = _ShiftPool3(ndim) if op == "avg_pool_3x3" else nn.Identity()
                    if not full:
                        mask = torch.zeros(K, C)
                        mask[list(archs)] = 1.0
                        self.register_buffer(f"mask_{e}_{op}", mask.reshape(K * C), persistent=False)
                plan[to - 1].append((e, frm, op, op in CONV_KERNELS, full))
            self.edges.append(modules)
            self.archs.append(users)
        self._plan = plan

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        K, C = self.K, self.C
        B, H, W = x.shape[:3]
        nodes = [x]
        relu: dict[int, torch.Tensor] = {}
        for inputs in self._plan:
            acc: torch.Tensor | None = None
            for e, frm, op, conv, full in inputs:
                module = self.edges[e][op]
                src = nodes[frm]
                if conv:
                    r = relu.get(frm)
                    if r is None:
                        r = relu[frm] = F.relu(src)
                    if not full:
                        index = getattr(self, f"index_{e}_{op}")
                        n = index.numel()
                        sel = r.view(B, H, W, K, C).index_select(3, index).view(B, H, W, n * C)
                        term = module(sel).view(B, H, W, n, C)
                        base = acc if acc is not None else torch.zeros_like(x)
                        acc = base.view(B, H, W, K, C).index_add(3, index, term).view(B, H, W, K * C)
                        continue
                    term = module(r)
                else:
                    term = module(src)
                    if not full:  # acc + term * mask in one op (exact: the mask is 0 or 1)
                        mask = getattr(self, f"mask_{e}_{op}")
                        acc = term * mask if acc is None else torch.addcmul(acc, term, mask)
                        continue
                acc = term if acc is None else acc + term
            nodes.append(acc if acc is not None else torch.zeros_like(x))
        return nodes[3]


class StackedReduction(nn.Module):
    """K residual reduction blocks (stride 2, c_in -> c_out), as NB201's ResNet basic block."""

    def __init__(self, K: int, c_in: int, c_out: int, ndim: int) -> None:
        super().__init__()
        self.conv_a = _ConvBN(K, c_in, c_out, 3, 2, ndim)
        self.conv_b = _ConvBN(K, c_out, c_out, 3, 1, ndim)
        self.downsample = nn.Sequential(_HalvePool(ndim), _conv(K, c_in, c_out, 1, 1, ndim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = _nhwc(self.downsample[1](_nchw(self.downsample[0](x))))
        return shortcut + self.conv_b(self.conv_a(x))


class StackedNB201(nn.Module):
    """K networks ``build_model(ops_list[k], config)`` in one module (see the module doc).

    A new instance has torch-default weights of the stacked shapes, which are NOT the
    individual networks' initial weights; use :meth:`from_models` / :meth:`load_from_models`
    (or :func:`train_stacked`, which does).
    """

    def __init__(self, ops_list: Sequence[Sequence[str] | NB201Cell], config: MacroConfig) -> None:
        super().__init__()
        if isinstance(ops_list, (str, bytes)) or not isinstance(ops_list, Sequence) or len(ops_list) == 0:
            raise ValueError(f"ops_list must be a non-empty sequence of cells, got {ops_list!r}")
        if not isinstance(config, MacroConfig):
            raise ValueError(f"config must be a MacroConfig, got {config!r}")
        self.ops_list = tuple(validate_ops(ops) for ops in ops_list)
        self.config = config
        self.K = K = len(self.ops_list)
        d, channels = config.ndim, config.stage_channels()
        self.stem = nn.Sequential(
            _conv(K, config.input_shape[0], channels[0], 3, 1, d),
            nn.BatchNorm2d(K * channels[0]),
        )
        blocks: list[nn.Module] = []
        for s, c in enumerate(channels):
            if s > 0:
                blocks.append(StackedReduction(K, channels[s - 1], c, d))
            blocks.extend(StackedCell(self.ops_list, c, d) for _ in range(config.cells_per_stage))
        self.cells = nn.ModuleList(blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(K * channels[-1]), nn.ReLU(inplace=False))
        self.classifier_weight = nn.Parameter(torch.zeros(K, channels[-1], config.num_classes))
        self.classifier_bias = nn.Parameter(torch.zeros(K, config.num_classes))
        self._dead: list[tuple[str, int, torch.Size, bool]] = []  # set by load_from_models

    # -- forward ---------------------------------------------------------------------------

    def _forward_nhwc(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W, K*C_in) -> logits (K, B, classes)."""
        x = _nhwc(self.stem(_nchw(x)))
        for block in self.cells:
            x = block(x)
        features = F.adaptive_avg_pool2d(self.lastact(_nchw(x)), 1).flatten(1)  # (B, K*C_last)
        features = features.reshape(features.shape[0], self.K, -1).transpose(0, 1)  # (K, B, C_last)
        return torch.baddbmm(self.classifier_bias.unsqueeze(1), features, self.classifier_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Architecture k's batch ``x[k]``: (K, B, *input_shape) -> logits (K, B, classes)."""
        shape = self.config.input_shape
        if x.dim() != len(shape) + 2 or x.shape[0] != self.K or tuple(x.shape[2:]) != shape:
            raise ValueError(f"input shape {tuple(x.shape)} does not match (K={self.K}, batch, *{shape})")
        K, B = x.shape[:2]
        if self.config.ndim == 1:  # (K, B, C, L) -> (B, 1, L, K*C)
            x = x.permute(1, 3, 0, 2).reshape(B, 1, shape[1], K * shape[0])
        else:  # (K, B, C, H, W) -> (B, H, W, K*C)
            x = x.permute(1, 3, 4, 0, 2).reshape(B, shape[1], shape[2], K * shape[0])
        return self._forward_nhwc(x)

    def forward_shared(self, x: torch.Tensor) -> torch.Tensor:
        """One batch for all K: (B, *input_shape) -> logits (K, B, classes)."""
        shape = self.config.input_shape
        if tuple(x.shape[1:]) != shape:
            raise ValueError(f"input shape {tuple(x.shape)} does not match (batch, *{shape})")
        x = x.unsqueeze(2) if self.config.ndim == 1 else x  # (B, C, [1,] L) -> 2-D
        return self._forward_nhwc(x.permute(0, 2, 3, 1).repeat(1, 1, 1, self.K))

    # -- weights in and out ----------------------------------------------------------------

    def _slot(self, k: int, name: str) -> tuple[str, int, bool]:
        """Where tensor ``name`` of ``build_model(ops_list[k])``'s state dict lives here:
        (stacked name, block position, whether it is a classifier tensor indexed by k)."""
        parts = name.split(".")
        if parts[0] == "classifier":
            return f"classifier_{parts[1]}", k, True
        if parts[0] == "cells" and parts[2] == "edges":
            cell = self.cells[int(parts[1])]
            assert isinstance(cell, StackedCell)
            e = int(parts[3])
            op = self.ops_list[k][e]
            return ".".join([*parts[:4], op, *parts[4:]]), cell.archs[e][op].index(k), False
        return name, k, False

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {**dict(self.named_parameters()), **dict(self.named_buffers())}

    @staticmethod
    def _block(target: torch.Tensor, position: int, shape: torch.Size, classifier: bool) -> torch.Tensor:
        """The view of ``target`` that holds a tensor of ``shape`` of one network: a block of
        rows (dim 0), 1-D conv weights (C_out, C_in, k) seen as (C_out, C_in, 1, k); the
        classifier weight is stored transposed, (C, classes) per architecture."""
        if classifier:
            block = target[position]
            return block.t() if len(shape) == 2 else block
        if len(shape) == 0:  # num_batches_tracked: one shared counter
            return target
        rows = shape[0]
        block = target[position * rows:(position + 1) * rows]
        return block if block.shape == shape else block.view(shape)

    def dead_blocks(self) -> list[torch.Tensor]:
        """Views of the parameter blocks that get no gradient in one-at-a-time training
        (autograd leaves them ``None``, so the optimiser skips them: no weight decay, no
        momentum). Here they get a zero gradient instead; :func:`train_stacked` puts their
        values back after each step so that they stay exactly as they would alone. They
        never affect any output."""
        mine = dict(self.named_parameters())
        return [self._block(mine[name].detach(), position, shape, classifier)
                for name, position, shape, classifier in self._dead]

    @torch.no_grad()
    def load_from_models(self, models: Sequence[nn.Module]) -> StackedNB201:
        """Copy every parameter and BatchNorm buffer of ``models[k]`` (a ``build_model(
        ops_list[k], config)`` network, possibly trained) into architecture k's slots."""
        if len(models) != self.K:
            raise ValueError(f"models: need {self.K} networks, got {len(models)}")
        mine = self._tensors()
        filled = {name: 0 for name, p in self.named_parameters()}
        self._dead: list[tuple[str, int, torch.Size, bool]] = []
        for k, model in enumerate(models):
            if not isinstance(model, NB201Network) or model.ops != self.ops_list[k] or model.config != self.config:
                raise ValueError(f"models[{k}] must be build_model({self.ops_list[k]!r}, config), got {model!r}")
            dead = dead_parameters(self.ops_list[k], self.config, [name for name, _ in model.named_parameters()])
            for name, value in model.state_dict().items():
                target_name, position, classifier = self._slot(k, name)
                self._block(mine[target_name], position, value.shape, classifier).copy_(value)
                if target_name in filled:
                    filled[target_name] += value.numel()
                if name in dead:
                    self._dead.append((target_name, position, value.shape, classifier))
        for name, p in self.named_parameters():
            if filled[name] != p.numel():  # every stacked parameter element belongs to one network
                raise AssertionError(f"stacked parameter {name}: {filled[name]} of {p.numel()} elements loaded")
        return self

    @classmethod
    def from_models(cls, models: Sequence[NB201Network]) -> StackedNB201:
        """A stack of copies of ``models`` (all with one MacroConfig)."""
        if not models:
            raise ValueError("models: need at least one network")
        like = next(models[0].parameters())
        return cls([m.ops for m in models], models[0].config).to(
            device=like.device, dtype=like.dtype).load_from_models(models)

    @torch.no_grad()
    def export_model(self, k: int) -> NB201Network:
        """Architecture k as a plain ``build_model`` network holding copies of its current
        weights and BatchNorm statistics (and this module's train/eval mode)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < self.K:
            raise ValueError(f"k must be an architecture position in 0..{self.K - 1}, got {k!r}")
        k = int(k)
        with torch.random.fork_rng(devices=[]):  # the init is overwritten; leave the RNG alone
            model = build_model(self.ops_list[k], self.config)
        model.to(device=self.classifier_weight.device, dtype=self.classifier_weight.dtype)
        mine = self._tensors()
        for name, value in model.state_dict().items():
            target_name, position, classifier = self._slot(k, name)
            value.copy_(self._block(mine[target_name], position, value.shape, classifier))
        return model.train(self.training)


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------


@torch.inference_mode()
def _evaluate(model: StackedNB201, x: torch.Tensor, y: torch.Tensor, batch: int,
              splits: Sequence[int]) -> list[list[tuple[float, float]]]:
    """Per architecture, per consecutive part of ``x`` of sizes ``splits`` (valid, test):
    (mean cross-entropy, accuracy in percent) in eval mode; every architecture sees the
    same inputs. Per-example losses are summed in float64, as ``train_architecture`` does."""
    K = model.K
    losses, hits = [], []
    for start in range(0, len(y), batch):
        xb, yb = x[start:start + batch], y[start:start + batch]
        logits = model.forward_shared(xb)  # (K, b, classes)
        b = len(yb)
        losses.append(F.cross_entropy(logits.reshape(K * b, -1), yb.repeat(K), reduction="none").view(K, b))
        hits.append(logits.argmax(2) == yb)
    loss, hit = torch.cat(losses, 1).double(), torch.cat(hits, 1)
    out: list[list[tuple[float, float]]] = [[] for _ in range(K)]
    start = 0
    for n in splits:
        sums = loss[:, start:start + n].sum(1).tolist()
        correct = hit[:, start:start + n].sum(1).tolist()
        for k in range(K):
            out[k].append((float(sums[k]) / n, 100.0 * float(correct[k]) / n))
        start += n
    return out


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def train_stacked(
    ops_list: Sequence[Sequence[str] | NB201Cell],
    seeds: Sequence[int],
    dataset: Dataset | str,
    config: _training.TrainConfig | None = None,
    device: str | torch.device = "cpu",
) -> list[_training.TrainRecord]:
    """Train cell ``ops_list[k]`` with seed ``seeds[k]`` for every k at once; one
    :class:`~nasbench.training.TrainRecord` per architecture, in order.

    The same run as ``train_architecture(ops_list[k], dataset, config, seeds[k], device)``
    for each k (same initial weights, mini-batch order, optimiser, schedule and eval), up
    to float rounding (see the module doc). Cells and seeds may repeat. ``epoch_seconds`` and
    ``eval_seconds`` are the stack's wall times divided by K.
    """
    cells = [validate_ops(ops) for ops in ops_list]
    seeds = [_check_seed(s) for s in seeds]
    if not cells:
        raise ValueError("ops_list must hold at least one cell")
    if len(seeds) != len(cells):
        raise ValueError(f"seeds: need one seed per cell ({len(cells)}), got {len(seeds)}")
    config = _training.TrainConfig() if config is None else config
    if not isinstance(config, _training.TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {config!r}")
    data = _training._resolve_dataset(dataset)
    dev = torch.device(device)
    macro = config.macro(data.input_shape, data.num_classes)
    n_train = len(data.y_train)
    if n_train < config.batch_size:
        raise ValueError(f"TrainConfig.batch_size={config.batch_size} exceeds the {n_train} training examples")
    tensors = _training._tensors(data, dev)
    x_train, y_train = tensors["x_train"], tensors["y_train"]
    K = len(cells)

    models, costs, generators = [], [], []
    for ops, seed in zip(cells, seeds):
        init_seed, order_seed = _training._derived_seeds(seed)
        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            torch.manual_seed(init_seed)
            model = build_model(ops, macro)
        params, flops = count_costs(ops, macro)
        if sum(p.numel() for p in model.parameters()) != params:
            raise AssertionError(f"count_params={params} disagrees with the torch model of {ops}")
        models.append(model)
        costs.append((params, flops))
        generator = torch.Generator(device="cpu")
        generator.manual_seed(order_seed)
        generators.append(generator)
    stacked = StackedNB201(cells, macro).load_from_models(models)
    del models
    stacked.to(dev)

    dead = stacked.dead_blocks()  # kept at their initial values, as autograd leaves them alone
    dead_values = [block.detach().clone() for block in dead]
    trainable = list(stacked.parameters())
    if config.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            trainable, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
            weight_decay=config.weight_decay, foreach=True)
    else:
        optimizer = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    group = optimizer.param_groups[0]

    steps_per_epoch = n_train // config.batch_size
    total_steps = config.epochs * steps_per_epoch
    bs = config.batch_size
    device_name = _training._device_name(dev)
    records = [_training.TrainRecord(params=p, flops=f, device=device_name, torch_version=torch.__version__,
                                     seed=s) for (p, f), s in zip(costs, seeds)]
    # valid and test in one pass, in batches of eval_batch_size examples (each fed to all K)
    x_eval, y_eval = tensors["x_eval"], tensors["y_eval"]  # valid then test, concatenated once per dataset
    splits = (len(data.y_valid), len(data.y_test))

    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        step = 0
        for _ in range(config.epochs):
            stacked.train()
            start = time.perf_counter()
            perms = torch.stack([torch.randperm(n_train, generator=g) for g in generators]).to(dev)
            loss_sum = torch.zeros(K, dtype=torch.float64, device=dev)
            correct = torch.zeros(K, dtype=torch.int64, device=dev)
            for i in range(steps_per_epoch):
                if config.schedule == "cosine":
                    group["lr"] = config.lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))
                idx = perms[:, i * bs:(i + 1) * bs]  # (K, B): each architecture its own batch
                xb, yb = x_train[idx], y_train[idx]
                logits = stacked(xb)  # (K, B, classes)
                per_arch = F.cross_entropy(logits.reshape(K * bs, -1), yb.reshape(-1), reduction="none",
                                           label_smoothing=config.label_smoothing).view(K, bs).mean(1)
                loss = per_arch.sum()  # the sum keeps each architecture's gradient its own
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    for block, value in zip(dead, dead_values):
                        block.copy_(value)
                    loss_sum += per_arch.detach().double()
                    correct += (logits.detach().argmax(2) == yb).sum(1)
                step += 1
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            train_seconds = (time.perf_counter() - start) / K
            train_loss = [float(v) / steps_per_epoch for v in loss_sum.tolist()]
            train_acc = [100.0 * float(c) / (steps_per_epoch * bs) for c in correct.tolist()]

            start = time.perf_counter()
            stacked.eval()
            evaluated = _evaluate(stacked, x_eval, y_eval, config.eval_batch_size, splits)
            eval_seconds = (time.perf_counter() - start) / K
            for k, record in enumerate(records):
                record.epoch_seconds.append(train_seconds)
                record.eval_seconds.append(eval_seconds)
                record.train_loss.append(train_loss[k])
                record.train_acc.append(train_acc[k])
                (valid_loss, valid_acc), (test_loss, test_acc) = evaluated[k]
                record.valid_loss.append(valid_loss)
                record.valid_acc.append(valid_acc)
                record.test_loss.append(test_loss)
                record.test_acc.append(test_acc)
    finally:
        torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
    return records
