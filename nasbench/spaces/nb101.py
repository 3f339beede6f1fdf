"""The NAS-Bench-101 cell space: DAGs of up to 7 vertices and 9 edges, 423,624 unique cells.

A cell is a frozen :class:`NB101Cell` holding the pruned, canonical spec of its
isomorphism class (see :mod:`nasbench.spaces.nb101_spec`): any spec given to it is
validated, pruned as NAS-Bench-101 prunes, and relabelled to the class representative,
so two isomorphic specs make equal cells. ``space.hash(cell)`` is NAS-Bench-101's module
hash, so rows join with its published data. Indices are positions in the sorted list of
all classes (``nasbench spaces enumerate nb101`` writes it; it ships with the package).

Strings list vertices 1..V-1 as ``op~sources``, e.g. ``|conv3x3-bn-relu~0|maxpool3x3~1|output~0+2|``
(vertex 1 is a 3x3 conv of the input, vertex 2 a max-pool of vertex 1, the output
concatenates vertex 2 and a projection of the input).

Mutation follows the regularized-evolution experiments of NAS-Bench-101: on the spec
padded to 7 vertices (isolated vertices inserted before the output), flip one edge or
change one interior op, drawn uniformly, and redraw until the result is a valid cell
different from the parent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.errors import InvalidArchitectureError, OutOfDomainError
from nasbench.spaces.base import SearchSpace, is_integer
from nasbench.spaces.nb101_spec import (
    INPUT,
    MAX_VERTICES,
    NUM_CLASSES,
    OP_ID,
    OPS,
    OUTPUT,
    Matrix,
    as_matrix,
    canonical,
    check_ops,
    check_size,
    decode,
    module_hash,
    prune,
    spec_code,
)

if TYPE_CHECKING:
    import networkx as nx

MUTATION_TRIES = 1000
_SLOTS = [(i, j) for j in range(MAX_VERTICES) for i in range(j)]  # edge slots in NB101 bit order


@dataclass(frozen=True, slots=True)
class NB101Cell:
    """A NAS-Bench-101 cell: the canonical pruned spec of its isomorphism class."""

    matrix: Matrix
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        array = as_matrix(self.matrix)
        ops = check_ops(self.ops, len(array))
        array, ops = prune(array, ops)
        check_size(array)
        array, ops = canonical(array, ops)
        object.__setattr__(self, "matrix", tuple(tuple(int(x) for x in row) for row in array))
        object.__setattr__(self, "ops", ops)

    @classmethod
    def _trusted(cls, matrix: Matrix, ops: tuple[str, ...]) -> NB101Cell:
        """A cell from a spec already known to be canonical (skips the checks)."""
        cell = object.__new__(cls)
        object.__setattr__(cell, "matrix", matrix)
        object.__setattr__(cell, "ops", ops)
        return cell

    @classmethod
    def from_code(cls, code: int) -> NB101Cell:
        """The cell of a spec code from the enumeration."""
        return cls._trusted(*decode(code))

    @classmethod
    def from_string(cls, text: str) -> NB101Cell:
        """Parse ``|op~sources|...|output~sources|`` (any vertex order; canonicalised)."""
        return cls(*_parse(text))

    def __str__(self) -> str:
        n = len(self.matrix)
        parts = []
        for v in range(1, n):
            sources = "+".join(str(u) for u in range(v) if self.matrix[u][v])
            parts.append(f"{self.ops[v]}~{sources}")
        return "|" + "|".join(parts) + "|"

    @property
    def code(self) -> int:
        """The spec packed into one integer (:func:`nasbench.spaces.nb101_spec.spec_code`)."""
        return _code(self)

    @property
    def index(self) -> int:
        """Position in the sorted list of all 423,624 classes."""
        return _index_of_code(self.code)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))


def _parse(text: object) -> tuple[list[list[int]], tuple[str, ...]]:
    if not isinstance(text, str):
        raise InvalidArchitectureError(f"architecture string: expected str, got {type(text).__name__}")
    where = f"in NB101 architecture string {text!r}"
    body = text.strip()
    if len(body) < 2 or not (body.startswith("|") and body.endswith("|")):
        raise InvalidArchitectureError(f"{where}: must look like '|op~0|...|output~1+2|'")
    tokens = body[1:-1].split("|")
    n = len(tokens) + 1
    if n > 2 * MAX_VERTICES:
        raise InvalidArchitectureError(f"{where}: {n} vertices is far beyond {MAX_VERTICES}")
    matrix = [[0] * n for _ in range(n)]
    ops = [INPUT]
    for v, token in enumerate(tokens, start=1):
        op, sep, sources = token.partition("~")
        if not sep:
            raise InvalidArchitectureError(f"{where}: vertex {v} {token!r} must look like 'op~sources'")
        last = v == n - 1
        if last and op != OUTPUT:
            raise InvalidArchitectureError(f"{where}: the last vertex must be {OUTPUT!r}, got {op!r}")
        if not last and op not in OP_ID:
            raise InvalidArchitectureError(f"{where}: unknown op {op!r} at vertex {v} (known: {', '.join(OPS)})")
        ops.append(op)
        for source in sources.split("+") if sources else ():
            if not re.fullmatch(r"[0-9]+", source) or int(source) >= v:
                raise InvalidArchitectureError(
                    f"{where}: vertex {v}'s source {source!r} must be an earlier vertex (0..{v - 1})"
                )
            matrix[int(source)][v] = 1
    return matrix, tuple(ops)


@functools.lru_cache(maxsize=1 << 16)
def _code(cell: NB101Cell) -> int:
    return spec_code(np.asarray(cell.matrix, dtype=np.int8), cell.ops)


@functools.lru_cache(maxsize=1 << 16)
def _hash(cell: NB101Cell) -> str:
    return module_hash(cell.matrix, cell.ops)


def _codes() -> np.ndarray:
    from nasbench.spaces.nb101_enumerate import shipped_codes

    return shipped_codes()


def _index_of_code(code: int) -> int:
    codes = _codes()
    position = int(np.searchsorted(codes, code))
    if position >= len(codes) or int(codes[position]) != code:
        raise OutOfDomainError(f"NB101 spec code {code} is not in the enumerated list (is the shipped list complete?)")
    return position


def padded(cell: NB101Cell) -> tuple[np.ndarray, list[str]]:
    """The spec on 7 vertices: isolated conv3x3 vertices inserted just before the output."""
    n = len(cell.matrix)
    matrix = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    where = list(range(n - 1)) + [MAX_VERTICES - 1]
    matrix[np.ix_(where, where)] = np.asarray(cell.matrix, dtype=np.int8)
    ops = list(cell.ops[:-1]) + [OPS[0]] * (MAX_VERTICES - n) + [OUTPUT]
    return matrix, ops


def _moves() -> list[tuple[str, int, int]]:
    """Every single mutation of a padded spec: ("edge", i, j) flips, ("op", vertex, op id) changes."""
    moves = [("edge", i, j) for i, j in _SLOTS]
    moves += [("op", v, k) for v in range(1, MAX_VERTICES - 1) for k in range(len(OPS))]
    return moves


_MOVES = _moves()


@functools.lru_cache(maxsize=1 << 16)
def _padded_bytes(cell: NB101Cell) -> tuple[bytes, tuple[str, ...]]:
    matrix, ops = padded(cell)
    return matrix.tobytes(), tuple(ops)


def _apply(cell: NB101Cell, move: tuple[str, int, int]) -> NB101Cell | None:
    """The cell after one move, or None when the move is a no-op or leaves the space."""
    matrix, ops = _padded_bytes(cell)
    kind, a, b = move
    if kind == "edge":
        flipped = bytearray(matrix)
        flipped[a * MAX_VERTICES + b] ^= 1
        return _padded_cell(bytes(flipped), ops)
    if ops[a] == OPS[b]:
        return None
    return _padded_cell(matrix, ops[:a] + (OPS[b],) + ops[a + 1 :])


@functools.lru_cache(maxsize=1 << 17)
def _padded_cell(matrix: bytes, ops: tuple[str, ...]) -> NB101Cell | None:
    """The cell of a well-formed padded spec (7x7 int8 bytes), None if it leaves the space;
    cached: strategies mutate the same parents again and again (~1 ms to canonicalise)."""
    array = np.frombuffer(matrix, dtype=np.int8).reshape(MAX_VERTICES, MAX_VERTICES)
    try:
        array, pruned = prune(array, ops)
        check_size(array)
    except InvalidArchitectureError:
        return None
    array, pruned = canonical(array, pruned)
    return NB101Cell._trusted(tuple(tuple(int(x) for x in row) for row in array), pruned)


@functools.lru_cache(maxsize=1 << 14)
def _one_move(arch: NB101Cell) -> tuple[NB101Cell, ...]:
    """Distinct valid cells one move from ``arch``, in move order."""
    out: dict[NB101Cell, None] = {}
    for move in _MOVES:
        child = _apply(arch, move)
        if child is not None and child != arch:
            out.setdefault(child)
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _two_moves(arch: NB101Cell) -> tuple[NB101Cell, ...]:
    """Distinct valid cells two moves from ``arch`` (either move alone may leave it unchanged);
    a vertex the two moves bring in may carry any op (padding vertices are tried with each)."""
    matrix, real_ops = _padded_bytes(arch)
    n = len(arch.matrix)
    out: dict[NB101Cell, None] = {}
    for pad in OPS:
        ops = real_ops[:n - 1] + (pad,) * (MAX_VERTICES - n) + (OUTPUT,)
        _two_moves_into(arch, matrix, ops, out)
    return tuple(out)


def _two_moves_into(arch: NB101Cell, matrix: bytes, ops: tuple[str, ...], out: dict[NB101Cell, None]) -> None:
    for i, first in enumerate(_MOVES):
        for second in _MOVES[i + 1:]:
            flipped, new_ops = bytearray(matrix), list(ops)
            for kind, a, b in (first, second):
                if kind == "edge":
                    flipped[a * MAX_VERTICES + b] ^= 1
                else:
                    new_ops[a] = OPS[b]
            child = _padded_cell(bytes(flipped), tuple(new_ops))
            if child is not None and child != arch:
                out.setdefault(child)


class NB101Space(SearchSpace):
    """The NAS-Bench-101 cell space (see the module docstring)."""

    name = "nb101"
    size = NUM_CLASSES
    ops = OPS
    encodings = ("onehot", "adjacency", "path", "path40", "graph")
    graph_shape = (MAX_VERTICES, len(OPS) + 2)  # vertices; input, the 3 ops, output

    def parse(self, text: str) -> NB101Cell:
        return NB101Cell.from_string(text)

    def to_string(self, arch: NB101Cell) -> str:
        return str(arch)

    def index(self, arch: NB101Cell) -> int:
        return arch.index

    def from_index(self, index: int) -> NB101Cell:
        return NB101Cell.from_code(int(_codes()[self.checked_index(index)]))

    def coerce(self, value: Any) -> NB101Cell:
        """A cell from a cell, a string, an index, or a mapping with ``matrix`` and ``ops``."""
        if isinstance(value, NB101Cell):
            return value
        if isinstance(value, str):
            stripped = value.strip()
            if re.fullmatch(r"-?[0-9]+", stripped):
                return self.from_index(int(stripped))
            return self.parse(stripped)
        if type(value) is int or is_integer(value):
            return self.from_index(int(value))
        if isinstance(value, Mapping) and {"matrix", "ops"} <= set(value):
            return NB101Cell(value["matrix"], tuple(value["ops"]))
        raise InvalidArchitectureError(
            f"architecture: expected an NB101Cell, an NB101 string, an index or {{'matrix', 'ops'}}, got {value!r}"
        )

    def indices(self, archs: Sequence[Any]) -> np.ndarray:
        """Vectorised :meth:`index`; an integer array is range-checked in one step."""
        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            return self.checked_indices(archs)
        codes = np.fromiter((self.coerce(a).code for a in archs), dtype=np.int64, count=len(archs))
        positions = np.searchsorted(_codes(), codes)
        positions = np.minimum(positions, NUM_CLASSES - 1)
        missing = np.flatnonzero(_codes()[positions] != codes)
        if len(missing):
            raise OutOfDomainError(f"NB101 spec code {int(codes[missing[0]])} is not in the enumerated list")
        return positions.astype(np.int64)

    def sample(self, rng: np.random.Generator) -> NB101Cell:
        """Uniform over the 423,624 unique cells."""
        return self.from_index(int(rng.integers(NUM_CLASSES)))

    def mutate(self, arch: NB101Cell, rng: np.random.Generator) -> NB101Cell:
        """Flip one edge or change one op of the padded spec; redraw until valid and new. The
        one cell no single move changes (input wired straight to output: a new vertex needs an
        edge in and an edge out) draws among the cells two moves away."""
        if not _one_move(arch):
            options = _two_moves(arch)
            return options[int(rng.integers(len(options)))]
        for _ in range(MUTATION_TRIES):
            child = _apply(arch, _MOVES[int(rng.integers(len(_MOVES)))])
            if child is not None and child != arch:
                return child
        raise InvalidArchitectureError(f"no valid mutation of {arch} found in {MUTATION_TRIES} draws")

    def neighbours(self, arch: NB101Cell) -> list[NB101Cell]:
        """Every distinct cell one move away (edge flips in NB101 bit order, then op changes);
        for the one cell with none (``|output~0|``), the cells two moves away."""
        return list(_one_move(arch) or _two_moves(arch))

    def hash(self, arch: NB101Cell) -> str:
        """NAS-Bench-101's module hash (its data is keyed by it)."""
        return _hash(self.coerce(arch))

    def to_graph(self, arch: NB101Cell) -> nx.DiGraph:
        """Vertices 0..V-1 with an ``op`` attribute (input and output included)."""
        import networkx as nx

        graph = nx.DiGraph(name=str(arch))
        for v, op in enumerate(arch.ops):
            graph.add_node(v, op=op)
        n = len(arch.matrix)
        graph.add_edges_from((u, v) for u in range(n) for v in range(n) if arch.matrix[u][v])
        return graph

    def encode(self, archs: Sequence[Any], kind: str = "onehot") -> np.ndarray:
        from nasbench.spaces.nb101_encodings import encode

        return encode(_codes()[self.indices(archs)], kind)
