"""The NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 ops, 15,625 cells.

Strings use NAS-Bench-201's format, ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: node j
(1..3) sums op(node i) over i < j. Indices are NAS-Bench-201's (also NATS-Bench's
topology space and HW-NAS-Bench's), so rows join with their published data: that
benchmark enumerates the cells with node 1's op as the most significant digit (ops in
the order of ``OPS``) and then shuffles the list with Python's ``random.seed(88)``.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nasbench.errors import InvalidArchitectureError
from nasbench.spaces.base import SearchSpace, is_integer

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
OP_ID: dict[str, int] = {op: i for i, op in enumerate(OPS)}
# Edges in string order: (source node, target node).
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_NODES = 4
NUM_EDGES = len(EDGES)
NUM_CELLS = len(OPS) ** NUM_EDGES  # 15,625
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class NB201Cell:
    """A NAS-Bench-201 cell: the op on each of the 6 edges, in string order."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.ops, tuple):
            raise InvalidArchitectureError(f"ops: expected a tuple of {NUM_EDGES} op names, got {self.ops!r}")
        if len(self.ops) != NUM_EDGES:
            raise InvalidArchitectureError(
                f"ops: expected {NUM_EDGES} op names (NAS-Bench-201 edge order), got {len(self.ops)}: {self.ops!r}"
            )
        for op in self.ops:
            if op not in OP_ID:
                raise InvalidArchitectureError(
                    f"ops: unknown op {op!r} (known: {', '.join(OPS)})"
                )

    @classmethod
    def _trusted(cls, ops: tuple[str, ...]) -> NB201Cell:
        """A cell from ops already known to be valid (skips the checks: 15,625 cells in ~10 ms)."""
        cell = object.__new__(cls)
        object.__setattr__(cell, "ops", ops)
        return cell

    @classmethod
    def from_string(cls, text: str) -> NB201Cell:
        """Parse a NAS-Bench-201 string, rejecting anything malformed with a clear message."""
        return cls(_parse_ops(text))

    def __str__(self) -> str:
        o = self.ops
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    @property
    def code(self) -> int:
        """Position in NAS-Bench-201's enumeration before its shuffle (base-5, edge 0 first)."""
        code = 0
        for op in self.ops:
            code = code * len(OPS) + OP_ID[op]
        return code

    @property
    def index(self) -> int:
        """NAS-Bench-201 / NATS-Bench / HW-NAS-Bench index."""
        return _index_by_code()[self.code]


def _parse_ops(text: str) -> tuple[str, ...]:
    if not isinstance(text, str):
        raise InvalidArchitectureError(f"architecture string: expected str, got {type(text).__name__}")
    try:
        return _split_ops(text)
    except InvalidArchitectureError:  # whitespace inside is the real problem, not what it broke
        inside = _WHITESPACE.search(text.strip())
        if inside is not None:
            position = len(text) - len(text.lstrip()) + inside.start()
            raise InvalidArchitectureError(
                f"NB201 architecture string {text!r} contains whitespace at position {position} "
                f"(counting from 0): NB201 strings have no spaces"
            ) from None
        raise


def _split_ops(text: str) -> tuple[str, ...]:
    where = f"in NB201 architecture string {text!r}"
    nodes = text.strip().split("+")
    if len(nodes) != NUM_NODES - 1:
        raise InvalidArchitectureError(
            f"{where}: expected {NUM_NODES - 1} nodes joined by '+', got {len(nodes)}"
        )
    ops: list[str] = []
    for target, node in enumerate(nodes, start=1):
        if len(node) < 2 or not (node.startswith("|") and node.endswith("|")):
            raise InvalidArchitectureError(f"{where}: node {target} {node!r} must be wrapped in '|'")
        tokens = node[1:-1].split("|")
        if len(tokens) != target:
            raise InvalidArchitectureError(
                f"{where}: node {target} needs {target} inputs, got {len(tokens)} ({node!r})"
            )
        for source, token in enumerate(tokens):
            op, sep, src = token.partition("~")
            if not sep:
                raise InvalidArchitectureError(f"{where}: edge {token!r} must look like 'op~{source}'")
            if op not in OP_ID:
                raise InvalidArchitectureError(
                    f"{where}: unknown op {op!r} (known: {', '.join(OPS)})"
                )
            if src != str(source):
                raise InvalidArchitectureError(
                    f"{where}: node {target}'s input #{source} must come from node {source}, got {src!r}"
                )
            ops.append(op)
    return tuple(ops)


@functools.lru_cache(maxsize=1)
def _codes() -> Sequence[int]:
    """index -> code: NAS-Bench-201's enumeration order shuffled with random.seed(88)
    (precomputed in :mod:`nasbench.spaces.nb201_order`, which also recomputes it); a
    stdlib array, so that one cell's look-up in a fresh process needs no numpy."""
    from nasbench.spaces.nb201_order import codes

    return codes()


@functools.lru_cache(maxsize=1)
def _index_by_code() -> list[int]:
    """code -> index, the inverse permutation of :func:`_codes` (~1 ms to build)."""
    inverse = [0] * NUM_CELLS
    for index, code in enumerate(_codes()):
        inverse[code] = index
    return inverse


@functools.lru_cache(maxsize=1)
def op_ids_by_index() -> np.ndarray:
    """(15625, 6) int8 array: op id on each edge, rows in index order."""
    import numpy as np

    codes = np.asarray(_codes(), dtype=np.int64)
    digits = np.empty((NUM_CELLS, NUM_EDGES), dtype=np.int8)
    for edge in range(NUM_EDGES - 1, -1, -1):
        digits[:, edge] = codes % len(OPS)
        codes //= len(OPS)
    digits.flags.writeable = False
    return digits


@functools.lru_cache(maxsize=None)
def _cell_at(index: int) -> NB201Cell:
    """The cell at one index, built from its base-5 code (a fresh process asking for one cell
    need not build all 15,625) and shared with :func:`all_cells` when that is built."""
    if all_cells.cache_info().currsize:
        return all_cells()[index]
    code, ops = _codes()[index], []
    for _ in range(NUM_EDGES):
        code, digit = divmod(code, len(OPS))  # base-5 digits, last edge first (NB201Cell.code)
        ops.append(OPS[digit])
    return NB201Cell._trusted(tuple(reversed(ops)))


@functools.lru_cache(maxsize=1)
def all_cells() -> tuple[NB201Cell, ...]:
    """Every cell, in index order (built once; cells are immutable)."""
    import numpy as np

    names = np.asarray(OPS, dtype=object)[op_ids_by_index()].tolist()
    return tuple(NB201Cell._trusted(tuple(row)) for row in names)


@functools.lru_cache(maxsize=1)
def _index_by_string() -> dict[str, int]:
    """Canonical string -> index for all 15,625 cells (built once on first use): a look-up is one dict probe."""
    return {str(cell): i for i, cell in enumerate(all_cells())}


class _IndexByString(dict):
    """Canonical string -> index, filled with all 15,625 cells on the first miss; any other
    key (a non-canonical string, a cell, an index) is coerced by the space on each probe."""

    def __init__(self, space: NB201Space) -> None:
        super().__init__()
        self._space = space

    def __missing__(self, key: Any) -> int:
        if not self:
            self.update(_index_by_string())
            if isinstance(key, str) and key in self:
                return self[key]
        return self._space.coerce(key).index


class NB201Space(SearchSpace):
    """The NAS-Bench-201 cell space (see the module docstring)."""

    name = "nb201"
    size = NUM_CELLS
    ops = OPS
    edges = EDGES
    encodings = ("onehot", "adjacency", "path", "graph")
    graph_shape = (NUM_EDGES + 2, len(OPS) + 2)  # input, a vertex per edge, output; input, ops, output

    def parse(self, text: str) -> NB201Cell:
        return NB201Cell.from_string(text)

    def to_string(self, arch: NB201Cell) -> str:
        return str(arch)

    def index(self, arch: NB201Cell) -> int:
        return arch.index

    def from_index(self, index: int) -> NB201Cell:
        return _cell_at(self.checked_index(index))

    def __init__(self) -> None:
        # index_of is the bound C-level __getitem__ of a str -> index dict: a canonical string
        # costs one dict probe and no Python frame (~10x NATS-Bench's query_index_by_arch);
        # anything else reaches __missing__, which parses it (and rejects it precisely).
        self.index_of = _IndexByString(self).__getitem__

    def index_of(self, text: str) -> int:  # replaced per instance by the dict probe above
        """Index of a NAS-Bench-201 string (or of anything :meth:`coerce` takes)."""
        return self.coerce(text).index

    def coerce(self, value: Any) -> NB201Cell:
        """A cell from a cell, a NAS-Bench-201 string, an index, or a string of digits."""
        if isinstance(value, NB201Cell):
            return value
        if isinstance(value, str):
            stripped = value.strip()
            if re.fullmatch(r"-?[0-9]+", stripped):
                return self.from_index(int(stripped))
            return self.parse(stripped)
        if type(value) is int or is_integer(value):
            return self.from_index(int(value))
        raise InvalidArchitectureError(
            f"architecture: expected an NB201Cell, a NAS-Bench-201 string or an index, got {value!r}"
        )

    def indices(self, archs: Sequence[Any]) -> np.ndarray:
        """Vectorised index of many architectures (cells, strings or indices); canonical
        strings take a C-level loop of dict probes (see :meth:`index_of`)."""
        import numpy as np

        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            return self.checked_indices(archs)
        try:
            return np.fromiter(map(self.index_of, archs), dtype=np.int64, count=len(archs))
        except TypeError:  # an unhashable item: coerce says what is wrong with it
            return np.fromiter((self.coerce(a).index for a in archs), dtype=np.int64, count=len(archs))

    def sample(self, rng: np.random.Generator) -> NB201Cell:
        return all_cells()[int(rng.integers(NUM_CELLS))]

    def mutate(self, arch: NB201Cell, rng: np.random.Generator) -> NB201Cell:
        """Change the op on one uniformly chosen edge to one of the 4 other ops."""
        edge = int(rng.integers(NUM_EDGES))
        current = OP_ID[arch.ops[edge]]
        new = (current + 1 + int(rng.integers(len(OPS) - 1))) % len(OPS)
        ops = list(arch.ops)
        ops[edge] = OPS[new]
        return NB201Cell(tuple(ops))

    def neighbours(self, arch: NB201Cell) -> list[NB201Cell]:
        """The 24 cells that differ on exactly one edge (edge-major, then op order)."""
        out = []
        for edge, op in itertools.product(range(NUM_EDGES), OPS):
            if op != arch.ops[edge]:
                out.append(NB201Cell(arch.ops[:edge] + (op,) + arch.ops[edge + 1 :]))
        return out

    def hash(self, arch: NB201Cell) -> str:
        from nasbench.spaces.nb201_canonical import canonical_hash

        return canonical_hash(arch.ops)

    def to_graph(self, arch: NB201Cell, *, drop_none: bool = False) -> nx.DiGraph:
        """Nodes 0..3 (0 is the cell input, 3 its output); each edge carries its ``op``."""
        import networkx as nx

        graph = nx.DiGraph(name=str(arch))
        graph.add_nodes_from(range(NUM_NODES))
        for (src, dst), op in zip(EDGES, arch.ops):
            if not (drop_none and op == "none"):
                graph.add_edge(src, dst, op=op)
        return graph

    def encode(self, archs: Sequence[Any], kind: str = "onehot") -> np.ndarray:
        from nasbench.spaces.nb201_encodings import encode

        return encode(self.indices(archs), kind)
