"""The building blocks of a stacked network on channels-last (B, H, W, K*C) activations:
grouped convolutions, Conv-BN blocks and the exact average pools (see nasbench.stacked)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvBN", "HalvePool", "ShiftPool3", "nchw", "nhwc", "stacked_conv"]


def nchw(x: torch.Tensor) -> torch.Tensor:
    """A (B, H, W, C) activation as the channels-last (B, C, H, W) view torch ops expect."""
    return x.permute(0, 3, 1, 2)


def nhwc(y: torch.Tensor) -> torch.Tensor:
    """A channels-last (B, C, H, W) result back as a contiguous (B, H, W, C) activation."""
    return y.permute(0, 2, 3, 1).contiguous()


def stacked_conv(n: int, c_in: int, c_out: int, kernel: int, stride: int, ndim: int) -> nn.Conv2d:
    """``n`` stacked convolutions (groups=n, no bias, padding k//2); 1-D ones as (1, k)."""
    if ndim == 1:
        return nn.Conv2d(n * c_in, n * c_out, (1, kernel), stride=(1, stride), padding=(0, kernel // 2),
                         groups=n, bias=False)
    return nn.Conv2d(n * c_in, n * c_out, kernel, stride=stride, padding=kernel // 2, groups=n, bias=False)


class ConvBN(nn.Module):
    """``n`` stacked [ReLU ->] Conv -> BatchNorm blocks on (B, H, W, n*C) activations.

    The submodules are named "1" (conv) and "2" (BatchNorm) as in
    :class:`nasbench.models.nb201.ReLUConvBN`, so parameter names map one to one.
    """

    def __init__(self, n: int, c_in: int, c_out: int, kernel: int, stride: int, ndim: int,
                 relu: bool = True) -> None:
        super().__init__()
        self.relu = relu
        self.add_module("1", stacked_conv(n, c_in, c_out, kernel, stride, ndim))
        self.add_module("2", nn.BatchNorm2d(n * c_out, affine=True, track_running_stats=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.relu:
            x = F.relu(x)
        return nhwc(self._modules["2"](self._modules["1"](nchw(x))))


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


class ShiftPool3(_WindowPool):
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


class HalvePool(_WindowPool):
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
