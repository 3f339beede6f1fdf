"""The benchmark contract: strategies see only the protocol module; trajectories and result
files name architectures by string; a space that cannot be enumerated works the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench.benchmarks import Answer, Benchmark, as_benchmark
from nasbench.errors import OutOfDomainError
from nasbench.hardware import HardwareView
from nasbench.oracle import Budget, Oracle
from nasbench.spaces import NB201Space
from nasbench.study import StudyResult, run_once, run_study
from strategies import get_strategy

REPO = Path(__file__).resolve().parents[1]


def test_strategies_import_no_table_io_and_no_oracle():
    code = ("import sys, importlib, pkgutil, strategies\n"
            "for m in pkgutil.iter_modules(strategies.__path__): importlib.import_module('strategies.' + m.name)\n"
            "heavy = ('nasbench.table', 'nasbench.oracle', 'nasbench.benchmarks', 'nasbench.study', 'pyarrow', "
            "'pandas', 'torch')\n"
            "print(sorted(m for m in sys.modules if m.startswith(heavy)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_trajectories_name_architectures_by_canonical_string(full_table):
    oracle = Oracle(full_table, Budget(queries=5), rng=0)
    space = full_table.space
    for index in (3, 77, 3):
        oracle.query(index)
    trajectory = oracle.trajectory()
    assert trajectory.archs == tuple(space.to_string(space.from_index(i)) for i in (3, 77, 3))
    np.testing.assert_array_equal(trajectory.indices, [3, 77, 3])


def test_a_format_1_result_loads_and_reruns_bit_for_bit():
    """A leaderboard entry written before the benchmark contract: same trajectories today."""
    from nasbench.table import load_table

    path = REPO / "leaderboard/entries/nb201-mnist1d/evolution.json"
    assert json.loads(path.read_text())["format"] == "nasbench.study/1"
    old = StudyResult.load(path)
    table = load_table("nb201-mnist1d")
    assert table.matches(old.table_sha256) and old.benchmark == "table"
    run = old.runs[0]
    space = NB201Space()
    assert run.trajectory.archs == tuple(space.to_string(space.from_index(int(i))) for i in run.trajectory.indices)
    again = run_once(get_strategy(old.strategy), table, old.budget, run.seed, old.params, old.trial)
    np.testing.assert_array_equal(again.indices, run.trajectory.indices)
    np.testing.assert_array_equal(again.values, run.trajectory.values)
    np.testing.assert_array_equal(again.costs, run.trajectory.costs)


def test_format_2_round_trip_keeps_archs_and_benchmark_kind(full_table, tmp_path):
    result = run_study(get_strategy("random"), full_table, Budget(queries=20), [0, 1])
    result.save(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["format"] == "nasbench.study/2" and data["benchmark"] == "table"
    loaded = StudyResult.load(tmp_path / "r.json")
    for a, b in zip(loaded.runs, result.runs):
        assert a.trajectory.archs == b.trajectory.archs and len(a.trajectory.archs) == 20
    data["runs"][0]["archs"] = data["runs"][0]["archs"][:-1]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(Exception, match="archs and indices differ in length"):
        StudyResult.load(tmp_path / "bad.json")


# -- a space too large to enumerate --------------------------------------------------------
class UnindexedSpace(NB201Space):
    """NB201 cells with no integer index: stands in for a space of 10^18 architectures."""

    name = "nb201-unindexed"
    size = None

    def index(self, arch: Any) -> int:
        raise OutOfDomainError("this space has no integer index")


class StringBenchmark(Benchmark):
    """Answers from a dict keyed by canonical string: no index anywhere."""

    kind = "table"

    def __init__(self, table) -> None:
        self.space = UnindexedSpace()
        self.name, self.sha256, self.synthetic, self.epochs = "by-string", "0" * 64, True, table.epochs
        base = table.space
        valid = table.final("valid_acc")
        self._valid = {base.to_string(base.from_index(int(i))): float(valid[i]) for i in table.indices}
        test = table.final("test_acc")
        self._test = {base.to_string(base.from_index(int(i))): float(test[i]) for i in table.indices}
        self.asked: list[int] = []

    def answer(self, arch: Any, index: int, epochs: int, rng: np.random.Generator | None) -> Answer:
        self.asked.append(index)
        return Answer(self._valid[self.space.to_string(arch)], 1.0, -1)

    def test_accuracy(self, archs: Sequence[Any]) -> np.ndarray:
        return np.array([self._test[self.space.to_string(self.space.coerce(a))] for a in archs])

    def best_test_accuracy(self, hardware: HardwareView | None = None) -> float:
        return max(self._test.values())

    def hardware(self, device: str, max_ms: float | None = None) -> HardwareView:
        raise OutOfDomainError("no latency here")


@pytest.mark.parametrize("strategy", ["evolution", "local-search"])
def test_a_space_without_indices_runs_and_scores_by_string(full_table, strategy):
    benchmark = StringBenchmark(full_table)
    assert as_benchmark(benchmark) is benchmark
    result = run_study(get_strategy(strategy), benchmark, Budget(queries=60), [0], trial="mean")
    run = result.runs[0]
    assert set(benchmark.asked) == {-1} and set(run.trajectory.indices.tolist()) == {-1}
    assert len(run.trajectory.archs) == 60
    test = benchmark.test_accuracy(run.trajectory.archs)
    best_valid = int(np.argmax(run.trajectory.values))
    assert run.regret.regret[-1] == pytest.approx(benchmark.best_test_accuracy() - test[best_valid])
    assert np.all(np.diff(run.regret.regret)[np.diff(run.trajectory.values.cummax() if hasattr(np, "x") else
                  np.maximum.accumulate(run.trajectory.values)) == 0] == 0)
