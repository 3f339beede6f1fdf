"""What a generator run trains: one representative per isomorphism class, per seed, in chunks.

The plan is a pure function of the config, so a killed run that is restarted makes the
same chunks, finds the finished ones on disk and trains only the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from nasbench.errors import NasbenchError, OutOfDomainError
from nasbench.spaces import get_space


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that determines a table's numbers (recorded in its manifest)."""

    name: str
    dataset: str
    seeds: tuple[int, ...]
    train: dict[str, Any]  # nasbench.training.TrainConfig fields
    split_seed: int = 0
    space: str = "nb201"
    indices: tuple[int, ...] | None = None  # None: the whole space
    chunk_size: int = 32

    def __post_init__(self) -> None:
        if not self.seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in self.seeds):
            raise NasbenchError(f"seeds: need non-negative integers, got {list(self.seeds)!r}")
        if len(set(self.seeds)) != len(self.seeds):
            raise NasbenchError(f"seeds: repeated seed in {list(self.seeds)!r}")
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise NasbenchError(f"chunk_size: must be a positive integer, got {self.chunk_size!r}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seeds"] = list(self.seeds)
        data["indices"] = None if self.indices is None else list(self.indices)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeneratorConfig:
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["seeds"] = tuple(data["seeds"])
        if data.get("indices") is not None:
            data["indices"] = tuple(data["indices"])
        return cls(**data)

    def differences(self, other: GeneratorConfig) -> list[tuple[str, Any, Any]]:
        """(field, this value, other value) for each difference, seeds aside (they may grow).

        Nested fields are named with a dot, e.g. ``train.epochs``.
        """
        out = []
        mine, theirs = self.to_dict(), other.to_dict()
        for key in mine:
            a, b = mine[key], theirs[key]
            if key == "seeds" or json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True):
                continue
            if isinstance(a, dict) and isinstance(b, dict):
                out += [(f"{key}.{k}", a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            else:
                out.append((key, a, b))
        return out


@dataclass(frozen=True)
class Chunk:
    """One unit of work: train these representatives with one seed."""

    id: str
    seed: int
    indices: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """Members, their representatives, and the chunks of training to do."""

    members: np.ndarray  # every architecture index of the table, ascending
    representative: np.ndarray  # (len(members),) index actually trained for each member
    chunks: tuple[Chunk, ...]

    @property
    def trainings(self) -> int:
        return sum(len(c.indices) for c in self.chunks)


def training_cost_key(cell: Any, index: int) -> tuple[int, ...]:
    """Order members of a class by what they cost to train. NB201: 3x3 convs, 1x1 convs, pools,
    skips, then index (the cheapest member is the pruned cell itself: dead edges are none).
    Spaces whose cells are already canonical (NB101) have one member per class: the index."""
    if hasattr(cell, "matrix"):
        return (index,)
    ops = cell.ops
    return (ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1"), ops.count("avg_pool_3x3"),
            ops.count("skip_connect"), index)


def sampled_indices(size: int, count: int, seed: int) -> tuple[int, ...]:
    """``count`` indices of a space of ``size`` drawn uniformly without replacement, sorted
    (``nasbench generate --sample COUNT --sample-seed SEED``)."""
    if not 1 <= count <= size:
        raise NasbenchError(f"--sample: {count} must be within 1..{size:,}, the architectures of the space")
    draw = np.random.default_rng(seed).choice(size, size=count, replace=False)
    return tuple(int(i) for i in np.sort(draw))


def sample_seed_of(indices: Sequence[int], size: int, tries: int = 100) -> int | None:
    """The --sample-seed (0..tries-1) that draws exactly ``indices``, or None."""
    wanted = tuple(sorted(int(i) for i in indices))
    return next((s for s in range(tries) if sampled_indices(size, len(wanted), s) == wanted), None)


def make_plan(config: GeneratorConfig) -> Plan:
    """Group the table's architectures by canonical hash; the cheapest member trains for all."""
    space = get_space(config.space)
    if config.indices is None:
        members = np.arange(space.size, dtype=np.int64)
    else:
        members = np.unique(np.asarray(config.indices, dtype=np.int64))
        if len(members) == 0 or members[0] < 0 or members[-1] >= space.size:
            raise OutOfDomainError(f"indices: must be non-empty and within 0..{space.size - 1}")
    cells = [space.from_index(int(i)) for i in members]
    hashes = [space.hash(cell) for cell in cells]
    best: dict[str, tuple] = {}
    for index, cell, key in zip(members.tolist(), cells, hashes):
        cost = training_cost_key(cell, index)
        if key not in best or cost < best[key]:
            best[key] = cost
    representative = np.asarray([best[key][-1] for key in hashes], dtype=np.int64)
    reps = np.unique(representative)
    chunks = []
    for seed in config.seeds:
        for k, start in enumerate(range(0, len(reps), config.chunk_size)):
            part = tuple(int(i) for i in reps[start : start + config.chunk_size])
            chunks.append(Chunk(f"seed-{seed}-{k:05d}", int(seed), part))
    return Plan(members, representative, tuple(chunks))


def chunk_ids(plan: Plan, seeds: Sequence[int] | None = None) -> list[str]:
    return [c.id for c in plan.chunks if seeds is None or c.seed in seeds]
