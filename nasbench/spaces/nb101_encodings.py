"""Fixed-length encodings of NAS-Bench-101 cells for learned predictors.

Every encoding reads the cell padded to 7 vertices (isolated vertices inserted before
the output, as :func:`nasbench.spaces.nb101.padded`), the layout NAS-Bench-101's own
7-vertex specs and the predictor literature use.

- ``adjacency``: the 21 upper-triangle entries of the padded matrix (NAS-Bench-101's
  edge-bit order), then each of the 5 interior vertices' op one-hot (5 x 3; a padding
  vertex is all zeros): 36 features, White et al.'s "adjacency one-hot".
- ``onehot``: the same 36 features (this space's one-hot encoding IS its adjacency one;
  the name is kept so that every predictor's default encoding works on every space).
- ``path``: BANANAS' path encoding (White et al. 2021): one feature per op sequence along
  an input-to-output path, 3^0 + 3^1 + ... + 3^5 = 364 features, shorter paths first
  (within one length, in base 3 with the first op most significant).
- ``path40``: the path encoding truncated to its first 40 features (every path of at most
  3 ops), BANANAS' truncation: long paths are rare, and the first features carry almost
  all of the information (natural cut-offs are 1, 4, 13, 40, 121, 364).
- ``graph``: for graph networks (GIN): the padded 7 x 7 adjacency, row-major, then each
  vertex's type one-hot over (input, the 3 ops, output), padding vertices all zeros:
  49 + 35 = 84 features.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nasbench.errors import UnknownNameError
from nasbench.spaces.nb101_spec import MAX_VERTICES, OP_ID, OPS, edge_bit

if TYPE_CHECKING:
    from nasbench.spaces.nb101 import NB101Cell

_V = MAX_VERTICES
_UPPER = [(i, j) for j in range(_V) for i in range(j)]  # NB101's edge-bit order
_PATH_LENGTH = _V - 2
_PATH_OFFSETS = np.cumsum([0] + [len(OPS) ** k for k in range(_PATH_LENGTH + 1)])  # 0, 1, 4, 13, 40, 121, 364
GRAPH_TYPES = ("input", *OPS, "output")
_OP_FIELD, _EDGE_FIELD = 2 * (MAX_VERTICES - 2), 21  # layout of nasbench.spaces.nb101_spec.spec_code


def _padded_arrays(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 7, 7) padded adjacency and (N, 7) op ids (-1 where a vertex has no op: input,
    padding, output), decoded from spec codes with array operations (423,624 in ~1 s)."""
    codes = np.asarray(codes, dtype=np.int64)
    n_vertices = codes >> (_OP_FIELD + _EDGE_FIELD)
    bits = (codes >> _OP_FIELD) & ((1 << _EDGE_FIELD) - 1)
    adj = np.zeros((len(codes), _V, _V), dtype=np.float32)
    ops = np.full((len(codes), _V), -1, dtype=np.int64)
    for n in range(2, _V + 1):
        rows = np.flatnonzero(n_vertices == n)
        if len(rows) == 0:
            continue
        place = list(range(n - 1)) + [_V - 1]  # vertex v of an n-vertex spec -> padded position
        for j in range(n):
            for i in range(j):
                adj[rows, place[i], place[j]] = (bits[rows] >> edge_bit(i, j)) & 1
        for v in range(1, n - 1):
            ops[rows, v] = (codes[rows] >> (2 * (_V - 2 - v))) & 3
    return adj, ops


def _adjacency(codes: np.ndarray) -> np.ndarray:
    adj, ops = _padded_arrays(codes)
    rows, cols = zip(*_UPPER)
    onehot = np.zeros((len(codes), _V - 2, len(OPS)), dtype=np.float32)
    interior = ops[:, 1:-1]
    r, v = np.nonzero(interior >= 0)
    onehot[r, v, interior[r, v]] = 1.0
    return np.concatenate([adj[:, rows, cols], onehot.reshape(len(codes), -1)], axis=1)


def path_indices(cell: NB101Cell) -> list[int]:
    """Feature index of every input-to-output path of a cell (BANANAS' numbering)."""
    n = len(cell.matrix)
    paths: list[list[tuple[int, ...]]] = [[] for _ in range(n)]
    paths[0] = [()]
    for v in range(1, n):
        label = () if v == n - 1 else (OP_ID[cell.ops[v]],)
        paths[v] = [p + label for u in range(v) if cell.matrix[u][v] for p in paths[u]]
    out = []
    for path in paths[-1]:
        code = 0
        for op in path:
            code = code * len(OPS) + op
        out.append(int(_PATH_OFFSETS[len(path)]) + code)
    return out


def _path(codes: np.ndarray, width: int = int(_PATH_OFFSETS[-1])) -> np.ndarray:
    from nasbench.spaces.nb101 import NB101Cell

    out = np.zeros((len(codes), width), dtype=np.float32)
    for row, code in enumerate(codes):
        hits = [i for i in _cached_paths(NB101Cell.from_code(int(code))) if i < width]
        out[row, hits] = 1.0
    return out


@functools.lru_cache(maxsize=1 << 16)
def _cached_paths(cell: NB101Cell) -> tuple[int, ...]:
    return tuple(path_indices(cell))


def _graph(codes: np.ndarray) -> np.ndarray:
    adj, ops = _padded_arrays(codes)
    types = np.zeros((len(codes), _V, len(GRAPH_TYPES)), dtype=np.float32)
    types[:, 0, 0] = 1.0
    types[:, -1, -1] = 1.0
    r, v = np.nonzero(ops[:, 1:-1] >= 0)
    types[r, v + 1, 1 + ops[r, v + 1]] = 1.0
    return np.concatenate([adj.reshape(len(codes), -1), types.reshape(len(codes), -1)], axis=1)


_BUILDERS = {
    "onehot": _adjacency,
    "adjacency": _adjacency,
    "path": _path,
    "path40": lambda cells: _path(cells, int(_PATH_OFFSETS[4])),
    "graph": _graph,
}


def encode(codes: Sequence[int] | np.ndarray, kind: str) -> np.ndarray:
    """Encodings of the cells with these spec codes (rows in the same order)."""
    if kind not in _BUILDERS:
        raise UnknownNameError(f"unknown encoding {kind!r} (known: {', '.join(_BUILDERS)})")
    return _BUILDERS[kind](np.asarray(codes, dtype=np.int64))
