"""The torch side of :class:`predictors.gin.GINPredictor`: the network, its training loop,
and the round trip of its weights through numpy (so the fitted estimator holds no tensor).

Everything random comes from one private ``torch.Generator`` (weight init and minibatch
order): torch's global RNG is never read, so fitting does not disturb a
caller's random stream and the same seed gives the same weights, bit for bit, on one
thread. Graphs are dense: a batch is (B, V, V) adjacency and (B, V, T) vertex types, and
one message-passing step is a batched matmul.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class NetConfig:
    """The shape of a GIN network: what is needed to rebuild it from its weights."""

    n_nodes: int
    n_types: int
    n_extra: int  # global features concatenated to the readout
    hidden: int
    layers: int
    bidirectional: bool  # messages along the edges and against them
    jumping: bool  # read out every layer (Xu et al. 2019, eq. 4.2), not only the last

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainConfig:
    """How the network is trained (Adam with decoupled weight decay, cosine schedule)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    loss: str  # "mse", "pairwise" or "mse+pairwise"


def _linear(fan_in: int, fan_out: int, generator: torch.Generator) -> nn.Linear:
    """nn.Linear with its default initialisation drawn from ``generator`` (built on the meta
    device first, so its constructor's own init draws nothing from the global RNG)."""
    layer = nn.Linear(fan_in, fan_out, device="meta").to_empty(device="cpu")
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


class GIN(nn.Module):
    """Graph Isomorphism Network on dense DAGs with a sum readout and an MLP head.

    Layer k updates every vertex as ``MLP_k((1 + eps_k) h_v + sum_{u -> v} h_u)``; with
    ``bidirectional`` the MLP also reads ``(1 + eps'_k) h_v + sum_{v -> w} h_w`` (the two
    concatenated), as graph predictors of NAS cells do (the direction of data flow matters).
    The readout sums vertices, so the prediction does not depend on how vertices are numbered.
    """

    def __init__(self, config: NetConfig, generator: torch.Generator) -> None:
        super().__init__()
        self.config = config
        h, directions = config.hidden, 2 if config.bidirectional else 1
        self.embed = _linear(config.n_types, h, generator)
        self.eps = nn.Parameter(torch.zeros(config.layers, directions))
        self.convs = nn.ModuleList(
            nn.ModuleList([_linear(directions * h, h, generator), _linear(h, h, generator)])
            for _ in range(config.layers)
        )
        # global features get a layer of their own: fed raw beside a readout of hundreds of
        # wide-ranging sums, one feature equal to the target barely moved Kendall tau
        self.extra = _linear(config.n_extra, h, generator) if config.n_extra else None
        width = h * (config.layers + 1 if config.jumping else 1) + (h if config.n_extra else 0)
        self.head1 = _linear(width, h, generator)
        self.head2 = _linear(h, 1, generator)

    def forward(self, adj: torch.Tensor, types: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        """(B,) predictions for (B, V, V) adjacency, (B, V, T) types and (B, F) extras."""
        h = self.embed(types)
        reads = [h.sum(dim=1)]
        incoming = adj.transpose(1, 2)  # row v: the predecessors u of v (A[u, v] = 1)
        for k, (first, second) in enumerate(self.convs):
            parts = [(1.0 + self.eps[k, 0]) * h + incoming @ h]
            if self.config.bidirectional:
                parts.append((1.0 + self.eps[k, 1]) * h + adj @ h)
            h = torch.relu(second(torch.relu(first(torch.cat(parts, dim=-1)))))
            reads.append(h.sum(dim=1))
        parts = reads if self.config.jumping else reads[-1:]
        if self.extra is not None:
            parts = [*parts, torch.relu(self.extra(extra))]
        z = torch.cat(parts, dim=-1)
        return self.head2(torch.relu(self.head1(z))).squeeze(-1)


def _pairwise(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Logistic loss on every ordered pair of the batch whose targets differ (RankNet)."""
    sign = torch.sign(target[:, None] - target[None, :])
    margin = (pred[:, None] - pred[None, :]) * sign
    pairs = sign.abs().sum()
    if pairs == 0:
        return pred.sum() * 0.0
    return (nn.functional.softplus(-margin) * sign.abs()).sum() / pairs


def _loss(kind: str, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    mse = nn.functional.mse_loss(pred, target)
    if kind == "mse":
        return mse
    rank = _pairwise(pred, target)
    return rank if kind == "pairwise" else mse + rank


def _split(X: np.ndarray, config: NetConfig, device: torch.device,
           dtype: type = np.float32) -> tuple[torch.Tensor, ...]:
    """X's rows as (adjacency, types, extras) tensors on ``device``."""
    v, t = config.n_nodes, config.n_types
    x = torch.as_tensor(np.ascontiguousarray(X, dtype=dtype), device=device)
    adj = x[:, : v * v].reshape(-1, v, v)
    types = x[:, v * v: v * v + v * t].reshape(-1, v, t)
    return adj, types, x[:, v * v + v * t:]


def _fused(device: torch.device) -> bool:
    """Whether AdamW's fused kernel runs on ``device`` (CPU since torch 2.4): a quarter
    less time per step for these small networks than the per-tensor loop."""
    if device.type == "cuda":
        return True
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4)


def train(X: np.ndarray, y: np.ndarray, net: NetConfig, fit: TrainConfig, seed: int,
          device: str) -> tuple[dict[str, np.ndarray], list[float]]:
    """Fit a GIN on (X, y) (y standardised, extras standardised); returns its weights as
    numpy arrays and the mean training loss of every epoch."""
    dev = torch.device(device)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    model = GIN(net, generator).to(dev)
    adj, types, extra = _split(X, net, dev)
    target = torch.as_tensor(y, dtype=torch.float32, device=dev)
    n = len(target)
    batch = min(fit.batch_size, n)
    steps_per_epoch = math.ceil(n / batch)
    total = fit.epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(model.parameters(), lr=fit.learning_rate, weight_decay=fit.weight_decay,
                                  fused=_fused(dev))
    curve: list[float] = []
    step = 0
    model.train()
    for _ in range(fit.epochs):
        order = torch.randperm(n, generator=generator).to(dev)
        running = torch.zeros((), device=dev)
        for start in range(0, n, batch):
            rows = order[start: start + batch]
            for group in optimizer.param_groups:  # cosine decay to 0 over all steps
                group["lr"] = fit.learning_rate * 0.5 * (1.0 + math.cos(math.pi * step / total))
            pred = model(adj[rows], types[rows], extra[rows])
            loss = _loss(fit.loss, pred, target[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running += loss.detach() * len(rows)
            step += 1
        curve.append(float(running) / n)
    state = {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}
    return state, curve


def predict(X: np.ndarray, state: dict[str, np.ndarray], net: NetConfig, device: str,
            chunk: int = 8192) -> np.ndarray:
    """Standardised predictions of the network with weights ``state`` for the rows of X,
    computed in float64 so that a row's prediction does not depend on the rows beside it
    (float32 matmuls round differently for other batch sizes)."""
    dev = torch.device(device)
    model = GIN(net, torch.Generator(device="cpu")).to(dev)
    model.load_state_dict({name: torch.as_tensor(value) for name, value in state.items()})
    model.double().eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(X), chunk):
            adj, types, extra = _split(X[start: start + chunk], net, dev, np.float64)
            out.append(model(adj, types, extra).cpu().numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)
