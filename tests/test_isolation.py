"""Strategies in a process of their own (issue 11, group 4): the same trajectories as in-process
for every registered strategy, the isolation recorded in the result, and cheating strategies
of each kind that get nothing there (while in-process they do: the tests say so, so that they
keep proving something)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nasbench.errors import NasbenchError, StrategyError
from nasbench.isolation import SANDBOX_ENV, IsolatedStrategy
from nasbench.oracle import Budget
from nasbench.sandbox import landlock_abi
from nasbench.study import StudyResult, run_once, run_study
from strategies import STRATEGIES, get_strategy

FIELDS = ("indices", "epochs", "values", "costs", "trials")
PARAMS = {"bananas": {"num_init": 8, "batch_size": 4, "num_candidates": 20}}  # its model fitted and used, quickly
DEVICE = "synthetic-cpu-b1"
HAVE_LANDLOCK = landlock_abi()[0] > 0
needs_landlock = pytest.mark.skipif(not HAVE_LANDLOCK, reason=f"no Landlock here: {landlock_abi()[1]}")

CHEATERS = textwrap.dedent(
    '''
    import gc
    import os
    import sys

    import numpy as np

    from strategies.base import Strategy


    def best_of(table):
        return int(np.nanargmax(table.final("test_acc")))


    def is_table(value):
        return type(value).__name__ == "Table" and hasattr(value, "final")


    class Honest(Strategy):
        """Proposes 0, 1, 2, ... unless cheating found something better to propose."""

        def __init__(self, space, rng, max_epochs=None, hardware=None, path=""):
            super().__init__(space, rng, max_epochs, hardware)
            self.path, self.next = path, 0
            self.stolen = self.steal()

        def steal(self):
            return None

        def ask(self):
            if self.stolen is not None:
                return self.space.from_index(self.stolen)
            self.next += 1
            return self.space.from_index(self.next - 1)


    class GcCheater(Honest):
        """(a) searches the heap for a table (the one named ``path``: other tests leave tables alive)."""

        def steal(self):
            for value in gc.get_objects():
                if is_table(value) and value.name == self.path:
                    return best_of(value)
            return None


    class FrameCheater(Honest):
        """(b) walks up the caller's frames to the run loop's table."""

        def steal(self):
            frame = sys._getframe()
            while frame is not None:
                for value in list(frame.f_locals.values()):
                    if is_table(value):
                        return best_of(value)
                frame = frame.f_back
            return None


    class LoadCheater(Honest):
        """(c) loads the table itself, by its folder."""

        def steal(self):
            from nasbench.table import load_table

            return best_of(load_table(self.path))


    class OffBooksCheater(Honest):
        """(d) queries every cell off the books: a private oracle on the run loop's table, or,
        without one, answers forged on the pipe to the run loop."""

        def steal(self):
            frame = sys._getframe()
            while frame is not None:
                for value in list(frame.f_locals.values()):
                    if is_table(value):
                        from nasbench.oracle import Budget, Oracle

                        oracle = Oracle(value, Budget(queries=10**6), trial="mean")
                        cells = np.flatnonzero(value.present)
                        return int(cells[np.argmax([oracle.query(int(i)) for i in cells])])
                frame = frame.f_back
            from nasbench.channel import send_json

            send_json(int(sys.argv[4]), {"arch": self.space.to_string(self.space.from_index(5)), "epochs": None})
            return None


    class FileSpy(Honest):
        """Opens each of ``path`` (os.pathsep-separated) and reports which opened."""

        def ask(self):
            opened, paths = [], self.path.split(os.pathsep)
            for path in paths:
                try:
                    with open(path, "rb") as handle:
                        handle.read(1)
                    opened.append(path)
                except OSError:
                    pass
            raise RuntimeError(f"opened {len(opened)} of {len(paths)}: {opened}")
    '''
)


@pytest.fixture
def cheaters(tmp_path: Path) -> Path:
    path = tmp_path / "cheaters.py"
    path.write_text(CHEATERS)
    return path


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in FIELDS)


# -- same trajectories, bit for bit ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STRATEGIES.names()))
def test_every_registered_strategy_runs_the_same_isolated(full_table, name):
    cls = get_strategy(name)
    kwargs = {"latency_device": DEVICE} if cls.multi_objective else {}
    budget = Budget(queries=12)
    params = PARAMS.get(name)
    inside = run_study(cls, full_table, budget, [0, 1], params, **kwargs)
    isolated = run_study(cls, full_table, budget, [0, 1], params, isolate=True, **kwargs)
    assert isolated.seeds == inside.seeds == [0, 1]
    for a, b in zip(inside.runs, isolated.runs):
        assert _same(a.trajectory, b.trajectory)
        np.testing.assert_array_equal(a.regret.regret, b.regret.regret)
    assert inside.isolation == {"process": False, "filesystem": "none", "timeout_s": None}
    assert isolated.isolation["process"] is True
    assert isolated.isolation["filesystem"] == ("landlock" if HAVE_LANDLOCK else "none")
    assert (isolated.strategy, isolated.strategy_version, isolated.strategy_source) == (
        inside.strategy, inside.strategy_version, inside.strategy_source)


def test_a_latency_limit_reaches_the_isolated_strategy(full_table):
    from nasbench.hardware import HardwareView

    limit = float(np.nanquantile(full_table.latency(DEVICE), 0.2))
    hardware = HardwareView.from_table(full_table, DEVICE, limit)
    cls = get_strategy("evolution")
    with IsolatedStrategy.from_class(cls, [full_table.path]) as isolated:
        far = run_once(isolated, full_table, Budget(queries=30), 4, hardware=hardware)
    assert _same(far, run_once(cls, full_table, Budget(queries=30), 4, hardware=hardware))
    assert np.all(full_table.latency(DEVICE)[far.indices] <= limit)


def test_isolation_is_recorded_in_the_result_file_and_old_files_load(full_table, tmp_path):
    result = run_study(get_strategy("random"), full_table, Budget(queries=3), [0], isolate=True, timeout=30)
    path = tmp_path / "result.json"
    result.save(path)
    data = json.loads(path.read_text())
    assert data["isolation"]["process"] is True and data["isolation"]["timeout_s"] == 30
    assert StudyResult.load(path).isolation == result.isolation
    del data["isolation"]  # a result written before isolation existed
    path.write_text(json.dumps(data))
    assert StudyResult.load(path).isolation is None


# -- cheaters: each kind gets nothing in isolation -------------------------------------------------


@pytest.mark.parametrize("kind", ["GcCheater", "FrameCheater"])
def test_heap_and_frame_cheaters_find_the_table_in_process_only(full_table, cheaters, kind):
    cls = get_strategy(f"{cheaters}:{kind}")
    params = {"path": full_table.name} if kind == "GcCheater" else None
    inside = run_study(cls, full_table, Budget(queries=4), [0], params)
    assert inside.runs[0].regret.regret[0] == 0  # the hole that isolation closes
    isolated = run_study(cls, full_table, Budget(queries=4), [0], params, isolate=True)
    assert isolated.runs[0].trajectory.indices.tolist() == [0, 1, 2, 3]  # it found nothing: honest
    assert isolated.runs[0].regret.regret[0] > 0


@needs_landlock
def test_loading_the_table_by_its_folder_fails_in_the_sandbox(full_table, full_table_dir, cheaters):
    cls = get_strategy(f"{cheaters}:LoadCheater")
    params = {"path": str(full_table_dir)}
    inside = run_study(cls, full_table, Budget(queries=2), [0], params)
    assert inside.runs[0].regret.regret[0] == 0
    with pytest.raises(StrategyError, match=r"cheaters.py:\d+: strategy 'LoadCheater' \(seed 0\): could not be "
                                            r"created: .*Permission denied"):
        run_study(cls, full_table, Budget(queries=2), [0], params, isolate=True)


def test_without_the_filesystem_sandbox_the_process_alone_does_not_stop_file_reads(
        full_table, full_table_dir, cheaters, monkeypatch):
    """What isolation gives where Landlock is missing: no table in memory, but the files are
    readable; the result says so, and the leaderboard can refuse it."""
    monkeypatch.setenv(SANDBOX_ENV, "off")
    cls = get_strategy(f"{cheaters}:LoadCheater")
    result = run_study(cls, full_table, Budget(queries=2), [0], {"path": str(full_table_dir)}, isolate=True)
    assert result.runs[0].regret.regret[0] == 0
    assert result.isolation["process"] is True and result.isolation["filesystem"] == "none"
    assert SANDBOX_ENV in result.isolation["detail"]


@needs_landlock
def test_the_sandbox_refuses_table_files_the_load_cache_and_the_parents_memory(
        full_table, full_table_dir, load_cache_root, cheaters):
    secrets = [*map(str, sorted(full_table_dir.rglob("*.*"))), *map(str, sorted(load_cache_root.rglob("*.*"))),
               f"/proc/{os.getpid()}/mem", f"/proc/{os.getpid()}/environ"]
    assert len(secrets) > 4
    cls = get_strategy(f"{cheaters}:FileSpy")
    with pytest.raises(StrategyError, match=rf"opened 0 of {len(secrets)}: \[\]"):
        run_study(cls, full_table, Budget(queries=1), [0], {"path": os.pathsep.join(secrets)}, isolate=True)
    with pytest.raises(StrategyError, match=r"opened [1-9]\d* of"):  # in-process, the table files open
        run_study(cls, full_table, Budget(queries=1), [0], {"path": os.pathsep.join(secrets)})


def test_off_the_books_queries_are_impossible_in_isolation(full_table, cheaters):
    cls = get_strategy(f"{cheaters}:OffBooksCheater")
    inside = run_study(cls, full_table, Budget(queries=3), [0])
    assert len(inside.runs[0].trajectory) == 3  # 15,625 queries made, 3 on the books
    valid = np.nanmean(full_table.curve("valid_acc")[:, :, -1], axis=1)
    assert inside.runs[0].trajectory.indices[0] == int(np.nanargmax(valid))
    with pytest.raises(StrategyError, match="broke the protocol during __init__.*expected created"):
        run_study(cls, full_table, Budget(queries=3), [0], isolate=True)


def test_a_table_never_travels_to_the_strategy_process(full_table):
    with IsolatedStrategy.from_class(get_strategy("random"), [full_table.path]) as isolated:
        with pytest.raises(NasbenchError, match="a Table must never reach the strategy's process"):
            isolated.check_params({"leak": [full_table]})
