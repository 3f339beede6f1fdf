"""Enumerate NAS-Bench-101's 423,624 unique cells once, and load the shipped list.

The enumeration follows NAS-Bench-101's generate_graph.py in what it counts: for 2..7
vertices, every upper-triangular matrix with at most 9 edges whose vertices all lie on
an input-to-output path ("full DAG"), with every labelling of the interior vertices by
the 3 ops, deduplicated up to isomorphism. Hand-written and vectorised with numpy
(networkx's isomorphism tests would take hours for 1.3 million labelled graphs): each
(matrix, labelling) is mapped to its canonical key (the smallest over all relabellings
of the interior vertices that keep the matrix upper triangular, as
:func:`nasbench.spaces.nb101_spec.canonical`), and the distinct keys are the classes.

The check against NAS-Bench-101 itself: the module hashes of the classes are all
distinct and there are exactly 423,624 of them. The list ships as the sorted spec codes
(``nb101_codes.npy``); a cell's index is its position there.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nasbench.atomic import atomic_path
from nasbench.errors import NasbenchError
from nasbench.spaces.nb101_spec import (
    MAX_EDGES,
    MAX_VERTICES,
    NUM_CLASSES,
    OPS,
    bit_weights,
    decode,
    edge_bit,
    interior_permutations,
    module_hash,
    spec_code,
)

SHIPPED = Path(__file__).with_name("nb101_codes.npy")
_OPS_PER_VERTEX = len(OPS)


def full_dags(n: int) -> np.ndarray:
    """(K, n, n) int8: every V=n upper-triangular matrix with <= 9 edges and no dangling vertex."""
    slots = n * (n - 1) // 2
    bits = np.arange(1 << slots, dtype=np.int64)
    count = np.zeros_like(bits)
    for i in range(slots):
        count += (bits >> i) & 1
    bits = bits[count <= MAX_EDGES]
    matrices = np.zeros((len(bits), n, n), dtype=np.int8)
    for j in range(n):
        for i in range(j):
            matrices[:, i, j] = (bits >> edge_bit(i, j)) & 1
    rows_ok = matrices[:, : n - 1, :].any(axis=2).all(axis=1)  # every vertex but the output has an out-edge
    cols_ok = matrices[:, :, 1:].any(axis=1).all(axis=1)  # every vertex but the input has an in-edge
    return matrices[rows_ok & cols_ok]


def canonical_keys(matrices: np.ndarray, chunk: int = 256) -> np.ndarray:
    """(K * 3**(n-2),) canonical key of every labelling of every matrix (matrix-major)."""
    n = matrices.shape[1]
    interior = n - 2
    labellings = np.asarray(list(itertools.product(range(_OPS_PER_VERTEX), repeat=interior)), dtype=np.int64)
    labellings = labellings.reshape(len(labellings), interior)
    perms = interior_permutations(n)
    # label code after relabelling: new vertex i (1..n-2) carries the op of old vertex perm[i]
    place = 3 ** np.arange(interior - 1, -1, -1, dtype=np.int64)
    label_codes = (labellings[:, perms[:, 1:-1] - 1] * place).sum(axis=2).T  # (P, L)
    weights = bit_weights(n)
    out = []
    for start in range(0, len(matrices), chunk):
        m = matrices[start : start + chunk]
        permuted = m[:, perms[:, :, None], perms[:, None, :]]  # (k, P, n, n)
        upper = ~np.tril(permuted.astype(bool)).any(axis=(2, 3))  # (k, P)
        bits = (permuted.astype(np.int64) * weights).sum(axis=(2, 3))  # (k, P)
        keys = bits[:, :, None] * 3**interior + label_codes[None, :, :]  # (k, P, L)
        keys = np.where(upper[:, :, None], keys, np.iinfo(np.int64).max)
        out.append(keys.min(axis=1).reshape(-1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def key_to_code(key: int, n: int) -> int:
    """Spec code of the canonical spec with this key (see :func:`canonical_keys`)."""
    interior = n - 2
    bits, label = divmod(int(key), 3**interior)
    ops = ["input"]
    digits = []
    for _ in range(interior):
        label, d = divmod(label, 3)
        digits.append(OPS[d])
    ops.extend(reversed(digits))
    ops.append("output")
    matrix = np.zeros((n, n), dtype=np.int8)
    for j in range(n):
        for i in range(j):
            matrix[i, j] = bits >> edge_bit(i, j) & 1
    return spec_code(matrix, ops)


def enumerate_codes(work: Path | None = None, progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Sorted spec codes of every unique cell; with ``work``, each vertex count's codes are
    saved there as they finish and reused on a rerun (resumable)."""
    say = progress or (lambda _msg: None)
    parts = []
    for n in range(2, MAX_VERTICES + 1):
        shard = work / f"codes-v{n}.npy" if work is not None else None
        if shard is not None and shard.exists():
            codes = np.load(shard, allow_pickle=False)
            say(f"{n} vertices: {len(codes):,} classes (resumed from {shard.name})")
        else:
            keys = np.unique(canonical_keys(full_dags(n)))
            codes = np.asarray([key_to_code(k, n) for k in keys], dtype=np.int64)
            if shard is not None:
                save_codes(shard, codes)
            say(f"{n} vertices: {len(codes):,} classes")
        parts.append(codes)
    return np.sort(np.concatenate(parts))


def hash_all(codes: np.ndarray, progress: Callable[[int], None] | None = None) -> list[str]:
    """NAS-Bench-101 module hash of every code, in order."""
    out = []
    for i, code in enumerate(codes):
        out.append(module_hash(*decode(int(code))))
        if progress is not None and i % 10_000 == 9_999:
            progress(10_000)
    return out


def check_against_nasbench101(codes: np.ndarray, hashes: list[str]) -> None:
    """NasbenchError unless there are 423,624 classes with 423,624 distinct module hashes."""
    if len(codes) != NUM_CLASSES:
        raise NasbenchError(f"enumeration found {len(codes):,} classes, NAS-Bench-101 has {NUM_CLASSES:,}")
    if len(set(hashes)) != len(hashes):
        raise NasbenchError(f"{len(hashes) - len(set(hashes))} module hashes are shared by two classes")


def save_codes(path: Path, codes: np.ndarray) -> None:
    """Write codes as a .npy file atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.ascontiguousarray(codes, dtype="<i8"), allow_pickle=False)


@functools.lru_cache(maxsize=1)
def shipped_codes() -> np.ndarray:
    """The sorted spec codes of all 423,624 classes (read-only), from the shipped file."""
    if not SHIPPED.exists():
        raise NasbenchError(f"{SHIPPED} is missing: run `nasbench spaces enumerate nb101` to write it")
    codes = np.load(SHIPPED, allow_pickle=False)
    codes.flags.writeable = False
    return codes


def manifest(codes: np.ndarray) -> str:
    """A one-line JSON summary (count and the number of classes per vertex count)."""
    heads = codes >> (2 * (MAX_VERTICES - 2) + 21)
    per = {int(n): int((heads == n).sum()) for n in range(2, MAX_VERTICES + 1)}
    return json.dumps({"classes": len(codes), "per_vertex_count": per, "max_edges": MAX_EDGES})


__all__ = [
    "SHIPPED",
    "canonical_keys",
    "check_against_nasbench101",
    "enumerate_codes",
    "full_dags",
    "hash_all",
    "manifest",
    "save_codes",
    "shipped_codes",
]
