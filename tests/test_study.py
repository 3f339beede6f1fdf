"""The run loop, regret, summaries over seeds, result files and strategy faults."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from scipy import stats

from nasbench.errors import StrategyError, UnknownNameError
from nasbench.evaluation import (
    RegretCurve,
    incumbent_positions,
    query_checkpoints,
    regret_curve,
    summarize_by_queries,
    summarize_by_seconds,
)
from nasbench.oracle import Budget
from nasbench.study import StudyResult, run_once, run_study, seed_streams
from strategies import STRATEGIES, RandomSearch, Strategy, get_strategy

FIELDS = ("indices", "epochs", "values", "costs", "trials")


def _same_trajectories(a: StudyResult, b: StudyResult) -> bool:
    return a.seeds == b.seeds and all(
        np.array_equal(getattr(ra.trajectory, f), getattr(rb.trajectory, f))
        for ra, rb in zip(a.runs, b.runs)
        for f in FIELDS
    )


@pytest.fixture(scope="module")
def random_study(full_table) -> StudyResult:
    return run_study(RandomSearch, full_table, Budget(queries=60), seeds=range(4))


def test_same_seeds_identical_trajectories(full_table, random_study):
    again = run_study(RandomSearch, full_table, Budget(queries=60), seeds=range(4))
    assert _same_trajectories(random_study, again)
    for a, b in zip(random_study.runs, again.runs):
        np.testing.assert_array_equal(a.regret.regret, b.regret.regret)
    other = run_study(RandomSearch, full_table, Budget(queries=60), seeds=range(4, 8))
    for a, b in zip(random_study.runs, other.runs):
        assert not np.array_equal(a.trajectory.indices, b.trajectory.indices)
    firsts = [tuple(run.trajectory.indices[:5]) for run in random_study.runs]
    assert len(set(firsts)) == len(firsts)  # seeds within a study differ too


def test_a_run_is_independent_of_the_other_seeds(full_table, random_study):
    alone = run_once(RandomSearch, full_table, Budget(queries=60), seed=2)
    np.testing.assert_array_equal(alone.indices, random_study.runs[2].trajectory.indices)
    np.testing.assert_array_equal(alone.trials, random_study.runs[2].trajectory.trials)


def test_random_search_never_repeats_and_follows_its_seed(full_table, random_study):
    for run in random_study.runs:
        indices = run.trajectory.indices
        assert len(indices) == 60 and len(set(indices.tolist())) == 60
        strategy_rng, _ = seed_streams(run.seed)
        np.testing.assert_array_equal(indices, strategy_rng.permutation(15_625)[:60])


def test_random_search_walks_the_recorded_cells_of_a_partial_table(small_table):
    """On a 200-arch table random search draws among the recorded cells (nasbench.spaces.subset),
    never an absent one, and stops when it has queried all of them."""
    result = run_study(RandomSearch, small_table, Budget(queries=300), seeds=[0])
    indices = result.runs[0].trajectory.indices
    assert len(indices) == 200 and sorted(indices.tolist()) == small_table.indices.tolist()


def test_result_metadata(full_table, random_study):
    assert random_study.strategy == "random" and random_study.strategy_version == "1"
    assert random_study.table == "synth-full" and random_study.table_sha256 == full_table.sha256
    assert random_study.synthetic is True and random_study.trial == "sample"
    assert random_study.seeds == [0, 1, 2, 3] and random_study.params == {}
    assert "nasbench" in random_study.versions


def test_regret_is_non_negative_and_correct(full_table, random_study):
    """Regret is the test-accuracy gap of the *validation* incumbent, so it is
    non-negative and changes only when the incumbent does; it is not monotone (a new
    incumbent with better validation accuracy can have worse test accuracy)."""
    final_test = full_table.curve("test_acc")[:, :, -1].astype(np.float64).mean(axis=1)
    best = final_test.max()
    for run in random_study.runs:
        regret, incumbents = run.regret.regret, run.regret.incumbents
        assert (regret >= 0).all()
        unchanged = incumbents[1:] == incumbents[:-1]
        np.testing.assert_array_equal(regret[1:][unchanged], regret[:-1][unchanged])
        value_of = dict(zip(run.trajectory.indices.tolist(), run.trajectory.values.tolist()))
        incumbent_values = [value_of[i] for i in incumbents.tolist()]  # no repeats in random search
        np.testing.assert_array_equal(incumbent_values, np.maximum.accumulate(run.trajectory.values))
        np.testing.assert_array_equal(run.regret.seconds, np.cumsum(run.trajectory.costs))
        np.testing.assert_array_equal(run.regret.queries, np.arange(1, 61))
    # By hand for one run: the incumbent is the first best validation value so far.
    run = random_study.runs[0]
    incumbent, best_value, expected = None, -np.inf, []
    for index, value in zip(run.trajectory.indices, run.trajectory.values):
        if value > best_value:
            incumbent, best_value = index, value
        expected.append(best - final_test[incumbent])
    np.testing.assert_allclose(run.regret.regret, expected, rtol=0, atol=1e-4)
    assert run.regret.incumbents[-1] == incumbent


@pytest.mark.parametrize(
    "values, expected",
    [
        ([1, 3, 2, 3, 5, 5, 0], [0, 1, 1, 1, 4, 4, 4]),
        ([2, 2, 2], [0, 0, 0]),
        ([-5, -3, -4, -3], [0, 1, 1, 1]),
        ([7], [0]),
        ([], []),
        ([1.0, 1.0 + 1e-12, 1.0], [0, 1, 1]),
    ],
)
def test_incumbent_positions(values, expected):
    positions = incumbent_positions(np.array(values, dtype=np.float64))
    assert positions.tolist() == expected


def _curve(seconds, regret) -> RegretCurve:
    seconds = np.asarray(seconds, dtype=np.float64)
    return RegretCurve(seconds, np.zeros(len(seconds), dtype=np.int64), np.asarray(regret, dtype=np.float64))


def test_summarize_by_queries_against_scipy():
    """Five or more seeds: Student's t interval."""
    curves = [
        _curve([1, 2, 3, 4, 5], [9.0, 7.0, 7.0, 3.0, 1.0]),
        _curve([1, 2, 3, 4, 5], [8.0, 8.0, 4.0, 4.0, 2.0]),
        _curve([1, 2, 3], [6.0, 5.0, 5.0]),  # stopped early: keeps its last value
        _curve([1, 2, 3, 4, 5], [7.0, 6.0, 6.0, 6.0, 3.0]),
        _curve([1, 2, 3, 4, 5], [9.5, 9.0, 8.0, 2.0, 2.0]),
    ]
    summary = summarize_by_queries(curves, [1, 3, 5])
    samples = np.array([[9.0, 7.0, 1.0], [8.0, 4.0, 2.0], [6.0, 5.0, 5.0], [7.0, 6.0, 3.0], [9.5, 8.0, 2.0]])
    mean = samples.mean(axis=0)
    half = stats.t.ppf(0.975, 4) * samples.std(axis=0, ddof=1) / np.sqrt(5)
    np.testing.assert_array_equal(summary.at, [1, 3, 5])
    np.testing.assert_allclose(summary.mean, mean)
    np.testing.assert_allclose(summary.low, np.maximum(mean - half, 0))  # regret is never negative
    np.testing.assert_allclose(summary.high, mean + half)
    np.testing.assert_array_equal(summary.n, [5, 5, 5])


def test_summary_of_one_seed_has_no_interval():
    summary = summarize_by_queries([_curve([1, 2], [4.0, 2.0])], [1, 2])
    np.testing.assert_array_equal(summary.mean, [4.0, 2.0])
    assert np.isnan(summary.low).all() and np.isnan(summary.high).all()
    np.testing.assert_array_equal(summary.n, [1, 1])


def test_summarize_by_seconds_carries_forward_and_is_nan_before_the_first_query():
    curves = [_curve([1.0, 2.0, 4.0], [5.0, 3.0, 1.0]), _curve([2.5, 3.0], [6.0, 2.0])]
    summary = summarize_by_seconds(curves, [0.5, 1.0, 2.0, 3.0, 10.0])
    by_seed = np.array([[np.nan, 5.0, 3.0, 3.0, 1.0], [np.nan, np.nan, np.nan, 2.0, 2.0]])
    np.testing.assert_array_equal(summary.n, [0, 1, 1, 2, 2])
    assert np.isnan(summary.mean[0])
    np.testing.assert_allclose(summary.mean[1:], np.nanmean(by_seed[:, 1:], axis=0))
    # two seeds: Student's t with 1 degree of freedom, 12.71 x sd / sqrt(2) (not their [min, max])
    np.testing.assert_allclose(summary.high[3:], [2.5, 1.5] + 12.7062047 * np.sqrt(0.5) / np.sqrt(2), rtol=1e-6)
    np.testing.assert_array_equal(summary.low[3:], [0.0, 0.0])  # clipped at 0
    assert np.isnan(summary.low[:3]).all()


def test_query_checkpoints():
    assert query_checkpoints(20) == [1, 10, 20]
    assert query_checkpoints(1) == [1]
    assert query_checkpoints(300) == [1, 10, 25, 50, 100, 150, 200, 300]


def test_study_result_round_trip(tmp_path, random_study):
    path = tmp_path / "sub" / "result.json"
    random_study.save(path)
    loaded = StudyResult.load(path)
    for name in ("strategy", "strategy_version", "params", "table", "table_sha256", "synthetic", "budget", "trial", "versions"):
        assert getattr(loaded, name) == getattr(random_study, name), name
    assert loaded.seeds == random_study.seeds
    for a, b in zip(loaded.runs, random_study.runs):
        for f in FIELDS:
            x, y = getattr(a.trajectory, f), getattr(b.trajectory, f)
            assert x.dtype == y.dtype and np.array_equal(x, y), f
        for f in ("seconds", "incumbents", "regret"):
            np.testing.assert_array_equal(getattr(a.regret, f), getattr(b.regret, f))
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]  # written atomically


def test_study_result_load_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something/9"}')
    with pytest.raises(Exception, match="something/9"):
        StudyResult.load(bad)
    with pytest.raises(Exception, match="cannot be read"):
        StudyResult.load(tmp_path / "missing.json")


def test_regret_curve_of_an_empty_trajectory(full_table):
    trajectory = run_once(RandomSearch, full_table, Budget(seconds=1e-3), seed=0)
    assert len(trajectory) == 0
    assert len(regret_curve(full_table, trajectory).regret) == 0


# -- strategy faults ------------------------------------------------------------------------


class _Base(Strategy):
    name = ""

    def __init__(self, space, rng, max_epochs=None):
        super().__init__(space, rng, max_epochs)
        self.count = 0

    def ask(self):
        self.count += 1
        return self.space.sample(self.rng)


class RaisesInAsk(_Base):
    name = "raises-in-ask"

    def ask(self):
        raise ValueError("boom in ask")


class Malformed(_Base):
    name = "malformed"

    def ask(self):
        return "|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"


class OutOfRange(_Base):
    name = "out-of-range"

    def ask(self):
        return 99_999


class BadFidelity(_Base):
    name = "bad-fidelity"

    def ask(self):
        return (self.space.from_index(0), 0)


class RaisesInTell(_Base):
    name = "raises-in-tell"

    def tell(self, observation):
        raise RuntimeError("boom in tell")


class BadInit(_Base):
    name = "bad-init"

    def __init__(self, space, rng, max_epochs=None):
        raise TypeError("cannot start")


class StopsAfterThree(_Base):
    name = "stops"

    def ask(self):
        if self.count == 3:
            raise StopIteration
        return super().ask()


class LowFidelity(_Base):
    name = "low-fidelity"

    def ask(self):
        self.count += 1
        return (self.count, 1 + self.count % self.max_epochs)


@pytest.mark.parametrize(
    "strategy, fragment",
    [
        (RaisesInAsk, "ask() raised ValueError: boom in ask"),
        (Malformed, "conv_5x5"),
        (OutOfRange, "99999"),
        (BadFidelity, "epochs"),
        (RaisesInTell, "tell() raised RuntimeError: boom in tell"),
        (BadInit, "could not be created"),
    ],
)
def test_strategy_faults_name_the_strategy_and_seed(full_table, strategy, fragment):
    with pytest.raises(StrategyError) as info:
        run_study(strategy, full_table, Budget(queries=5), seeds=[3, 7] if strategy is not BadInit else [7])
    message = str(info.value)
    assert f"'{strategy.name}'" in message and "seed" in message and fragment in message


def test_fault_message_names_the_failing_seed(full_table):
    with pytest.raises(StrategyError, match=r"'raises-in-tell' \(seed 11\)"):
        run_study(RaisesInTell, full_table, Budget(queries=5), seeds=[11])


def test_malformed_proposal_tuple_is_a_strategy_error(full_table):
    class ThreeTuple(_Base):
        name = "three-tuple"

        def ask(self):
            return (0, 1, 2)

    with pytest.raises(StrategyError, match="three-tuple"):
        run_study(ThreeTuple, full_table, Budget(queries=5), seeds=[0])


def test_strategy_that_stops_ends_the_run_cleanly(full_table):
    result = run_study(StopsAfterThree, full_table, Budget(queries=50), seeds=[0, 1])
    assert [len(run.trajectory) for run in result.runs] == [3, 3]
    assert result.strategy == "stops"


def test_strategy_can_ask_for_lower_fidelity(full_table):
    result = run_study(LowFidelity, full_table, Budget(queries=8), seeds=[0])
    trajectory = result.runs[0].trajectory
    np.testing.assert_array_equal(trajectory.indices, np.arange(1, 9))
    np.testing.assert_array_equal(trajectory.epochs, [1 + k % 6 for k in range(1, 9)])


def test_user_strategy_from_a_file(tmp_path, full_table):
    path = tmp_path / "my_strategy.py"
    path.write_text(
        textwrap.dedent(
            """
            from strategies.base import Strategy

            class Greedy(Strategy):
                version = "7"

                def __init__(self, space, rng, max_epochs=None):
                    super().__init__(space, rng, max_epochs)
                    self.best = None

                def ask(self):
                    if self.best is None:
                        return self.space.sample(self.rng)
                    return self.space.mutate(self.best[1], self.rng)

                def tell(self, observation):
                    if self.best is None or observation.value > self.best[0]:
                        self.best = (observation.value, observation.arch)

            NotAStrategy = 5
            """
        )
    )
    cls = get_strategy(f"{path}:Greedy")
    assert issubclass(cls, Strategy) and cls.name == "Greedy"
    result = run_study(cls, full_table, Budget(queries=15), seeds=[0, 1])
    assert result.strategy == "Greedy" and result.strategy_version == "7"
    assert all(len(run.trajectory) == 15 for run in result.runs)
    again = run_study(cls, full_table, Budget(queries=15), seeds=[0, 1])
    assert _same_trajectories(result, again)
    with pytest.raises(UnknownNameError, match="NotAStrategy"):
        get_strategy(f"{path}:NotAStrategy")
    with pytest.raises(UnknownNameError, match="Missing"):
        get_strategy(f"{path}:Missing")
    with pytest.raises(UnknownNameError, match="does not exist"):
        get_strategy(f"{tmp_path / 'nope.py'}:Greedy")


def test_unknown_strategy_lists_the_known_ones():
    assert "random" in STRATEGIES and get_strategy("random") is RandomSearch
    with pytest.raises(UnknownNameError, match="'nope'") as info:
        get_strategy("nope")
    assert "random" in str(info.value)


def test_seconds_only_budget(full_table):
    seconds = 60.0
    result = run_study(RandomSearch, full_table, Budget(seconds=seconds), seeds=[0, 1], trial="mean")
    cumulative = full_table.cumulative_seconds()[:, :, -1].astype(np.float64).mean(axis=1)
    for run in result.runs:
        trajectory = run.trajectory
        assert 0 < len(trajectory) and trajectory.elapsed[-1] <= seconds
        order = seed_streams(run.seed)[0].permutation(15_625)
        np.testing.assert_array_equal(trajectory.indices, order[: len(trajectory)])
        next_cost = cumulative[order[len(trajectory)]]
        assert trajectory.elapsed[-1] + next_cost > seconds  # stopped only when the next would not fit
