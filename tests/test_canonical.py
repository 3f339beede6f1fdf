"""The isomorphism rule of nasbench/spaces/nb201_canonical.py, by hand-made cases,
class counts, and an exactness check against networkx graph isomorphism."""

from __future__ import annotations

import itertools
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest

from nasbench.spaces.nb201 import OPS, all_cells
from nasbench.spaces.nb201_canonical import (
    all_hashes,
    canonical_form,
    canonical_graph,
    canonical_hash,
    nb201_unique_str,
    num_classes,
)

ZERO = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
REAL_OPS = [op for op in OPS if op != "none"]


def ops_of(space, text: str) -> tuple[str, ...]:
    return space.parse(text).ops


def h(ops) -> str:
    return canonical_hash(tuple(ops))


def cell_str(e01, e02, e12, e03, e13, e23) -> str:
    return f"|{e01}~0|+|{e02}~0|{e12}~1|+|{e03}~0|{e13}~1|{e23}~2|"


def test_hash_format_and_space_hash_agree(space):
    for cell in all_cells()[::97]:
        digest = space.hash(cell)
        assert digest == canonical_hash(cell.ops) == canonical_hash(list(cell.ops))
        assert len(digest) == 32 and int(digest, 16) >= 0
    assert list(all_hashes()) == [canonical_hash(c.ops) for c in all_cells()]


def test_a_ops_on_edges_that_cannot_reach_the_output_do_not_matter():
    # Node 2 feeds nothing (2->3 is none): the ops on 0->2 and 1->2 are dead.
    dead_node_2 = {h(("nor_conv_3x3", x, y, "nor_conv_1x1", "skip_connect", "none")) for x in OPS for y in OPS}
    assert len(dead_node_2) == 1
    # Node 1 feeds nothing (1->2 and 1->3 are none): the op on 0->1 is dead.
    dead_node_1 = {h((x, "nor_conv_3x3", "none", "nor_conv_1x1", "none", "skip_connect")) for x in OPS}
    assert dead_node_1 == {h(("none", "nor_conv_3x3", "none", "nor_conv_1x1", "none", "skip_connect"))}
    # ...but an op that does reach the output matters.
    live = {h(("nor_conv_3x3", "nor_conv_3x3", "none", "nor_conv_1x1", "none", x)) for x in OPS}
    assert len(live) == len(OPS)


def test_b_an_edge_whose_input_is_all_zero_is_pruned():
    # 0->1 is none, so node 1 is zero and any op applied to it adds nothing.
    pruned = {h(("none", "nor_conv_3x3", x, "skip_connect", y, "nor_conv_1x1")) for x in OPS for y in OPS}
    assert pruned == {h(("none", "nor_conv_3x3", "none", "skip_connect", "none", "nor_conv_1x1"))}
    # A conv after a zero node is the same as none.
    assert h(("none", "none", "none", "none", "none", "nor_conv_3x3")) == h(("none",) * 6)
    assert h(("none", "none", "avg_pool_3x3", "none", "nor_conv_3x3", "nor_conv_3x3")) == h(("none",) * 6)


def _output_is_zero(ops: tuple[str, ...]) -> bool:
    e01, e02, e12, e03, e13, e23 = (op != "none" for op in ops)
    return not (e03 or (e01 and e13) or (e02 and e23) or (e01 and e12 and e23))


def test_c_all_zero_cells_share_one_hash_distinct_from_every_other_cell(space):
    zero = canonical_hash(("none",) * 6)
    assert canonical_form(("none",) * 6) == "out=0"
    examples = [
        ZERO,
        cell_str("nor_conv_3x3", "nor_conv_3x3", "skip_connect", "none", "none", "none"),  # output unreachable
        cell_str("none", "none", "nor_conv_3x3", "none", "nor_conv_1x1", "avg_pool_3x3"),  # input unused
    ]
    assert {h(ops_of(space, text)) for text in examples} == {zero}
    # Over the whole space: the zero hash is given exactly to cells with no live 0 -> 3 path.
    is_zero = np.array([_output_is_zero(c.ops) for c in all_cells()])
    has_zero_hash = np.array(all_hashes(), dtype=object) == zero
    np.testing.assert_array_equal(has_zero_hash, is_zero)
    assert 0 < is_zero.sum() < len(is_zero)


def test_d_skip_chains_flatten(space):
    chain = ops_of(space, "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    direct = ops_of(space, "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    assert h(chain) == h(direct)
    assert canonical_form(direct) == "v0=nor_conv_3x3(in*1);out=v0*1"
    # Skip straight through: the identity cell.
    identity = {
        h(ops_of(space, "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")),
        h(ops_of(space, "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")),
        h(ops_of(space, "|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")),
    }
    assert len(identity) == 1


def test_e_one_conv_reused_twice_differs_from_two_convs(space):
    reused = ops_of(space, "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|avg_pool_3x3~0|skip_connect~1|skip_connect~2|")
    two = ops_of(space, "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    assert nb201_unique_str(reused) == nb201_unique_str(two)  # NAS-Bench-201 cannot tell them apart
    assert h(reused) != h(two)
    convs = lambda ops: sum(1 for _, d in canonical_graph(ops).nodes(data=True) if d["op"] == "nor_conv_1x1")
    assert (convs(reused), convs(two)) == (1, 2)


def test_f_two_pools_on_the_same_input_equal_one_pool_used_twice(space):
    two_pools = "|{op}~0|+|{op}~0|none~1|+|none~0|skip_connect~1|skip_connect~2|"
    one_pool_twice = "|{op}~0|+|none~0|skip_connect~1|+|none~0|skip_connect~1|skip_connect~2|"
    pool = "avg_pool_3x3"
    assert h(ops_of(space, two_pools.format(op=pool))) == h(ops_of(space, one_pool_twice.format(op=pool)))
    # Convolutions have their own weights, so the same pair of cells differs for them.
    for conv in ("nor_conv_1x1", "nor_conv_3x3"):
        assert h(ops_of(space, two_pools.format(op=conv))) != h(ops_of(space, one_pool_twice.format(op=conv)))


def test_g_different_ops_on_a_single_path_differ():
    singles = {op: h(("none", "none", "none", op, "none", "none")) for op in OPS}
    assert len(set(singles.values())) == len(OPS)
    assert singles["none"] == h(("none",) * 6)
    assert singles["nor_conv_1x1"] != singles["nor_conv_3x3"]


def test_swapping_the_roles_of_nodes_1_and_2_keeps_the_hash():
    """With 1->2 = none, nodes 1 and 2 are interchangeable: both read the input, both feed 3."""
    for e01, e02, e13, e23, e03 in itertools.product(OPS, repeat=5):
        a = (e01, e02, "none", e03, e13, e23)
        b = (e02, e01, "none", e03, e23, e13)
        assert h(a) == h(b), (a, b)


def test_class_counts():
    assert len({nb201_unique_str(cell.ops) for cell in all_cells()}) == 6_466  # NAS-Bench-201's number
    assert num_classes() == 5_260 == len(set(all_hashes()))


def test_canonical_graph_shape(space):
    graph = canonical_graph(ops_of(space, "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"))
    assert isinstance(graph, nx.MultiDiGraph)
    ops = sorted(d["op"] for _, d in graph.nodes(data=True))
    assert ops == ["avg_pool_3x3", "input", "nor_conv_1x1", "nor_conv_3x3", "output"]
    assert graph.number_of_edges("in", "out") == 1
    assert nx.is_directed_acyclic_graph(graph)


def _node_match(a: dict, b: dict) -> bool:
    return a["op"] == b["op"]


def test_hash_equality_is_exactly_graph_isomorphism():
    """For a random sample plus whole hash classes: equal hash iff isomorphic canonical
    multigraphs (op labels, edge multiplicities). Pairs are compared within groups of
    equal op multisets (pairs across groups cannot be isomorphic)."""
    cells = all_cells()
    hashes = np.asarray(all_hashes(), dtype=object)
    rng = np.random.default_rng(0)
    chosen = set(rng.choice(len(cells), 400, replace=False).tolist())
    classes = sorted(set(all_hashes()))
    for k in rng.choice(len(classes), 30, replace=False):
        chosen.update(np.flatnonzero(hashes == classes[k]).tolist())
    # The hard cases: two convs on the same input, and one vertex used twice.
    forms = [canonical_form(c.ops) for c in cells]
    for wanted in (lambda f: f.startswith("v0=nor_conv_1x1(in*1);v1=nor_conv_1x1(in*1)"), lambda f: "*2" in f):
        members = [i for i, f in enumerate(forms) if wanted(f)]
        assert len(members) >= 40
        chosen.update(members[:: len(members) // 40][:40])

    graphs = {i: canonical_graph(cells[i].ops) for i in sorted(chosen)}
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, graph in graphs.items():
        groups[tuple(sorted(d["op"] for _, d in graph.nodes(data=True)))].append(i)

    same = different = 0
    for members in groups.values():
        for a, b in itertools.combinations(members, 2):
            iso = nx.is_isomorphic(graphs[a], graphs[b], node_match=_node_match)
            assert iso == (hashes[a] == hashes[b]), (str(cells[a]), str(cells[b]))
            same += iso
            different += not iso
    assert same > 100 and different > 100  # both directions were exercised
    # Different op multisets never share a hash.
    group_of_hash: dict[str, tuple[str, ...]] = {}
    for key, members in groups.items():
        for i in members:
            assert group_of_hash.setdefault(hashes[i], key) == key


@pytest.mark.parametrize("op", REAL_OPS)
def test_hash_distinguishes_depth(op):
    one = h(("none", "none", "none", op, "none", "none"))
    two = h((op, "none", "none", "none", op, "none"))
    if op == "skip_connect":
        assert one == two
    else:
        assert one != two
