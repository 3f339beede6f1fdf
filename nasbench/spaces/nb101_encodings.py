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

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nasbench.errors import UnknownNameError
from nasbench.spaces.nb101_spec import MAX_VERTICES, OP_ID, OPS

if TYPE_CHECKING:
    from nasbench.spaces.nb101 import NB101Cell

_V = MAX_VERTICES
_UPPER = [(i, j) for j in range(_V) for i in range(j)]  # NB101's edge-bit order
_PATH_LENGTH = _V - 2
_PATH_OFFSETS = np.cumsum([0] + [len(OPS) ** k for k in range(_PATH_LENGTH + 1)])  # 0, 1, 4, 13, 40, 121, 364
GRAPH_TYPES = ("input", *OPS, "output")


def _padded_arrays(cells: Sequence[NB101Cell]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 7, 7) padded adjacency and (N, 7) op ids (-1 where a vertex has no op: input, padding, output)."""
    adj = np.zeros((len(cells), _V, _V), dtype=np.float32)
    ops = np.full((len(cells), _V), -1, dtype=np.int64)  # -1: no op (input or padding)
    for row, cell in enumerate(cells):
        n = len(cell.matrix)
        where = list(range(n - 1)) + [_V - 1]
        adj[row][np.ix_(where, where)] = cell.matrix
        ops[row, 1 : n - 1] = [OP_ID[op] for op in cell.ops[1:-1]]
    return adj, ops


def _adjacency(cells: Sequence[NB101Cell]) -> np.ndarray:
    adj, ops = _padded_arrays(cells)
    rows, cols = zip(*_UPPER)
    onehot = np.zeros((len(cells), _V - 2, len(OPS)), dtype=np.float32)
    interior = ops[:, 1:-1]
    r, v = np.nonzero(interior >= 0)
    onehot[r, v, interior[r, v]] = 1.0
    return np.concatenate([adj[:, rows, cols], onehot.reshape(len(cells), -1)], axis=1)


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


def _path(cells: Sequence[NB101Cell], width: int = int(_PATH_OFFSETS[-1])) -> np.ndarray:
    out = np.zeros((len(cells), width), dtype=np.float32)
    for row, cell in enumerate(cells):
        hits = [i for i in path_indices(cell) if i < width]
        out[row, hits] = 1.0
    return out


def _graph(cells: Sequence[NB101Cell]) -> np.ndarray:
    adj, ops = _padded_arrays(cells)
    types = np.zeros((len(cells), _V, len(GRAPH_TYPES)), dtype=np.float32)
    types[:, 0, 0] = 1.0
    types[:, -1, -1] = 1.0
    r, v = np.nonzero(ops[:, 1:-1] >= 0)
    types[r, v + 1, 1 + ops[r, v + 1]] = 1.0
    return np.concatenate([adj.reshape(len(cells), -1), types.reshape(len(cells), -1)], axis=1)


_BUILDERS = {
    "onehot": _adjacency,
    "adjacency": _adjacency,
    "path": _path,
    "path40": lambda cells: _path(cells, int(_PATH_OFFSETS[4])),
    "graph": _graph,
}


def encode(cells: Sequence[NB101Cell], kind: str) -> np.ndarray:
    """Encodings of ``cells`` (rows in the same order)."""
    if kind not in _BUILDERS:
        raise UnknownNameError(f"unknown encoding {kind!r} (known: {', '.join(_BUILDERS)})")
    return _BUILDERS[kind](cells)
