"""StackedNB201: K NAS-Bench-201 networks in one module, with their weights copied in and
out of plain networks exactly (see nasbench.stacked for the layout)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench.models.config import CONV_KERNELS, EDGES, OPS, MacroConfig, validate_ops
from nasbench.models.nb201 import NB201Network, build_model
from nasbench.spaces.nb201 import NB201Cell
from nasbench.stacked.layers import (
    ConvBN,
    HalvePool,
    ShiftPool3,
    nchw,
    nhwc,
    stacked_conv,
)

__all__ = ["StackedCell", "StackedNB201", "StackedReduction", "dead_parameters"]


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
                    modules[op] = ConvBN(len(archs), C, C, CONV_KERNELS[op], 1, ndim, relu=False)
                    if not full:
                        self.register_buffer(f"index_{e}_{op}", torch.tensor(archs, dtype=torch.long),
                                             persistent=False)
                else:
                    modules[op] = ShiftPool3(ndim) if op == "avg_pool_3x3" else nn.Identity()
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
        self.conv_a = ConvBN(K, c_in, c_out, 3, 2, ndim)
        self.conv_b = ConvBN(K, c_out, c_out, 3, 1, ndim)
        self.downsample = nn.Sequential(HalvePool(ndim), stacked_conv(K, c_in, c_out, 1, 1, ndim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = nhwc(self.downsample[1](nchw(self.downsample[0](x))))
        return shortcut + self.conv_b(self.conv_a(x))


class StackedNB201(nn.Module):
    """K networks ``build_model(ops_list[k], config)`` in one module (see :mod:`nasbench.stacked`).

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
            stacked_conv(K, config.input_shape[0], channels[0], 3, 1, d),
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
        x = nhwc(self.stem(nchw(x)))
        for block in self.cells:
            x = block(x)
        features = F.adaptive_avg_pool2d(self.lastact(nchw(x)), 1).flatten(1)  # (B, K*C_last)
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
