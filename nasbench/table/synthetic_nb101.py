"""SYNTHETIC nb101 tables for tests and demos: a seeded sample of NAS-Bench-101's unique cells
with made-up results (the same model as the nb201 fixtures, nasbench.table.synthetic, on
each cell's op counts and depth). NOT training results; the manifest says so."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nasbench.errors import OutOfDomainError
from nasbench.spaces import get_space
from nasbench.table.manifest import Manifest
from nasbench.table.synthetic import GENERATOR_VERSION, LATENCY_DEVICES, SyntheticModel
from nasbench.table.writer import TableWriter

GENERATOR_NAME = "nasbench.table.synthetic_nb101"


def _features(cell: object) -> tuple[int, int, int, int, bool]:
    """(3x3 convs, 1x1 convs, pools, longest op path, input wired to output) of an NB101 cell."""
    matrix, ops = cell.matrix, cell.ops  # type: ignore[attr-defined]
    n = len(matrix)
    depth = [0] * n
    for v in range(1, n):
        depth[v] = max(depth[u] for u in range(v) if matrix[u][v]) + (1 if v < n - 1 else 0)
    return (ops.count("conv3x3-bn-relu"), ops.count("conv1x1-bn-relu"), ops.count("maxpool3x3"),
            depth[-1], bool(matrix[0][n - 1]))


def sample_indices(count: int, seed: int = 0) -> np.ndarray:
    """``count`` NB101 indices drawn uniformly without replacement, sorted."""
    size = get_space("nb101").size
    if not 1 <= count <= size:
        raise OutOfDomainError(f"count: must be within 1..{size}, got {count}")
    return np.sort(np.random.default_rng(seed).choice(size, count, replace=False))


def synthetic_nb101_columns(seeds: Sequence[int], epochs: int, indices: Sequence[int], seed: int = 0
                            ) -> dict[str, np.ndarray]:
    """Column arrays of a synthetic nb101 table of ``indices``, rows ordered by seed then index."""
    space = get_space("nb101")
    idx = np.unique(np.asarray(indices, dtype=np.int64))
    cells = [space.from_index(int(i)) for i in idx]
    c3, c1, pool, depth, skip = np.array([_features(c) for c in cells], dtype=np.float64).T
    classes = np.arange(len(idx))  # every NB101 cell is its own isomorphism class
    model = SyntheticModel(c3, c1, pool, depth, skip, np.zeros(len(idx), dtype=bool), classes, len(idx),
                           key=(seed, 101))
    fixed = {
        "arch_index": idx.astype(np.int32),
        "arch_str": np.asarray([str(c) for c in cells], dtype=object),
        "arch_hash": np.asarray([space.hash(c) for c in cells], dtype=object),
        "trained_as": idx.astype(np.int32),
    }
    return model.columns(seeds, epochs, np.arange(len(idx)), fixed)


def build_synthetic_nb101_table(folder: str | Path, *, archs: int = 300, sample_seed: int = 0, name: str | None = None,
                                seeds: Sequence[int] = (0, 1), epochs: int = 12, seed: int = 0) -> Manifest:
    """Write a synthetic nb101 table of ``archs`` uniformly sampled cells to ``folder``."""
    folder = Path(folder)
    indices = sample_indices(archs, sample_seed)
    writer = TableWriter(folder, latency_devices=LATENCY_DEVICES)
    for s in seeds:
        writer.write_shard(f"seed-{s}", synthetic_nb101_columns([s], epochs, indices, seed))
    return writer.finalize(
        name=name or folder.name,
        space="nb101",
        synthetic=True,
        description="SYNTHETIC fixture data for tests and demos, NOT training results "
        "(nasbench.table.synthetic_nb101: made-up accuracies from each cell's op counts and depth).",
        dataset={"name": "none (synthetic)", "split_seed": None, "checksum": None},
        generator={
            "name": GENERATOR_NAME,
            "version": GENERATOR_VERSION,
            "config": {"seeds": list(map(int, seeds)), "epochs": epochs, "seed": seed, "architectures": archs,
                       "sample_seed": sample_seed},
        },
        shards=[f"seed-{s}" for s in seeds],
    )
