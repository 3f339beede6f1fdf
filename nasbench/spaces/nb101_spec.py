"""NAS-Bench-101 cell specs as pure data: pruning, validity, the module hash and a canonical form.

A spec is an upper-triangular 0/1 adjacency matrix over V vertices (vertex 0 the cell
input, V-1 its output) and one op per vertex. What follows are NAS-Bench-101's
definitions (google-research/nasbench ``model_spec.py``, ``api.py``, ``graph_util.py``),
re-implemented here:

- pruning: vertices not on an input-to-output path are removed; a spec whose input does
  not reach its output is invalid;
- validity: after pruning at most 7 vertices and 9 edges, interior ops from :data:`OPS`;
- the module hash: an MD5 Weisfeiler-Lehman hash of the pruned matrix with labels
  -1 (input), the op's position in :data:`OPS`, -2 (output); equal for isomorphic specs,
  and the key of NAS-Bench-101's data, so rows join with it.

The canonical form (ours) picks one representative per isomorphism class: over every
relabelling of the interior vertices that keeps the matrix upper triangular, the one
with the smallest :func:`spec_key`. It packs into one int64 :func:`spec_code`.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Sequence

import numpy as np

from nasbench.errors import InvalidArchitectureError

INPUT, OUTPUT = "input", "output"
# NAS-Bench-101's config['available_ops'], in its order: the hash labels ops by position here
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
OP_ID: dict[str, int] = {op: i for i, op in enumerate(OPS)}
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_CLASSES = 423_624  # unique specs up to isomorphism (NAS-Bench-101, Ying et al. 2019)

Matrix = tuple[tuple[int, ...], ...]


def edge_bit(src: int, dst: int) -> int:
    """Bit position of edge src -> dst: NAS-Bench-101's column-major upper-triangle order."""
    return src + dst * (dst - 1) // 2


def as_matrix(matrix: object, field: str = "matrix") -> np.ndarray:
    """A square, upper-triangular 0/1 int8 array, or InvalidArchitectureError naming ``field``."""
    try:
        array = np.asarray(matrix)
    except (ValueError, TypeError):
        raise InvalidArchitectureError(f"{field}: not a matrix: {matrix!r}") from None
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] < 2:
        raise InvalidArchitectureError(f"{field}: expected a square matrix of at least 2 vertices, got shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.int8)
    if not np.issubdtype(array.dtype, np.integer) or not np.isin(array, (0, 1)).all():
        raise InvalidArchitectureError(f"{field}: entries must be 0 or 1, got {matrix!r}")
    if np.tril(array).any():
        raise InvalidArchitectureError(f"{field}: must be upper triangular (edges go from lower to higher vertices), got {array.tolist()}")
    return array.astype(np.int8)


def check_ops(ops: object, vertices: int) -> tuple[str, ...]:
    """The op labels as a tuple, or InvalidArchitectureError naming the bad value."""
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise InvalidArchitectureError(f"ops: expected a sequence of {vertices} op names, got {ops!r}")
    ops = tuple(ops)
    if len(ops) != vertices:
        raise InvalidArchitectureError(f"ops: expected {vertices} op names (one per vertex of the matrix), got {len(ops)}: {ops!r}")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise InvalidArchitectureError(f"ops: the first op must be {INPUT!r} and the last {OUTPUT!r}, got {ops!r}")
    for op in ops[1:-1]:
        if op not in OP_ID:
            raise InvalidArchitectureError(f"ops: unknown op {op!r} (known: {', '.join(OPS)})")
    return ops


def prune(matrix: np.ndarray, ops: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Drop vertices not on an input-to-output path (NAS-Bench-101's ModelSpec._prune);
    InvalidArchitectureError when the input does not reach the output."""
    n = len(matrix)
    reach = np.zeros(n, dtype=bool)
    reach[0] = True
    for v in range(1, n):  # upper triangular: one forward sweep is a full search
        reach[v] = bool((matrix[:v, v] & reach[:v]).any())
    back = np.zeros(n, dtype=bool)
    back[n - 1] = True
    for v in range(n - 2, -1, -1):
        back[v] = bool((matrix[v, v + 1 :] & back[v + 1 :]).any())
    keep = reach & back
    if not keep[n - 1]:
        raise InvalidArchitectureError("matrix: the input is not connected to the output (no input-to-output path)")
    if keep.all():
        return matrix, ops
    kept = np.flatnonzero(keep)
    return matrix[np.ix_(kept, kept)], tuple(ops[i] for i in kept)


def check_size(matrix: np.ndarray) -> None:
    """InvalidArchitectureError unless the pruned spec fits NAS-Bench-101 (<= 7 vertices, <= 9 edges)."""
    if len(matrix) > MAX_VERTICES:
        raise InvalidArchitectureError(f"matrix: {len(matrix)} vertices after pruning, at most {MAX_VERTICES} allowed")
    edges = int(matrix.sum())
    if edges > MAX_EDGES:
        raise InvalidArchitectureError(f"matrix: {edges} edges after pruning, at most {MAX_EDGES} allowed")


def labels(ops: Sequence[str]) -> list[int]:
    """NAS-Bench-101's hash labels: -1 input, the op's position in :data:`OPS`, -2 output."""
    return [-1] + [OP_ID[op] for op in ops[1:-1]] + [-2]


def module_hash(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> str:
    """NAS-Bench-101's graph hash of a pruned spec (graph_util.hash_module): MD5 labels of
    (out-degree, in-degree, label), refined V times with the sorted labels of in- and
    out-neighbours, then the MD5 of the sorted final labels."""
    rows = [list(r) for r in matrix]
    n = len(rows)
    ins = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    outs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    md5 = hashlib.md5
    hashes = [
        md5(str((len(outs[v]), len(ins[v]), label)).encode("utf-8")).hexdigest()
        for v, label in enumerate(labels(ops))
    ]
    for _ in range(n):
        hashes = [
            md5(
                ("".join(sorted(hashes[w] for w in ins[v])) + "|"
                 + "".join(sorted(hashes[w] for w in outs[v])) + "|" + hashes[v]).encode("utf-8")
            ).hexdigest()
            for v in range(n)
        ]
    return md5(str(sorted(hashes)).encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=None)
def interior_permutations(n: int) -> np.ndarray:
    """(P, n) every relabelling of a V=n spec that fixes the input and the output vertex."""
    perms = [(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))]
    return np.asarray(perms, dtype=np.int64)


@functools.lru_cache(maxsize=None)
def bit_weights(n: int) -> np.ndarray:
    """(n, n) int64: 2**edge_bit(i, j) above the diagonal, 0 elsewhere."""
    w = np.zeros((n, n), dtype=np.int64)
    for j in range(n):
        for i in range(j):
            w[i, j] = 1 << edge_bit(i, j)
    return w


def spec_key(matrix_bits: int | np.ndarray, op_ids: np.ndarray, n: int) -> np.ndarray:
    """Order of specs of one size: edge bits first, then the interior ops in base 3, vertex 1 most significant."""
    interior = n - 2
    key = np.asarray(matrix_bits, dtype=np.int64) * 3**interior
    for i in range(interior):
        key = key + op_ids[..., i].astype(np.int64) * 3 ** (interior - 1 - i)
    return key


def canonical(matrix: np.ndarray, ops: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """The class representative of a pruned spec: the topological relabelling of smallest key."""
    n = len(matrix)
    if n <= 3:
        return matrix, ops
    perms = interior_permutations(n)
    permuted = matrix[perms[:, :, None], perms[:, None, :]]  # [p, i, j] = matrix[perm[i], perm[j]]
    upper = ~np.tril(permuted.astype(bool)).any(axis=(1, 2))
    ids = np.asarray([OP_ID[op] for op in ops[1:-1]], dtype=np.int64)
    bits = (permuted.astype(np.int64) * bit_weights(n)).sum(axis=(1, 2))
    keys = spec_key(bits, ids[perms[:, 1:-1] - 1], n)
    best = perms[np.flatnonzero(upper)[np.argmin(keys[upper])]]
    return matrix[np.ix_(best, best)], tuple(ops[i] for i in best)


# An int64 code: vertex count (3 bits) | edge bits (21) | interior op ids, 2 bits each (10).
_OP_BITS, _EDGE_BITS = 2, 21


def spec_code(matrix: np.ndarray, ops: Sequence[str]) -> int:
    """Pack a (canonical) spec into one integer (see :func:`decode`)."""
    n = len(matrix)
    bits = int((matrix.astype(np.int64) * bit_weights(n)).sum())
    code = (n << _EDGE_BITS) | bits
    for op in ops[1:-1]:
        code = (code << _OP_BITS) | OP_ID[op]
    return code << (_OP_BITS * (MAX_VERTICES - n))


def decode(code: int) -> tuple[Matrix, tuple[str, ...]]:
    """(matrix, ops) from :func:`spec_code`."""
    code = int(code)
    op_field = code & ((1 << (_OP_BITS * (MAX_VERTICES - 2))) - 1)
    head = code >> (_OP_BITS * (MAX_VERTICES - 2))
    n, bits = head >> _EDGE_BITS, head & ((1 << _EDGE_BITS) - 1)
    if not 2 <= n <= MAX_VERTICES:
        raise InvalidArchitectureError(f"code: {code} is not an NB101 spec code")
    ids = [(op_field >> (_OP_BITS * (MAX_VERTICES - 3 - i))) & 3 for i in range(n - 2)]
    if any(i >= len(OPS) for i in ids):
        raise InvalidArchitectureError(f"code: {code} is not an NB101 spec code")
    matrix = tuple(
        tuple(1 if i < j and bits >> edge_bit(i, j) & 1 else 0 for j in range(n)) for i in range(n)
    )
    return matrix, (INPUT, *(OPS[i] for i in ids), OUTPUT)
