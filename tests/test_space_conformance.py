"""The SearchSpace contract, checked on every registered space (one suite, as Optuna checks
every sampler): round trips, typed errors, seeded sampling and mutation, neighbours,
isomorphism-aware hashes, graphs and encodings. Space-specific facts live in each
space's own test module."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

from nasbench.errors import InvalidArchitectureError, OutOfDomainError, UnknownNameError
from nasbench.spaces import SPACES, SearchSpace, get_space

NAMES = SPACES.names()


@pytest.fixture(scope="module", params=NAMES)
def any_space(request: pytest.FixtureRequest) -> SearchSpace:
    return get_space(request.param)


@pytest.fixture(scope="module")
def some(any_space: SearchSpace) -> list:
    rng = np.random.default_rng(2024)
    return [any_space.sample(rng) for _ in range(60)]


def test_every_space_is_registered_and_named():
    assert {"nb101", "nb201"} <= set(NAMES)
    for name in NAMES:
        assert get_space(name).name == name
    with pytest.raises(UnknownNameError, match="nb101, nb201"):
        get_space("nb301")


def test_string_index_and_coerce_round_trip(any_space, some):
    for arch in some:
        text = any_space.to_string(arch)
        assert any_space.parse(text) == arch
        assert any_space.parse(f"  {text}\n") == arch
        index = any_space.index(arch)
        assert 0 <= index < any_space.size
        assert any_space.from_index(index) == arch
        for form in (arch, text, index, np.int64(index), str(index)):
            assert any_space.coerce(form) == arch
    np.testing.assert_array_equal(
        any_space.indices([any_space.to_string(a) for a in some]), [any_space.index(a) for a in some]
    )
    assert any_space.indices([]).shape == (0,)


def test_bad_input_raises_typed_errors_naming_the_value(any_space):
    for bad in (-1, any_space.size, 10**12):
        with pytest.raises(OutOfDomainError, match=str(bad)):
            any_space.from_index(bad)
    for bad in ("", "|", "not an architecture", "|x~0|"):
        with pytest.raises(InvalidArchitectureError):
            any_space.parse(bad)
    for bad in (None, 1.5, object()):
        with pytest.raises(InvalidArchitectureError):
            any_space.coerce(bad)


def test_architectures_are_frozen_hashable_values(any_space, some):
    arch = some[0]
    assert hash(arch) == hash(any_space.parse(any_space.to_string(arch)))
    assert len({*some, *some}) == len(set(some))
    field = next(iter(type(arch).__dataclass_fields__))
    with pytest.raises(AttributeError):
        setattr(arch, field, None)


def test_sampling_is_seeded(any_space):
    draw = lambda seed: [any_space.to_string(any_space.sample(np.random.default_rng(seed))) for _ in range(20)]
    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_mutate_is_seeded_new_and_a_neighbour(any_space, some):
    for arch in some[:15]:
        neighbours = any_space.neighbours(arch)
        assert arch not in neighbours
        assert len(neighbours) == len(set(neighbours)) > 0
        children = [any_space.mutate(arch, np.random.default_rng(s)) for s in range(8)]
        assert children == [any_space.mutate(arch, np.random.default_rng(s)) for s in range(8)]
        for child in children:
            assert child != arch
            assert child in neighbours


def test_hash_is_a_32_hex_digest_equal_for_equal_archs(any_space, some):
    hashes = [any_space.hash(a) for a in some]
    assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes)
    assert hashes == [any_space.hash(any_space.parse(any_space.to_string(a))) for a in some]


def test_graph_view(any_space, some):
    for arch in some[:10]:
        graph = any_space.to_graph(arch)
        assert isinstance(graph, nx.DiGraph)
        assert nx.is_directed_acyclic_graph(graph)
        assert graph.number_of_nodes() >= 2


@pytest.mark.parametrize("name, kind", [(n, k) for n in NAMES for k in get_space(n).encodings])
def test_encodings_are_fixed_width_and_deterministic(name, kind):
    any_space = get_space(name)
    rng = np.random.default_rng(5)
    some = [any_space.sample(rng) for _ in range(12)]
    full = any_space.encode(some, kind)
    assert full.ndim == 2 and full.shape[0] == len(some) and full.dtype == np.float32
    np.testing.assert_array_equal(full, any_space.encode([any_space.to_string(a) for a in some], kind))
    np.testing.assert_array_equal(any_space.encode(some[3:5], kind), full[3:5])
    with pytest.raises(UnknownNameError, match="known"):
        any_space.encode(some[:1], "no-such-encoding")


def test_graph_encoding_matches_graph_shape(any_space, some):
    assert "graph" in any_space.encodings  # every space feeds graph networks
    vertices, types = any_space.graph_shape
    assert any_space.encode(some[:3], "graph").shape == (3, vertices * vertices + vertices * types)


def test_spaces_import_neither_torch_nor_each_other_eagerly():
    code = (
        "import sys, nasbench.spaces; "
        "assert 'nasbench.spaces.nb101' not in sys.modules, 'nb101 loaded eagerly'; "
        "from nasbench.spaces import get_space; s = get_space('nb101'); s.sample(__import__('numpy').random.default_rng(0)); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
