"""SYNTHETIC nb201 tables for tests and demos, written through the real TableWriter.

These numbers are NOT training results. Each isomorphism class gets a made-up "quality"
from its pruned computation graph (3x3 convs help most, 1x1 convs and pooling less, a
longer conv path helps a little, an all-zero cell is at chance) plus a seeded random
effect; every training seed adds noise; curves rise towards the final accuracy. The
manifest says ``"synthetic": true`` and the table name starts with ``synthetic-``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasbench.errors import OutOfDomainError
from nasbench.spaces.nb201 import NUM_CELLS, all_cells
from nasbench.spaces.nb201_canonical import all_hashes, computation
from nasbench.table.manifest import Manifest
from nasbench.table.writer import TableWriter

GENERATOR_NAME = "nasbench.table.synthetic"
GENERATOR_VERSION = "1"
LATENCY_DEVICES = ("synthetic-cpu-b1", "synthetic-cpu-b64")


def _features(ops: tuple[str, ...]) -> tuple[int, int, int, int, bool]:
    """(3x3 convs, 1x1 convs, pools, longest op path, input wired to output) of a cell."""
    vertices, output = computation(ops)
    counts = {op: sum(1 for o, _ in vertices if o == op) for op in ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")}
    depth: list[int] = []
    for _, inputs in vertices:
        depth.append(1 + max((depth[ref] for ref, _ in inputs if ref >= 0), default=0))
    longest = max((depth[ref] for ref, _ in output if ref >= 0), default=0)
    return counts["nor_conv_3x3"], counts["nor_conv_1x1"], counts["avg_pool_3x3"], longest, any(r < 0 for r, _ in output)


def synthetic_columns(
    seeds: Sequence[int], epochs: int, indices: Sequence[int] | None = None, seed: int = 0
) -> dict[str, np.ndarray]:
    """Column arrays of a synthetic table, rows ordered by seed then index."""
    cells = all_cells()
    hashes = np.asarray(all_hashes(), dtype=object)
    idx = np.arange(NUM_CELLS) if indices is None else np.unique(np.asarray(indices, dtype=np.int64))
    if len(idx) == 0 or idx[0] < 0 or idx[-1] >= NUM_CELLS:
        raise OutOfDomainError(f"indices: must be non-empty and within 0..{NUM_CELLS - 1} for nb201")
    classes, class_of = np.unique(hashes, return_inverse=True)  # sorted: deterministic order
    feats = np.array([_features(c.ops) for c in cells], dtype=np.float64)
    c3, c1, pool, depth, skip = feats.T
    zero = (c3 + c1 + pool == 0) & (skip == 0)
    # The member of each class actually "trained": its smallest index.
    rep = np.full(len(classes), NUM_CELLS, dtype=np.int64)
    np.minimum.at(rep, class_of, np.arange(NUM_CELLS))
    model = SyntheticModel(c3, c1, pool, depth, skip, zero, class_of, len(classes), key=(seed, 201))
    fixed = {
        "arch_index": idx.astype(np.int32),
        "arch_str": np.asarray([str(cells[i]) for i in idx], dtype=object),
        "arch_hash": hashes[idx],
        "trained_as": rep[class_of][idx].astype(np.int32),
    }
    return model.columns(seeds, epochs, idx, fixed)


@dataclass(frozen=True)
class SyntheticModel:
    """Made-up results from per-row features (one entry per row of the whole space or sample):
    a class quality from the features plus a seeded class effect; seeds add class noise."""

    c3: np.ndarray
    c1: np.ndarray
    pool: np.ndarray
    depth: np.ndarray
    skip: np.ndarray
    zero: np.ndarray  # rows whose output is all zero (at chance)
    class_of: np.ndarray  # isomorphism class of each row (rows of a class share their results)
    classes: int
    key: tuple[int, ...]  # seeds the class effects and noise

    def columns(self, seeds: Sequence[int], epochs: int, idx: np.ndarray, fixed: dict[str, np.ndarray]
                ) -> dict[str, np.ndarray]:
        """Columns of rows ``idx`` (positions into the feature arrays), rows ordered by seed then idx."""
        n = len(self.c3)
        rng = np.random.default_rng(np.random.SeedSequence(list(self.key)))
        class_effect = rng.normal(0.0, 0.35, size=self.classes)
        c3, c1, pool, depth, skip = self.c3, self.c1, self.pool, self.depth, self.skip
        logit = -1.2 + 0.9 * c3 + 0.45 * c1 + 0.15 * pool + 0.25 * depth + 0.3 * skip + class_effect[self.class_of]
        quality = np.where(self.zero, 0.0, 1.0 / (1.0 + np.exp(-logit)))
        final = 10.0 + 85.0 * quality  # percent; chance is 10 %
        params = (300 + 2304 * c3 + 256 * c1).astype(np.int64) * 3 + 1000
        seconds_per_epoch = 0.4 + 0.25 * c3 + 0.08 * c1 + 0.03 * pool
        lat_b1 = 0.2 + 0.11 * c3 + 0.04 * c1 + 0.02 * pool + 0.01 * depth
        lat_b64 = 1.5 + 2.9 * c3 + 0.8 * c1 + 0.35 * pool
        jitter = rng.lognormal(0.0, 0.03, size=(2, n))

        t = np.arange(1, epochs + 1) / epochs
        shape = (1.0 - np.exp(-3.5 * t)) / (1.0 - np.exp(-3.5))
        columns: dict[str, list[np.ndarray]] = {}
        for s in seeds:
            noise_rng = np.random.default_rng(np.random.SeedSequence([*self.key, int(s)]))
            seed_noise = noise_rng.normal(0.0, 0.6, size=self.classes)[self.class_of]  # same for a class
            curve_noise = noise_rng.normal(0.0, 0.4, size=(self.classes, epochs))[self.class_of]
            base = final[:, None] + seed_noise[:, None]
            valid = 10.0 + (base - 10.0) * shape + curve_noise
            test = valid + noise_rng.normal(0.0, 0.3, size=(self.classes, 1))[self.class_of]
            train = np.minimum(valid + 3.0 * quality[:, None] * t, 100.0)
            rows = {
                "valid_acc": valid,
                "test_acc": test,
                "train_acc": train,
                "valid_loss": -np.log(np.clip(valid, 1.0, 99.9) / 100.0),
                "test_loss": -np.log(np.clip(test, 1.0, 99.9) / 100.0),
                "train_loss": -np.log(np.clip(train, 1.0, 99.9) / 100.0),
                "epoch_seconds": np.repeat(seconds_per_epoch[:, None], epochs, axis=1)
                * noise_rng.lognormal(0.0, 0.02, size=(n, epochs)),
            }
            for name, value in rows.items():
                clipped = np.clip(value, 0.0, 100.0) if name.endswith("_acc") else value
                columns.setdefault(name, []).append(np.round(clipped[idx], 3).astype(np.float32))
            columns.setdefault("seed", []).append(np.full(len(idx), s, dtype=np.int32))
            for name, value in {
                **fixed,
                "params": params[idx],
                "flops": params[idx] * 64,
                "train_device": np.full(len(idx), "synthetic", dtype=object),
                f"latency_{LATENCY_DEVICES[0]}_ms": (lat_b1 * jitter[0])[idx].astype(np.float32),
                f"latency_{LATENCY_DEVICES[0]}_spread_ms": (0.05 * lat_b1)[idx].astype(np.float32),
                f"latency_{LATENCY_DEVICES[1]}_ms": (lat_b64 * jitter[1])[idx].astype(np.float32),
                f"latency_{LATENCY_DEVICES[1]}_spread_ms": (0.05 * lat_b64)[idx].astype(np.float32),
            }.items():
                columns.setdefault(name, []).append(value)
        return {name: np.concatenate(parts) for name, parts in columns.items()}


def build_synthetic_table(
    folder: str | Path,
    *,
    name: str | None = None,
    seeds: Sequence[int] = (0, 1),
    epochs: int = 20,
    indices: Sequence[int] | None = None,
    seed: int = 0,
) -> Manifest:
    """Write a synthetic nb201 table to ``folder`` (one shard per training seed)."""
    folder = Path(folder)
    name = name or folder.name
    writer = TableWriter(folder, latency_devices=LATENCY_DEVICES)
    for s in seeds:
        columns = synthetic_columns([s], epochs, indices, seed)
        writer.write_shard(f"seed-{s}", columns)
    return writer.finalize(
        name=name,
        space="nb201",
        synthetic=True,
        description="SYNTHETIC fixture data for tests and demos, NOT training results "
        "(nasbench.table.synthetic: made-up accuracies from each cell's pruned graph).",
        dataset={"name": "none (synthetic)", "split_seed": None, "checksum": None},
        generator={
            "name": GENERATOR_NAME,
            "version": GENERATOR_VERSION,
            "config": {"seeds": list(map(int, seeds)), "epochs": epochs, "seed": seed,
                       "architectures": "all" if indices is None else len(np.unique(indices))},
        },
        shards=[f"seed-{s}" for s in seeds],
    )
