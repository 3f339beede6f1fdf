"""Fuzzing the parsers a user's input reaches: architecture strings, indices, --param values,
result files and manifests. Each input is accepted or refused with the project's own error,
never a stray exception (issue 11, group 6)."""

from __future__ import annotations

import argparse
import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasbench.cli.args import param_arg
from nasbench.errors import (
    InvalidArchitectureError,
    NasbenchError,
    OutOfDomainError,
    TableError,
)
from nasbench.spaces import get_space
from nasbench.spaces.nb201 import NUM_CELLS, OPS, NB201Cell
from nasbench.study import StudyResult, check_params
from nasbench.table.manifest import Manifest
from strategies import get_strategy

SPACE = get_space("nb201")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cells = st.tuples(*[st.sampled_from(OPS)] * 6).map(NB201Cell)
near_strings = st.one_of(
    st.text(max_size=120),
    cells.map(str).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, len(s)), st.text(max_size=3)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :])),  # one character replaced
)


@FUZZ
@given(cells)
def test_every_cell_round_trips_through_its_string_and_index(cell):
    text = str(cell)
    assert SPACE.parse(text) == cell and SPACE.index_of(text) == cell.index
    assert SPACE.from_index(cell.index) == cell and SPACE.coerce(str(cell.index)) == cell


@FUZZ
@given(near_strings)
def test_any_string_is_a_cell_or_an_architecture_error(text):
    for call in (SPACE.parse, SPACE.coerce, SPACE.index_of):
        try:
            call(text)
        except (InvalidArchitectureError, OutOfDomainError):
            pass


@FUZZ
@given(st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=5)))
def test_any_index_is_a_cell_or_an_out_of_domain_error(value):
    try:
        cell = SPACE.from_index(value)
    except OutOfDomainError:
        return
    assert isinstance(value, int) and 0 <= value < NUM_CELLS and cell.index == value


@FUZZ
@given(st.text(max_size=60))
def test_any_param_text_parses_or_is_a_usage_error(text):
    try:
        name, _ = param_arg(text)
    except argparse.ArgumentTypeError:
        return
    assert name.isidentifier()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                      max_size=3), max_leaves=8)


@FUZZ
@given(st.dictionaries(st.sampled_from(["sample_size", "population_size", "warmup", "bogus"]), json_values,
                       max_size=3))
def test_any_params_are_accepted_or_refused_before_the_run(params):
    try:
        check_params(get_strategy("evolution"), params)
    except NasbenchError:
        pass


@pytest.fixture(scope="module")
def valid_result(tmp_path_factory, full_table) -> dict:
    from nasbench.oracle import Budget
    from nasbench.study import run_study

    result = run_study(get_strategy("random"), full_table, Budget(queries=5), [0, 1])
    return json.loads(json.dumps(result.to_dict()))


def _mutations(valid: dict) -> st.SearchStrategy:
    """The valid document with one field (top-level or in the first run) deleted or replaced."""
    top = st.sampled_from(sorted(valid))
    inner = st.sampled_from(sorted(valid["runs"][0]))

    def apply(choice: tuple) -> dict:
        where, key, delete, value = choice
        doc = copy.deepcopy(valid)
        target = doc if where == "top" else doc["runs"][0]
        if delete:
            target.pop(key, None)
        else:
            target[key] = value
        return doc

    return st.one_of(st.tuples(st.just("top"), top, st.booleans(), json_values),
                     st.tuples(st.just("run"), inner, st.booleans(), json_values)).map(apply)


def test_any_damaged_result_file_loads_or_is_one_error(valid_result, tmp_path):
    path = tmp_path / "r.json"

    @FUZZ
    @given(_mutations(valid_result))
    def check(doc):
        path.write_text(json.dumps(doc), encoding="utf-8")
        try:
            StudyResult.load(path)
        except NasbenchError:
            pass

    check()


@pytest.mark.parametrize("field", ["epochs", "indices", "trials"])
def test_an_integer_too_large_for_its_column_is_one_error(valid_result, tmp_path, field):
    """Found by the fuzz test above: epochs of 2**31 overflowed int32 as a raw OverflowError."""
    doc = copy.deepcopy(valid_result)
    doc["runs"][0][field] = [2**31 if field == "epochs" else 2**63] * len(doc["runs"][0][field])
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(NasbenchError, match="malformed"):
        StudyResult.load(path)


def test_any_damaged_manifest_loads_or_is_one_error(small_table):
    valid = json.loads(small_table.manifest.to_json())
    files = valid["files"]

    @FUZZ
    @given(st.sampled_from(sorted(valid)), st.booleans(), json_values,
           st.sampled_from(["path", "rows", "sha256"]))
    def check(key, delete, value, file_key):
        doc = copy.deepcopy(valid)
        if delete:
            doc.pop(key)
        elif key == "files":
            doc["files"] = copy.deepcopy(files)
            doc["files"][0][file_key] = value
        else:
            doc[key] = value
        try:
            Manifest.from_dict(doc, where="fuzz")
        except TableError:
            pass

    check()
