"""Fixed-length encodings of NAS-Bench-201 cells for learned predictors.

- ``onehot``: the op on each of the 6 edges, one-hot (6 x 5 = 30 features).
- ``adjacency``: the cell as an op-labelled DAG in the style of NAS-Bench-101: 8 vertices
  (input, one per edge in string order, output); the upper triangle of its adjacency
  matrix with every wire through a ``none`` vertex removed (28), then the ops one-hot (30).
- ``path``: BANANAS' path encoding (White et al. 2021): one feature per op sequence along
  an input-to-output path (0-3, 0-1-3, 0-2-3, 0-1-2-3). Paths through ``none`` carry
  nothing and are left out, so there are 4 + 4^2 + 4^3 = 84 features.
- ``graph``: the same 8-vertex DAG for graph networks (GIN): its full 8 x 8 adjacency
  matrix, row-major (``[i, j] = 1`` for a wire i -> j, wires through ``none`` removed),
  then each vertex's type one-hot over :data:`GRAPH_TYPES` (input, the 5 ops, output):
  64 + 8 x 7 = 120 features. :func:`graph_shape` gives (vertices, types).

Every encoding is computed once for the whole space and looked up by index.
"""

from __future__ import annotations

import functools

import numpy as np

from nasbench.errors import UnknownNameError
from nasbench.spaces.nb201 import EDGES, NUM_EDGES, OPS, op_ids_by_index

_NONE = OPS.index("none")
_PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))  # edge positions along each input->output path
_REAL_OPS = len(OPS) - 1  # ops a path can carry (all but none)
GRAPH_TYPES = ("input", *OPS, "output")  # vertex types of the ``graph`` encoding
GRAPH_VERTICES = NUM_EDGES + 2


def _onehot(ids: np.ndarray) -> np.ndarray:
    out = np.zeros((len(ids), NUM_EDGES * len(OPS)), dtype=np.float32)
    rows = np.arange(len(ids))[:, None]
    out[rows, np.arange(NUM_EDGES) * len(OPS) + ids] = 1.0
    return out


def _wire_matrix(ids: np.ndarray) -> np.ndarray:
    """(n, 8, 8) adjacency of the op-labelled DAG: input 0, edge vertices 1..6, output 7."""
    size = GRAPH_VERTICES
    wires = []
    for e, (src, dst) in enumerate(EDGES):
        if src == 0:
            wires.append((0, e + 1))
        if dst == 3:
            wires.append((e + 1, size - 1))
        for f, (src2, _) in enumerate(EDGES):
            if src2 == dst:
                wires.append((e + 1, f + 1))
    alive = ids != _NONE  # (n, 6)
    adj = np.zeros((len(ids), size, size), dtype=np.float32)
    for a, b in wires:
        ok = np.ones(len(ids), dtype=bool)
        if 1 <= a <= NUM_EDGES:
            ok &= alive[:, a - 1]
        if 1 <= b <= NUM_EDGES:
            ok &= alive[:, b - 1]
        adj[:, a, b] = ok
    return adj


def _adjacency(ids: np.ndarray) -> np.ndarray:
    upper = np.triu_indices(GRAPH_VERTICES, k=1)
    return np.concatenate([_wire_matrix(ids)[:, upper[0], upper[1]], _onehot(ids)], axis=1)


def _graph(ids: np.ndarray) -> np.ndarray:
    types = np.zeros((len(ids), GRAPH_VERTICES, len(GRAPH_TYPES)), dtype=np.float32)
    types[:, 0, 0] = 1.0
    types[:, -1, -1] = 1.0
    rows = np.arange(len(ids))[:, None]
    types[rows, np.arange(1, NUM_EDGES + 1), 1 + ids] = 1.0
    return np.concatenate([_wire_matrix(ids).reshape(len(ids), -1), types.reshape(len(ids), -1)], axis=1)


def graph_shape() -> tuple[int, int]:
    """(vertices, vertex types) of the ``graph`` encoding."""
    return GRAPH_VERTICES, len(GRAPH_TYPES)


def _path(ids: np.ndarray) -> np.ndarray:
    offsets = np.cumsum([0] + [_REAL_OPS**k for k in range(1, 4)])  # 0, 4, 20, 84
    out = np.zeros((len(ids), offsets[-1]), dtype=np.float32)
    real = ids.astype(np.int64) - 1  # none -> -1
    for path in _PATHS:
        length = len(path)
        valid = np.all(real[:, path] >= 0, axis=1)
        code = np.zeros(len(ids), dtype=np.int64)
        for edge in path:
            code = code * _REAL_OPS + np.maximum(real[:, edge], 0)
        rows = np.flatnonzero(valid)
        out[rows, offsets[length - 1] + code[rows]] = 1.0
    return out


_BUILDERS = {"onehot": _onehot, "adjacency": _adjacency, "path": _path, "graph": _graph}


@functools.lru_cache(maxsize=None)
def _all(kind: str) -> np.ndarray:
    table = _BUILDERS[kind](op_ids_by_index().astype(np.int64))
    table.flags.writeable = False
    return table


def encode(indices: np.ndarray, kind: str) -> np.ndarray:
    """Encodings of the cells at ``indices`` (rows in the same order)."""
    if kind not in _BUILDERS:
        raise UnknownNameError(f"unknown encoding {kind!r} (known: {', '.join(_BUILDERS)})")
    return _all(kind)[np.asarray(indices, dtype=np.int64)]
