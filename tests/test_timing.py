"""The drift-free timing protocol (nasbench.timing) on synthetic timings with injected drift."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.timing import TimingProtocol, default_bins, order_share, run_protocol, schedule

N_ITEMS = 600


class DriftingClock:
    """Times item i as cost[i] x drift(call count) x noise: a machine whose load changes."""

    def __init__(self, drift: bool, noise: float = 0.03, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.cost = np.exp(rng.normal(0.0, 0.35, 20_000))  # the architecture effect
        self.noise, self.rng, self.drift, self.calls = noise, rng, drift, 0

    def factor(self, call: int) -> float:
        if not self.drift:
            return 1.0
        # slow load waves plus a step (another job starts): up to ~2x slower
        return float(np.exp(0.35 * np.sin(call / 150.0) + 0.25 * (call > 700) + 0.15 * np.sin(call / 37.0)))

    def __call__(self, item: int) -> float:
        value = self.cost[item] * self.factor(self.calls) * np.exp(self.rng.normal(0.0, self.noise))
        self.calls += 1
        return value


def test_schedule_brackets_every_block_with_the_reference():
    items = np.arange(10, 30)
    sequence, is_ref = schedule(items, reference=99, every=6, seed=3, pass_index=0)
    assert np.flatnonzero(is_ref).tolist() == [0, 7, 14, 21, len(sequence) - 1]
    assert np.all(sequence[is_ref] == 99) and sorted(sequence[~is_ref]) == items.tolist()
    other, _ = schedule(items, reference=99, every=6, seed=3, pass_index=1)
    assert not np.array_equal(sequence, other)  # another pass, another order
    assert np.array_equal(sequence, schedule(items, 99, 6, 3, 0)[0])  # seeded


def test_drift_is_detected_and_removed():
    clock = DriftingClock(drift=True)
    items = np.arange(N_ITEMS)
    result = run_protocol(items, clock, reference=int(np.argsort(clock.cost[:N_ITEMS])[N_ITEMS // 2]),
                          protocol=TimingProtocol(every=10, passes=2, seed=1))
    report = result.reports[0]
    assert report.order_share_before > 0.25  # the injected drift dominates the raw column
    assert report.order_share_after < 0.05  # the target
    assert report.order_share_column <= report.order_share_after  # what is left averages over the passes
    assert report.lag1_before > 0.3 and abs(report.lag1_after) < 0.2
    assert report.spearman_after > report.spearman_before
    assert report.drift_high / report.drift_low > 1.5
    truth = np.log(clock.cost[items])
    error = np.log(result.values[:, 0]) - truth
    assert np.std(error) < 0.06  # corrected values track the true cost up to a common factor
    raw_error = np.log(np.median(result.raw[:, :, 0], axis=0)) - truth
    assert np.std(error) < 0.5 * np.std(raw_error)


def test_no_drift_reads_as_about_zero():
    clock = DriftingClock(drift=False)
    result = run_protocol(np.arange(N_ITEMS), clock, reference=5, protocol=TimingProtocol(every=10, seed=2))
    report = result.reports[0]
    assert report.order_share_before < 0.02 and report.order_share_after < 0.02
    assert report.spearman_before > 0.95


def test_order_share_is_the_drift_share_of_the_variance():
    rng = np.random.default_rng(0)
    n = 4000
    arch = rng.normal(0, 1.0, n)
    positions = np.vstack([rng.permutation(n), rng.permutation(n)])
    drift = 0.5 * np.sin(positions / 400.0)  # variance 0.125 against 1 + 0.125 + noise
    values = arch + drift + rng.normal(0, 0.1, (2, n))
    share = order_share(values, positions, bins=100)
    expected = 0.125 / (1 + 0.125 + 0.01)
    assert share == pytest.approx([expected, expected], abs=0.03)


def test_drift_source_rescales_a_companion_column():
    clock = DriftingClock(drift=True)

    def median_and_spread(item: int) -> list[float]:
        value = clock(item)
        return [value, 0.1 * value]

    result = run_protocol(np.arange(200), median_and_spread, reference=0, protocol=TimingProtocol(every=8),
                          drift_source=[0, 0])
    assert set(result.reports) == {0}
    np.testing.assert_allclose(result.corrected[:, :, 1], 0.1 * result.corrected[:, :, 0])
    with pytest.raises(NasbenchError, match="drift_source"):
        run_protocol(np.arange(20), median_and_spread, reference=0, drift_source=[1, 0])


def test_an_interrupted_run_resumes_from_its_segments(tmp_path):
    protocol = TimingProtocol(every=5, passes=2, seed=0, segment=20)
    calls, kill_at = [], [60]

    class Killed(Exception):
        pass

    def clock(item: int) -> float:
        calls.append(item)
        if len(calls) == kill_at[0]:
            kill_at[0] = -1
            raise Killed
        return 1.0 + item % 7

    with pytest.raises(Killed):
        run_protocol(np.arange(100), clock, reference=3, protocol=protocol, store=tmp_path / "run")
    stored = sorted(p.name for p in (tmp_path / "run").glob("pass-*.parquet"))
    assert stored == ["pass-0-00000.parquet", "pass-0-00001.parquet"]  # two whole segments of 24 steps
    calls.clear()
    first = run_protocol(np.arange(100), clock, reference=3, protocol=protocol, store=tmp_path / "run")
    assert len(calls) == 1 + 2 * (100 + 21) - 48  # a warm-up call, then only what was missing
    calls.clear()
    again = run_protocol(np.arange(100), clock, reference=3, protocol=protocol, store=tmp_path / "run")
    assert calls == [] and np.array_equal(first.values, again.values)
    np.testing.assert_allclose(first.values[:, 0], 1.0 + np.arange(100) % 7)
    with pytest.raises(NasbenchError, match="every=5, not 4"):
        run_protocol(np.arange(100), clock, reference=3, protocol=TimingProtocol(every=4, segment=20),
                     store=tmp_path / "run")


def test_bad_settings_are_named():
    with pytest.raises(NasbenchError, match="passes must be an integer >= 2"):
        TimingProtocol(passes=1)
    with pytest.raises(NasbenchError, match="every"):
        TimingProtocol(every=0)
    with pytest.raises(NasbenchError, match="distinct"):
        run_protocol([1, 1], lambda i: 1.0, reference=1)
    with pytest.raises(NasbenchError, match="non-negative finite"):
        run_protocol([1, 2], lambda i: float("nan"), reference=1)


def test_a_resumed_run_never_corrects_with_a_reference_timed_in_the_other_session(tmp_path):
    """Killed at a segment boundary, resumed on a machine twice as slow: the stored segment's
    last block must not be divided by the slow session's reference."""
    protocol = TimingProtocol(every=8, passes=2, seed=0, segment=64)
    cost = 1.0 + np.arange(200) % 5
    speed, calls = [1.0], [0]

    class Killed(Exception):
        pass

    def clock(item: int) -> float:
        calls[0] += 1
        if calls[0] == 150:
            raise Killed
        return float(cost[item] * speed[0])

    with pytest.raises(Killed):
        run_protocol(np.arange(200), clock, reference=0, protocol=protocol, store=tmp_path / "run")
    speed[0] = 2.0  # the machine is busier after the resume
    result = run_protocol(np.arange(200), clock, reference=0, protocol=protocol, store=tmp_path / "run")
    ratio = result.corrected[:, :, 0] / cost  # the same constant everywhere when the correction is right
    np.testing.assert_allclose(ratio, ratio[0, 0])


def test_stored_timings_of_other_items_are_refused(tmp_path):
    protocol = TimingProtocol(every=4, passes=2, seed=0, segment=8)
    items = np.arange(20)
    run_protocol(items, lambda i: 1.0 + i, reference=0, protocol=protocol, store=tmp_path / "run")
    swapped = items.copy()
    swapped[[8, 9]] = swapped[[9, 8]]  # same count, first 8 and sum: only the stored items tell
    with pytest.raises(NasbenchError, match="other items or another order"):
        run_protocol(swapped, lambda i: 1.0 + i, reference=0, protocol=protocol, store=tmp_path / "run")


def test_the_order_share_does_not_shrink_with_the_number_of_items():
    """Drift on the scale of the reference re-timing reads the same on 800 and 8,000 items
    (with the old cap of 100 blocks, the larger run averaged it away: 21% -> 1%)."""
    def share(n: int) -> float:
        rng = np.random.default_rng(n)
        arch = rng.normal(0, 0.5, n)
        positions = np.vstack([rng.permutation(n), rng.permutation(n)])
        drift = 0.3 * np.sin(2 * np.pi * positions / 120.0)  # a 120-call load wave
        values = arch + drift + rng.normal(0, 0.05, (2, n))
        return float(np.mean(order_share(values, positions, default_bins(n, every=8))))

    small, large = share(800), share(8000)
    assert small > 0.1 and large == pytest.approx(small, rel=0.25)
