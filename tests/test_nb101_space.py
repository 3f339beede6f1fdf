"""The NB101 space: NAS-Bench-101's pruning, validity and module hash, the canonical form,
the enumerated list of 423,624 cells, mutation and encodings."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench.errors import InvalidArchitectureError
from nasbench.spaces import NB101Cell, get_space
from nasbench.spaces import nb101_enumerate as enum
from nasbench.spaces.nb101_encodings import path_indices
from nasbench.spaces.nb101_spec import (
    MAX_EDGES,
    NUM_CLASSES,
    OPS,
    decode,
    module_hash,
    spec_code,
)

C3, C1, MP = OPS
# A row of NAS-Bench-101's data (nasbench_only108.tfrecord), as quoted in NNI's and other
# projects' tests and docs: its module hash and its spec.
KNOWN_HASH = "00005c142e6f48ac74fdcf73e3439874"
KNOWN_MATRIX = [
    [0, 1, 0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 1, 0, 0, 1],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
]
KNOWN_OPS = ("input", C3, MP, C3, C3, C1, "output")


@pytest.fixture(scope="module")
def nb101():
    return get_space("nb101")


def relabel(matrix, ops, perm):
    """The spec with vertex v renamed perm[v] (perm fixes 0 and the last vertex)."""
    n = len(matrix)
    out = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if matrix[i][j]:
                out[perm[i]][perm[j]] = 1
    new_ops = [None] * n
    for v in range(n):
        new_ops[perm[v]] = ops[v]
    return out, tuple(new_ops)


def topological_relabellings(matrix):
    n = len(matrix)
    for middle in itertools.permutations(range(1, n - 1)):
        perm = (0, *middle, n - 1)
        if all(perm[i] < perm[j] for i in range(n) for j in range(n) if matrix[i][j]):
            yield perm


def test_module_hash_matches_a_published_nas_bench_101_row(nb101):
    assert module_hash(KNOWN_MATRIX, KNOWN_OPS) == KNOWN_HASH
    cell = NB101Cell(KNOWN_MATRIX, KNOWN_OPS)
    assert nb101.hash(cell) == KNOWN_HASH
    # the smallest hash of the whole dataset: at least it is a hash the enumeration contains
    assert nb101.hash(nb101.from_index(cell.index)) == KNOWN_HASH


def test_isomorphic_relabellings_make_one_cell_and_one_hash():
    perms = list(topological_relabellings(KNOWN_MATRIX))
    assert len(perms) > 1
    cells = set()
    for perm in perms:
        matrix, ops = relabel(KNOWN_MATRIX, KNOWN_OPS, perm)
        assert module_hash(matrix, ops) == KNOWN_HASH
        cells.add(NB101Cell(matrix, ops))
    assert len(cells) == 1


def test_swapping_ops_on_non_symmetric_vertices_changes_the_hash():
    ops = list(KNOWN_OPS)
    ops[1], ops[2] = ops[2], ops[1]
    assert module_hash(KNOWN_MATRIX, tuple(ops)) != KNOWN_HASH
    assert NB101Cell(KNOWN_MATRIX, tuple(ops)) != NB101Cell(KNOWN_MATRIX, KNOWN_OPS)


def test_pruning_removes_vertices_off_every_input_output_path():
    # vertex 2 has no input (dangling), vertex 3 has no output: both go, as in NB101's ModelSpec
    matrix = [
        [0, 1, 0, 1, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    cell = NB101Cell(matrix, ("input", C3, MP, C1, "output"))
    assert cell.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0))
    assert cell.ops == ("input", C3, "output")
    assert str(cell) == f"|{C3}~0|output~1|"


@pytest.mark.parametrize(
    "matrix, ops, fragment",
    [
        ([[0, 0], [0, 0]], ("input", "output"), "not connected"),
        ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ("input", C3, "output"), "not connected"),
        ([[0, 1], [1, 0]], ("input", "output"), "upper triangular"),
        ([[0, 2], [0, 0]], ("input", "output"), "0 or 1"),
        ([[0, 1], [0, 0]], ("input", "conv5x5"), "the last 'output'"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ("input", "conv5x5", "output"), "unknown op 'conv5x5'"),
        ([[0, 1], [0, 0]], ("input",), "expected 2 op names"),
        ([[0, 1, 1]], ("input", "output"), "square"),
    ],
)
def test_invalid_specs_are_rejected_with_the_reason(matrix, ops, fragment):
    with pytest.raises(InvalidArchitectureError, match=fragment):
        NB101Cell(matrix, ops)


def test_size_limits_count_after_pruning():
    full = [[1 if i < j else 0 for j in range(7)] for i in range(7)]  # 21 edges
    with pytest.raises(InvalidArchitectureError, match="21 edges after pruning, at most 9"):
        NB101Cell(full, ("input",) + (C3,) * 5 + ("output",))
    chain = [[1 if j == i + 1 else 0 for j in range(8)] for i in range(8)]
    with pytest.raises(InvalidArchitectureError, match="8 vertices after pruning, at most 7"):
        NB101Cell(chain, ("input",) + (C3,) * 6 + ("output",))
    # 8 vertices of which one is off every path: valid once pruned
    chain[5] = [0] * 8
    chain[4][6] = 1
    assert len(NB101Cell(chain, ("input",) + (C3,) * 6 + ("output",)).matrix) == 7


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "must look like"),
        ("|output~0", "must look like"),
        (f"|{C3}0|output~1|", "must look like 'op~sources'"),
        (f"|{C3}~0|{C1}~1|", "last vertex must be 'output'"),
        ("|conv5x5~0|output~1|", "unknown op 'conv5x5'"),
        (f"|{C3}~1|output~1|", "must be an earlier vertex"),
        (f"|{C3}~x|output~1|", "source 'x'"),
        (f"|{C3}~|output~0|", None),  # a vertex with no input: pruned, leaving |output~0|
    ],
)
def test_string_parser(nb101, text, fragment):
    if fragment is None:
        assert str(nb101.parse(text)) == "|output~0|"
        return
    with pytest.raises(InvalidArchitectureError, match=fragment):
        nb101.parse(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="|~+0123456789outpcnv3x1-bremaxl ", max_size=60))
def test_parser_never_fails_with_anything_but_a_typed_error(text):
    space = get_space("nb101")
    try:
        cell = space.parse(text)
    except InvalidArchitectureError:
        return
    assert space.parse(str(cell)) == cell


@st.composite
def specs(draw):
    n = draw(st.integers(2, 7))
    bits = draw(st.lists(st.booleans(), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    matrix = [[0] * n for _ in range(n)]
    it = iter(bits)
    for j in range(n):
        for i in range(j):
            matrix[i][j] = int(next(it))
    ops = ("input", *draw(st.lists(st.sampled_from(OPS), min_size=n - 2, max_size=n - 2)), "output")
    perm = draw(st.permutations(range(1, n - 1))) if n > 2 else ()
    return matrix, ops, (0, *perm, n - 1)


@settings(max_examples=300, deadline=None)
@given(specs())
def test_canonical_form_is_invariant_and_hash_compatible(spec):
    matrix, ops, perm = spec
    try:
        cell = NB101Cell(matrix, ops)
    except InvalidArchitectureError:
        return
    # the hash of the canonical spec equals NB101's hash of the original (pruned) spec
    assert module_hash(cell.matrix, cell.ops) == get_space("nb101").hash(cell)
    moved, moved_ops = relabel(matrix, ops, perm)
    if all(moved[i][j] == 0 for i in range(len(moved)) for j in range(i + 1)):  # still upper triangular
        assert NB101Cell(moved, moved_ops) == cell
    assert NB101Cell.from_code(cell.code) == cell
    assert cell.num_edges <= MAX_EDGES


def test_the_shipped_list_has_nas_bench_101s_423624_classes():
    codes = enum.shipped_codes()
    assert len(codes) == NUM_CLASSES == 423_624
    assert (np.diff(codes) > 0).all()
    per = {int(k): int(v) for k, v in zip(*np.unique(codes >> 31, return_counts=True))}
    assert per == {2: 1, 3: 6, 4: 84, 5: 2_441, 6: 62_010, 7: 359_082}


def test_every_shipped_code_is_its_own_canonical_form():
    rng = np.random.default_rng(0)
    codes = enum.shipped_codes()
    for code in codes[rng.choice(len(codes), 1500, replace=False)]:
        matrix, ops = decode(int(code))
        assert NB101Cell(matrix, ops).code == int(code)


def test_enumeration_of_small_cells_reproduces_the_shipped_list(tmp_path):
    codes = enum.shipped_codes()
    small = codes[(codes >> 31) <= 6]
    mine = []
    for n in range(2, 7):
        keys = np.unique(enum.canonical_keys(enum.full_dags(n)))
        mine.extend(enum.key_to_code(k, n) for k in keys)
    np.testing.assert_array_equal(np.sort(mine), small)


@pytest.mark.slow
def test_full_enumeration_is_resumable_and_matches_nas_bench_101(tmp_path):
    first = enum.enumerate_codes(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"codes-v{n}.npy" for n in range(2, 8)]
    resumed = enum.enumerate_codes(tmp_path)  # every shard reused
    np.testing.assert_array_equal(first, resumed)
    np.testing.assert_array_equal(first, enum.shipped_codes())
    enum.check_against_nasbench101(first, enum.hash_all(first))


def test_the_cli_enumerates_and_checks(tmp_path, capsys, monkeypatch):
    from nasbench.cli import main

    monkeypatch.setattr(enum, "NUM_CLASSES", 2_532)  # only cells of up to 5 vertices: fast
    monkeypatch.setattr(enum, "MAX_VERTICES", 5)
    out = tmp_path / "codes.npy"
    assert main(["spaces", "enumerate", "nb101", "--out", str(out), "--hashes", str(tmp_path / "h.parquet")]) == 0
    printed = capsys.readouterr().out
    assert "2,532 classes, 2,532 distinct module hashes" in printed
    small = enum.shipped_codes()[(enum.shipped_codes() >> 31) <= 5]
    np.testing.assert_array_equal(np.load(out), small)
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "h.parquet")
    assert table.num_rows == 2_532 and table.column_names == ["index", "arch", "hash"]


def test_index_order_and_sampling_are_uniform_over_classes(nb101):
    rng = np.random.default_rng(1)
    sizes = Counter(len(nb101.sample(rng).matrix) for _ in range(3000))
    # 359,082 of 423,624 classes have 7 vertices: about 85%
    assert 0.81 < sizes[7] / 3000 < 0.89


def test_mutation_flips_one_edge_or_changes_one_op(nb101):
    rng = np.random.default_rng(3)
    kinds = Counter()
    for _ in range(200):
        parent = nb101.sample(rng)
        child = nb101.mutate(parent, rng)
        same_shape = child.matrix == parent.matrix
        kinds["op" if same_shape else "edge"] += 1
        if same_shape:
            assert sum(a != b for a, b in zip(parent.ops, child.ops)) == 1
    assert kinds["op"] > 20 and kinds["edge"] > 20


def test_neighbours_of_the_known_cell(nb101):
    cell = NB101Cell(KNOWN_MATRIX, KNOWN_OPS)
    neighbours = nb101.neighbours(cell)
    assert len(neighbours) == len(set(neighbours))
    # all 10 op changes are distinct cells (no two interior vertices are symmetric here)
    assert sum(n.matrix == cell.matrix for n in neighbours) == 10


def test_path_encoding_on_hand_cases(nb101):
    direct = nb101.parse("|output~0|")
    assert path_indices(direct) == [0]
    chain = nb101.parse(f"|{C1}~0|{MP}~1|output~2|")
    assert path_indices(chain) == [4 + 1 * 3 + 2]  # length-2 block starts at 1 + 3
    both = nb101.parse(f"|{C3}~0|output~0+1|")
    assert sorted(path_indices(both)) == [0, 1]
    enc = nb101.encode([chain], "path")
    assert enc.shape == (1, 364) and enc.sum() == 1 and enc[0, 9] == 1
    assert nb101.encode([chain], "path40")[0, 9] == 1


def test_adjacency_encoding_pads_before_the_output(nb101):
    cell = nb101.parse(f"|{MP}~0|output~0+1|")
    row = nb101.encode([cell], "adjacency")[0]
    upper = {(i, j): row[k] for k, (i, j) in enumerate((i, j) for j in range(7) for i in range(j))}
    assert {e for e, v in upper.items() if v} == {(0, 1), (0, 6), (1, 6)}
    ops = row[21:].reshape(5, 3)
    np.testing.assert_array_equal(ops[0], [0, 0, 1])
    assert not ops[1:].any()
    np.testing.assert_array_equal(nb101.encode([cell], "onehot"), nb101.encode([cell], "adjacency"))


def test_graph_view_carries_ops(nb101):
    graph = nb101.to_graph(NB101Cell(KNOWN_MATRIX, KNOWN_OPS))
    assert graph.number_of_nodes() == 7 and graph.number_of_edges() == 9
    assert Counter(op for _, op in graph.nodes(data="op")) == Counter(KNOWN_OPS)


def test_spec_codes_round_trip():
    cell = NB101Cell(KNOWN_MATRIX, KNOWN_OPS)
    assert decode(spec_code(np.asarray(cell.matrix), cell.ops)) == (cell.matrix, cell.ops)
    with pytest.raises(InvalidArchitectureError, match="not an NB101 spec code"):
        decode(0)


def test_the_cell_no_single_move_changes_mutates_by_two_moves(nb101):
    direct = nb101.parse("|output~0|")  # a new vertex needs an edge in and an edge out
    neighbours = nb101.neighbours(direct)
    assert sorted(str(n) for n in neighbours) == sorted(f"|{op}~0|output~0+1|" for op in OPS)
    children = {nb101.mutate(direct, np.random.default_rng(k)) for k in range(40)}
    assert children == set(neighbours)
