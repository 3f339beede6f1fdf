"""Fixed-length encodings of NB201 cells (onehot, adjacency, path, graph)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench.errors import InvalidArchitectureError, UnknownNameError
from nasbench.spaces.nb201 import NUM_CELLS, OPS, all_cells

WIDTHS = {"onehot": 30, "adjacency": 58, "path": 84, "graph": 120}
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))  # edge positions of the 4 input->output paths


@pytest.fixture(scope="module")
def every_index() -> list[int]:
    return list(range(NUM_CELLS))


@pytest.mark.parametrize("kind, width", sorted(WIDTHS.items()))
def test_shape_and_dtype(space, every_index, kind, width):
    assert kind in space.encodings
    full = space.encode(every_index, kind)
    assert full.shape == (NUM_CELLS, width)
    assert full.dtype == np.float32
    assert set(np.unique(full).tolist()) <= {0.0, 1.0}
    some = space.encode([5, 17, 5], kind)
    assert some.shape == (3, width)
    np.testing.assert_array_equal(some, full[[5, 17, 5]])
    assert space.encode([], kind).shape == (0, width)


def test_onehot_rows_mark_the_op_of_every_edge(space, every_index):
    onehot = space.encode(every_index, "onehot")
    np.testing.assert_array_equal(onehot.sum(axis=1), np.full(NUM_CELLS, 6.0))
    for cell, row in zip(all_cells()[::251], onehot[::251]):
        expected = np.zeros(30, dtype=np.float32)
        for edge, op in enumerate(cell.ops):
            expected[edge * len(OPS) + OPS.index(op)] = 1.0
        np.testing.assert_array_equal(row, expected)


@pytest.mark.parametrize("kind", ["onehot", "adjacency", "graph"])
def test_encodings_that_must_be_injective_are(space, every_index, kind):
    encoded = space.encode(every_index, kind)
    assert len(np.unique(encoded, axis=0)) == NUM_CELLS


def test_path_encoding_of_extreme_cells(space):
    distinct = "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_3x3~2|"
    none_row, conv_row, distinct_row = space.encode([ALL_NONE, ALL_CONV, distinct], "path")
    assert not none_row.any()
    # Features are op sequences, so the all-3x3 cell's two length-2 paths (0-1-3, 0-2-3)
    # share one feature: 3 ones for its 4 paths.
    assert conv_row.sum() == 3
    assert conv_row[2] == 1  # the one-edge path 0->3 (ops skip, 1x1, 3x3, pool -> feature 2)
    assert distinct_row.sum() == 4  # four paths with four different op sequences


def _reference_path(ops: tuple[str, ...]) -> np.ndarray:
    """BANANAS path encoding computed independently, path by path."""
    real = [op for op in OPS if op != "none"]
    out = np.zeros(84, dtype=np.float32)
    offset = {1: 0, 2: 4, 3: 20}
    for path in PATHS:
        labels = [ops[e] for e in path]
        if "none" in labels:
            continue
        code = 0
        for label in labels:
            code = code * len(real) + real.index(label)
        out[offset[len(path)] + code] = 1.0
    return out


def test_path_encoding_matches_a_reference(space):
    indices = np.random.default_rng(0).choice(NUM_CELLS, 500, replace=False)
    encoded = space.encode(indices.tolist(), "path")
    for row, index in zip(encoded, indices):
        np.testing.assert_array_equal(row, _reference_path(space.from_index(int(index)).ops))


def test_adjacency_drops_wires_through_none(space):
    conv, one_none, empty = space.encode(
        [ALL_CONV, "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", ALL_NONE],
        "adjacency",
    )
    wires = lambda row: int(row[:28].sum())  # noqa: E731
    assert wires(conv) == 10  # 3 from the input, 3 into the output, 4 edge -> edge
    assert wires(one_none) == 8  # the 1->2 edge had wire 0->1->2 in and 1->2->3 out
    assert wires(empty) == 0
    np.testing.assert_array_equal(conv[28:], space.encode([ALL_CONV], "onehot")[0])


def test_unknown_kind(space):
    with pytest.raises(UnknownNameError, match="'graph2vec'") as info:
        space.encode([0], "graph2vec")
    assert "onehot" in str(info.value)


def test_encode_accepts_strings_indices_and_cells(space):
    cells = [space.from_index(i) for i in (0, 9, 123, 15_624)]
    for kind in WIDTHS:
        by_cell = space.encode(cells, kind)
        np.testing.assert_array_equal(by_cell, space.encode([str(c) for c in cells], kind))
        np.testing.assert_array_equal(by_cell, space.encode([c.index for c in cells], kind))
        np.testing.assert_array_equal(by_cell, space.encode(np.array([c.index for c in cells]), kind))
    with pytest.raises(InvalidArchitectureError):
        space.encode(["|bad|"], "onehot")


def test_encode_returns_a_copy(space):
    before = space.encode([0, 1], "adjacency")
    scratch = space.encode([0, 1], "adjacency")
    scratch[:] = 7.0  # the caller may write: the shared per-space cache is untouched
    np.testing.assert_array_equal(space.encode([0, 1], "adjacency"), before)


def test_graph_encoding_is_the_adjacency_dag_as_a_matrix_with_vertex_types(space, every_index):
    vertices, types = space.graph_shape
    graph = space.encode(every_index, "graph")
    adjacency = space.encode(every_index, "adjacency")
    wires = graph[:, : vertices * vertices].reshape(-1, vertices, vertices)
    upper = np.triu_indices(vertices, k=1)
    np.testing.assert_array_equal(wires[:, upper[0], upper[1]], adjacency[:, :28])
    assert not np.tril(wires).any()  # a DAG in topological order: no wire goes back
    kinds = graph[:, vertices * vertices:].reshape(-1, vertices, types)
    np.testing.assert_array_equal(kinds.sum(axis=2), 1.0)  # one type per vertex
    assert kinds[:, 0, 0].all() and kinds[:, -1, -1].all()  # input and output vertices
    np.testing.assert_array_equal(kinds[:, 1:-1, 1:-1].reshape(-1, 30), adjacency[:, 28:])  # the edge ops
    conv = space.encode([ALL_CONV], "graph")[0, : vertices * vertices].reshape(vertices, vertices)
    none = space.encode([ALL_NONE], "graph")[0, : vertices * vertices]
    assert conv.sum() == 3 + 3 + 4 and not none.any()  # 3 wires out of the input, 3 into the output, 4 inner


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(OPS), min_size=6, max_size=6))
def test_graph_encoding_wires_follow_the_cell(space, ops):
    """For any cell: a wire joins two op vertices exactly when the first edge ends where the
    second starts and neither is ``none``; input and output wires likewise; types are the ops."""
    from nasbench.spaces.nb201 import EDGES, NB201Cell

    vertices, types = space.graph_shape
    row = space.encode([NB201Cell(tuple(ops))], "graph")[0]
    wires = row[: vertices * vertices].reshape(vertices, vertices)
    live = [op != "none" for op in ops]
    expected = np.zeros((vertices, vertices), dtype=np.float32)
    for e, (src, dst) in enumerate(EDGES):
        if live[e]:
            expected[0, e + 1] = src == 0
            expected[e + 1, vertices - 1] = dst == 3
            for f, (src2, _) in enumerate(EDGES):
                expected[e + 1, f + 1] = live[f] and src2 == dst
    np.testing.assert_array_equal(wires, expected)
    kinds = row[vertices * vertices:].reshape(vertices, types)
    assert [OPS[int(np.argmax(k)) - 1] for k in kinds[1:-1]] == list(ops)
