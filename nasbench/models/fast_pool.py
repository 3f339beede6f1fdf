"""Fast, exact replacements for slow CPU modules in the trainer: the cells' 3x3 average
pooling as shifted sums (the builder's ``AvgPool(3, 1, 1, count_include_pad=False)`` is
3-4x slower on CPU). Training uses them; latency is timed without them (deployed network)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ShiftAvgPool3", "speed_up"]


class _ShiftAvgPool3(nn.Module):
    """Exact ``AvgPool{1,2}d(3, stride=1, padding=1, count_include_pad=False)`` as shifted sums
    (separable in 2-D) times the reciprocal count of in-range neighbours."""

    def __init__(self, ndim: int) -> None:
        super().__init__()
        self.ndim = ndim
        self._inv: dict[tuple[tuple[int, ...], torch.device, torch.dtype], torch.Tensor] = {}

    def _inverse_counts(self, x: torch.Tensor) -> torch.Tensor:
        size = tuple(x.shape[2:])
        key = (size, x.device, x.dtype)
        inv = self._inv.get(key)
        if inv is None:
            counts = []
            for n in size:
                c = torch.full((n,), 3.0, dtype=torch.float64)
                if n >= 1:
                    c[0] -= 1
                    c[-1] -= 1
                if n == 1:
                    c[0] = 1.0
                counts.append(c)
            total = counts[0] if self.ndim == 1 else counts[0][:, None] * counts[1][None, :]
            inv = (1.0 / total).to(device=x.device, dtype=x.dtype)
            self._inv[key] = inv
        return inv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.ndim == 1:
            p = F.pad(x, (1, 1))
            s = p[..., :-2] + p[..., 1:-1] + p[..., 2:]
        else:
            p = F.pad(x, (1, 1))
            s = p[..., :-2] + p[..., 1:-1] + p[..., 2:]
            p = F.pad(s, (0, 0, 1, 1))
            s = p[..., :-2, :] + p[..., 1:-1, :] + p[..., 2:, :]
        return s * self._inverse_counts(x)


def _is_cell_pool(module: nn.Module) -> bool:
    if not isinstance(module, (nn.AvgPool1d, nn.AvgPool2d)):
        return False
    k, s, p = module.kernel_size, module.stride, module.padding
    as_tuple = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,)  # noqa: E731
    return (set(as_tuple(k)) == {3} and set(as_tuple(s)) == {1} and set(as_tuple(p)) == {1}
            and not module.count_include_pad and not module.ceil_mode
            and getattr(module, "divisor_override", None) is None)


def speed_up(model: nn.Module, ndim: int) -> nn.Module:
    """Swap the cells' 3x3 average pools for the exact shifted-sum version (in place)."""
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if _is_cell_pool(child):
                setattr(parent, name, _ShiftAvgPool3(ndim))
    return model


ShiftAvgPool3 = _ShiftAvgPool3
