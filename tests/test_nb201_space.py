"""The NAS-Bench-201 cell space: strings, indices, sampling, mutation, graphs."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import networkx as nx
import numpy as np
import pytest

from nasbench.errors import InvalidArchitectureError, OutOfDomainError, UnknownNameError
from nasbench.spaces import SPACES, NB201Cell, get_space
from nasbench.spaces.nb201 import EDGES, NUM_CELLS, OPS, all_cells

VALID = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"

# Asserted in NAS-Bench-201's own code (the published index -> string mapping).
KNOWN_INDICES = {
    0: "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    9: "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    123: "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|",
}


def hamming(a: NB201Cell, b: NB201Cell) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


def test_registry_and_size(space):
    assert "nb201" in SPACES.names()
    assert space.size == NUM_CELLS == 15_625 == len(OPS) ** len(EDGES)
    assert space.ops == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    with pytest.raises(UnknownNameError, match="nb201"):
        get_space("nb101-typo")


def test_string_and_index_round_trip_for_every_cell(space):
    cells = all_cells()
    assert len(cells) == NUM_CELLS
    seen_strings = set()
    for position, cell in enumerate(cells):
        text = str(cell)
        assert space.parse(text) == cell
        assert space.to_string(cell) == text
        assert cell.index == position == space.index(cell)
        assert space.from_index(cell.index) == cell
        seen_strings.add(text)
    assert len(seen_strings) == NUM_CELLS
    assert len(set(cells)) == NUM_CELLS


def test_indices_are_a_permutation(space):
    indices = np.sort(space.indices([str(c) for c in all_cells()]))
    np.testing.assert_array_equal(indices, np.arange(NUM_CELLS))
    codes = sorted(cell.code for cell in all_cells())
    assert codes == list(range(NUM_CELLS))


@pytest.mark.parametrize("index, text", sorted(KNOWN_INDICES.items()))
def test_known_nas_bench_201_indices(space, index, text):
    assert str(space.from_index(index)) == text
    assert space.parse(text).index == index


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("|none~0|+|none~0|none~1|", "expected 3 nodes"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "got 4"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "wrapped in '|'"),
        ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "conv_5x5"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must come from node 0, got '1'"),
        ("|none~0|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "node 1 needs 1 inputs, got 2"),
        ("|none~0|+|none~0|none1|+|none~0|none~1|none~2|", "must look like"),
        ("", "expected 3 nodes"),
        ("|none~0| +|none~0|none~1|+|none~0|none~1|none~2|", "contains whitespace at position 8 "),
        ("|none ~0|+|none~0|none~1|+|none~0|none~1|none~2|", "contains whitespace at position 5 "),
        (12, "expected str, got int"),
        (None, "expected str, got NoneType"),
    ],
)
def test_malformed_strings_are_rejected(space, text, fragment):
    with pytest.raises(InvalidArchitectureError) as info:
        space.parse(text)
    assert fragment in str(info.value)


def test_parse_tolerates_only_surrounding_whitespace(space):
    assert space.parse(f"  {VALID}\n") == space.parse(VALID)


def test_cell_constructor_validates():
    with pytest.raises(InvalidArchitectureError, match="6 op names"):
        NB201Cell(("none",) * 5)
    with pytest.raises(InvalidArchitectureError, match="6 op names"):
        NB201Cell(["none"] * 6)  # a list is not a frozen value
    with pytest.raises(InvalidArchitectureError, match="conv_5x5"):
        NB201Cell(("none",) * 5 + ("conv_5x5",))


def test_cells_are_frozen_and_hashable():
    cell = NB201Cell(("none",) * 6)
    with pytest.raises(AttributeError):
        cell.ops = ("skip_connect",) * 6  # type: ignore[misc]
    assert {cell: 1}[NB201Cell(("none",) * 6)] == 1


@pytest.mark.parametrize("bad", [-1, NUM_CELLS, 10**9, "abc", 1.0, True, None])
def test_from_index_rejects_out_of_domain(space, bad):
    with pytest.raises(OutOfDomainError, match="index"):
        space.from_index(bad)


@pytest.mark.parametrize("text", ["-1", "15625", " 15625 "])
def test_coerce_out_of_range_digit_strings(space, text):
    with pytest.raises(OutOfDomainError, match="out of range"):
        space.coerce(text)


@pytest.mark.parametrize("bad", ["abc", "--1", 1.5, True, [0], None])
def test_coerce_rejects_non_architectures(space, bad):
    """Every bad value is an InvalidArchitectureError, never a bare ValueError/TypeError."""
    with pytest.raises(InvalidArchitectureError):
        space.coerce(bad)


def test_coerce_accepts_every_form(space):
    cell = space.from_index(4321)
    for value in (cell, str(cell), 4321, np.int64(4321), np.int32(4321), "4321", " 4321 "):
        assert space.coerce(value) == cell
    np.testing.assert_array_equal(space.indices([cell, str(cell), 4321, "4321"]), [4321] * 4)


def test_sample_is_seeded(space):
    def draws(seed: int) -> list[NB201Cell]:
        rng = np.random.default_rng(seed)
        return [space.sample(rng) for _ in range(50)]

    assert draws(7) == draws(7) != draws(8)


def test_sampling_is_roughly_uniform_over_ops(space):
    rng = np.random.default_rng(0)
    n = 20_000
    samples = [space.sample(rng) for _ in range(n)]
    expected = n / len(OPS)
    for edge in range(len(EDGES)):
        counts = Counter(cell.ops[edge] for cell in samples)
        assert set(counts) == set(OPS)
        chi2 = sum((counts[op] - expected) ** 2 / expected for op in OPS)
        assert chi2 < 30, (edge, counts)  # 4 degrees of freedom: p < 1e-5
    assert len(set(samples)) > 11_000  # ~11,400 distinct expected from 20k uniform draws


def test_mutate_changes_exactly_one_edge(space):
    rng = np.random.default_rng(1)
    for index in range(0, NUM_CELLS, 311):
        cell = space.from_index(index)
        for _ in range(5):
            child = space.mutate(cell, rng)
            assert child != cell
            assert hamming(child, cell) == 1


def test_mutate_is_seeded_and_reaches_every_neighbour(space):
    cell = space.parse(VALID)
    a = [space.mutate(cell, np.random.default_rng(3)) for _ in range(2)]
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    assert [space.mutate(cell, rng1) for _ in range(40)] == [space.mutate(cell, rng2) for _ in range(40)]
    assert a[0] == a[1]
    rng = np.random.default_rng(0)
    reached = {space.mutate(cell, rng) for _ in range(2_000)}
    assert reached == set(space.neighbours(cell))


@pytest.mark.parametrize("index", [0, 9, 123, 7777, NUM_CELLS - 1])
def test_neighbours(space, index):
    cell = space.from_index(index)
    neighbours = space.neighbours(cell)
    assert len(neighbours) == 24 == len(set(neighbours))
    assert cell not in neighbours
    assert all(hamming(cell, n) == 1 for n in neighbours)
    assert neighbours == space.neighbours(cell)  # fixed order
    assert all(cell in space.neighbours(n) for n in neighbours)  # symmetric


def test_to_graph(space):
    cell = space.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
    graph = space.to_graph(cell)
    assert isinstance(graph, nx.DiGraph)
    assert sorted(graph.nodes) == [0, 1, 2, 3]
    assert graph.number_of_edges() == 6
    assert {edge: graph.edges[edge]["op"] for edge in EDGES} == dict(zip(EDGES, cell.ops))
    assert nx.is_directed_acyclic_graph(graph)
    pruned = space.to_graph(cell, drop_none=True)
    assert sorted(pruned.nodes) == [0, 1, 2, 3]
    assert sorted(pruned.edges) == [(0, 1), (0, 3), (1, 2), (2, 3)]
    assert all(data["op"] != "none" for _, _, data in pruned.edges(data=True))
    empty = space.to_graph(space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"), drop_none=True)
    assert empty.number_of_nodes() == 4 and empty.number_of_edges() == 0


def test_spaces_table_oracle_and_strategies_do_not_import_torch():
    code = (
        "import nasbench.spaces, nasbench.table, nasbench.oracle, nasbench.study, strategies, sys; "
        "from nasbench.spaces import nb201_canonical, nb201_encodings; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_precomputed_order_is_the_seed_88_shuffle(tmp_path):
    from nasbench.spaces.nb201_order import (
        ORDER_FILE,
        code_of_index,
        shuffled_codes,
        write_order_file,
    )

    assert np.array_equal(code_of_index(), shuffled_codes())
    assert write_order_file(tmp_path / "order.npy").read_bytes() == ORDER_FILE.read_bytes()  # as its writer makes it


def test_index_of_is_one_dict_probe_that_still_parses_and_rejects():
    from nasbench.errors import InvalidArchitectureError, OutOfDomainError
    from nasbench.spaces import get_space
    from nasbench.spaces.nb201 import all_cells

    space = get_space("nb201")
    cell = all_cells()[9930]
    assert space.index_of(str(cell)) == 9930  # the first probe fills the dict
    assert space.index_of(f"  {cell}\n") == 9930  # non-canonical text is parsed
    assert space.index_of(cell) == space.index_of(np.int64(9930)) == space.index_of("9930") == 9930
    with pytest.raises(InvalidArchitectureError, match="contains whitespace"):
        space.index_of(str(cell).replace("|+|", "| + |"))
    with pytest.raises(OutOfDomainError):
        space.index_of(15625)
    with pytest.raises(InvalidArchitectureError):
        space.indices([str(cell), ["not", "hashable"]])
    assert space.indices([str(cell), cell, 3]).tolist() == [9930, 9930, 3]


def test_the_order_file_reads_the_same_without_numpy():
    from nasbench.spaces.nb201_order import code_of_index, codes

    assert np.array_equal(np.asarray(codes()), code_of_index())
