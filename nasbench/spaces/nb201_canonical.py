"""Isomorphism-aware canonical form and hash of NAS-Bench-201 cells.

The rule. A cell is rewritten as the computation it performs, then labelled canonically:

1. Values are sums. Node 0 is the cell input; node j sums op(node i) over its edges.
   ``skip_connect`` adds the input value itself, ``none`` adds nothing, and a
   conv or pool edge adds one *op vertex* applied to the input value.
2. Zeros are pruned: an edge whose input value is all-zero (no surviving terms) adds
   nothing, exactly like ``none`` (so ReLU-conv-BN of a zero input counts as zero, as
   in NAS-Bench-201's own rule).
3. Dead ends are pruned: only op vertices that reach the cell output are kept.
4. Sums are flattened: an op's input is a multiset of op vertices (and the cell input)
   with multiplicities, so skip chains and nested sums vanish.
5. Parameter-free ops on the same input are one value: two ``avg_pool_3x3`` of the same
   value compute the same tensor. Convolutions have their own weights, so two convs on
   the same input stay two vertices, while one conv reused twice (via skips) is one
   vertex with multiplicity two.

Two cells share a hash iff the resulting labelled multigraphs are isomorphic. Labelling
is exact: vertices are sorted by their expanded expression, ties (the only freedom an
isomorphism has) are broken by trying every order within a tie and keeping the
lexicographically smallest serialisation.

NAS-Bench-201's own rule (``Structure.to_unique_str(consider_zero=True)``), reproduced
in :func:`nb201_unique_str`, gives 6,466 classes; see ``tables/README.md`` for the exact
differences from this rule.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nasbench.spaces.nb201 import EDGES, NUM_CELLS, all_cells

if TYPE_CHECKING:
    import networkx as nx

PARAMETER_FREE = frozenset({"avg_pool_3x3"})
INPUT = -1  # reference to the cell input in an op vertex's input multiset

Multiset = tuple[tuple[int, int], ...]  # sorted (reference, multiplicity) pairs


@functools.lru_cache(maxsize=None)
def computation(ops: tuple[str, ...]) -> tuple[list[tuple[str, Multiset]], Multiset]:
    """Op vertices (op, input multiset) reaching the output, and the output multiset."""
    vertices: list[tuple[str, Multiset]] = []
    shared: dict[tuple[str, Multiset], int] = {}
    values: list[Counter[int]] = [Counter({INPUT: 1})]
    for target in (1, 2, 3):
        value: Counter[int] = Counter()
        for (src, dst), op in zip(EDGES, ops):
            if dst != target or op == "none" or not values[src]:
                continue
            if op == "skip_connect":
                value.update(values[src])
                continue
            key = (op, tuple(sorted(values[src].items())))
            if op in PARAMETER_FREE and key in shared:
                vid = shared[key]
            else:
                vid = len(vertices)
                vertices.append(key)
                shared.setdefault(key, vid)
            value[vid] += 1
        values.append(value)
    output: Multiset = tuple(sorted(values[3].items()))

    # Keep only vertices that reach the output, renumbered in creation order.
    alive: set[int] = set()
    stack = [ref for ref, _ in output if ref != INPUT]
    while stack:
        vid = stack.pop()
        if vid not in alive:
            alive.add(vid)
            stack.extend(ref for ref, _ in vertices[vid][1] if ref != INPUT)
    renumber = {old: new for new, old in enumerate(sorted(alive))}
    renumber[INPUT] = INPUT

    def remap(multiset: Multiset) -> Multiset:
        return tuple(sorted((renumber[ref], mult) for ref, mult in multiset))

    kept = [(vertices[old][0], remap(vertices[old][1])) for old in sorted(alive)]
    return kept, remap(output)


def _expressions(vertices: list[tuple[str, Multiset]]) -> list[str]:
    """Expanded expression of each vertex (vertices are in topological order)."""
    expr: list[str] = []
    names = {INPUT: "in"}
    for vid, (op, inputs) in enumerate(vertices):
        terms = sorted(f"{names[ref]}*{mult}" for ref, mult in inputs)
        names[vid] = f"{op}({'+'.join(terms)})"
        expr.append(names[vid])
    return expr


@functools.lru_cache(maxsize=None)
def canonical_form(ops: tuple[str, ...]) -> str:
    """Canonical serialisation of a cell's pruned computation graph (see module docstring).

    Example: ``v0=nor_conv_3x3(in*1);v1=avg_pool_3x3(v0*1);out=v0*1+v1*1``; an all-zero
    cell is ``out=0``.
    """
    vertices, output = computation(tuple(ops))
    if not output:
        return "out=0"
    expr = _expressions(vertices)
    order = sorted(range(len(vertices)), key=lambda v: expr[v])
    groups = [list(g) for _, g in itertools.groupby(order, key=lambda v: expr[v])]
    best: str | None = None
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        sequence = [v for perm in perms for v in perm]
        position = {v: p for p, v in enumerate(sequence)}
        position[INPUT] = INPUT

        def fmt(multiset: Multiset) -> str:
            refs = sorted((position[ref], mult) for ref, mult in multiset)
            return "+".join(f"{'in' if ref == INPUT else f'v{ref}'}*{mult}" for ref, mult in refs)

        parts = [f"v{p}={vertices[v][0]}({fmt(vertices[v][1])})" for p, v in enumerate(sequence)]
        text = ";".join(parts + [f"out={fmt(output)}"])
        if best is None or text < best:
            best = text
    assert best is not None
    return best


def canonical_hash(ops: Sequence[str]) -> str:
    """32-hex-digit hash of :func:`canonical_form`: the key of every nb201 table."""
    return hashlib.sha256(canonical_form(tuple(ops)).encode()).hexdigest()[:32]


def canonical_graph(ops: Sequence[str]) -> nx.MultiDiGraph:
    """The pruned computation graph as a networkx multigraph (for inspection and tests).

    Nodes: ``"in"``, ``"out"`` and op vertices ``0..k-1`` with an ``op`` attribute; one
    parallel edge per unit of multiplicity.
    """
    vertices, output = computation(tuple(ops))
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_node("in", op="input")
    graph.add_node("out", op="output")
    name = {INPUT: "in"}
    for vid, (op, _) in enumerate(vertices):
        graph.add_node(vid, op=op)
        name[vid] = vid
    for vid, (_, inputs) in enumerate(vertices):
        for ref, mult in inputs:
            for _ in range(mult):
                graph.add_edge(name[ref], vid)
    for ref, mult in output:
        for _ in range(mult):
            graph.add_edge(name[ref], "out")
    return graph


def nb201_unique_str(ops: Sequence[str]) -> str:
    """NAS-Bench-201's own uniqueness key (``to_unique_str(consider_zero=True)``), for comparison."""
    nodes = {0: "0"}
    edge_ops = iter(ops)
    for target in (1, 2, 3):
        terms = []
        for source in range(target):
            op = next(edge_ops)
            if op == "none" or nodes[source] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(nodes[source])
            else:
                terms.append(f"({nodes[source]})@{op}")
        nodes[target] = "+".join(sorted(terms))
    return nodes[3]


@functools.lru_cache(maxsize=1)
def all_hashes() -> tuple[str, ...]:
    """Canonical hash of every cell, in index order."""
    return tuple(canonical_hash(cell.ops) for cell in all_cells())


def num_classes() -> int:
    """Number of isomorphism classes in the space under this module's rule."""
    assert len(all_hashes()) == NUM_CELLS
    return len(set(all_hashes()))
