"""The zero-cost proxy contract: a scoring function of an untrained network and one batch.

A proxy scores an untrained ``torch.nn.Module`` from one batch of inputs (and, for most,
their targets and a loss) in one or a few forward/backward passes; a higher score is meant
to predict a higher trained accuracy (``sign`` says which way the published definition
points). :func:`compute` is how every caller scores: it runs the proxy on a private copy
of the module's state, so the module's weights, gradients and train/eval mode are as they
were afterwards, and it turns any error inside a proxy into :class:`ProxyError`.

torch is imported by the functions that use it, never at package import: querying tables,
strategies and the CLI's start-up stay torch-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nasbench.errors import NasbenchError
from nasbench.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import nn

#: (model, inputs, targets, loss, generator) -> score; ``loss`` maps (logits, targets) to a
#: scalar tensor; ``generator`` (a seeded torch.Generator) is the only randomness a proxy may
#: use (Zen-NAS's Gaussian inputs, for one): never torch's global RNG.
ScoreFn = Callable[["nn.Module", "torch.Tensor", "torch.Tensor", Callable[..., "torch.Tensor"], "torch.Generator"],
                   float]

USES = ("data+labels", "data", "none")  # what a proxy reads of the batch


class ProxyError(NasbenchError):
    """A proxy could not score a network (its message names the proxy and the cause)."""


@dataclass(frozen=True)
class Proxy:
    """A registered zero-cost proxy and the facts a user needs to read its scores."""

    name: str
    score: ScoreFn
    sign: int = 1  # +1: higher score, higher predicted accuracy (as published)
    uses: str = "data+labels"  # "data+labels", "data" (inputs only) or "none" (constant input / architecture)
    batch_size: int = 64  # the batch the reference implementation scores with
    definition: str = ""  # one line: what is computed
    reference: str = ""  # paper and reference implementation
    differences: str = ""  # what differs from the reference implementation, if anything
    #: how far a re-scored value may differ from a stored one, relative to the larger of the two
    #: and the proxy's typical size: float32 kernels differ across CPU models (and GPUs), so a
    #: score is bit-identical only on the same kind of machine (README, "Across machines")
    rescore_rtol: float = 1e-3

    def __post_init__(self) -> None:
        if self.sign not in (1, -1):
            raise ValueError(f"proxy {self.name!r}: sign must be +1 or -1, got {self.sign!r}")
        if self.uses not in USES:
            raise ValueError(f"proxy {self.name!r}: uses must be one of {USES}, got {self.uses!r}")


PROXIES: Registry[Proxy] = Registry("proxy")


def register(proxy: Proxy) -> Proxy:
    """Add ``proxy`` to :data:`PROXIES` (its name must be new)."""
    PROXIES.add(proxy.name, proxy)
    return proxy


def cross_entropy() -> Callable[..., Any]:
    """The default loss: mean cross-entropy of logits against integer class targets."""
    import torch.nn.functional as F

    return F.cross_entropy


def compute(name: str, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
            loss: Callable[..., Any] | None = None, seed: int = 0) -> float:
    """Score ``model`` with proxy ``name``; the module's weights, buffers, gradients and mode
    are restored afterwards, and the proxy's randomness comes from a torch.Generator seeded
    with ``seed``. Non-finite scores are returned as they are (callers count them); an
    exception inside the proxy becomes one ProxyError."""
    import torch

    proxy = PROXIES.get(name)
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}  # 7x faster than deepcopy
    modes = {module: module.training for module in model.modules()}
    grads = {p: (None if p.grad is None else p.grad.detach().clone()) for p in model.parameters()}
    try:
        value = proxy.score(model, inputs, targets, loss or cross_entropy(), torch.Generator().manual_seed(seed))
    except Exception as exc:
        raise ProxyError(f"proxy {name!r}: {type(exc).__name__}: {exc}") from exc
    finally:
        model.load_state_dict(state)
        for module, training in modes.items():
            module.train(training)
        for parameter, grad in grads.items():
            parameter.grad = grad
    return float(value)
