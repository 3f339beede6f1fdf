"""Leaderboard ranking: anytime-curve summaries, average ranks, the Friedman test and Nemenyi's
critical difference, checked against hand-worked and published values."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.leaderboard.ranking import (
    area_under_curve,
    average_ranks,
    critical_difference,
    first_reaching,
    friedman,
    rank_across_tracks,
    top_fraction_threshold,
)


def test_area_and_first_reaching():
    regret = np.array([5.0, 3.0, 3.0, 1.0])
    assert area_under_curve(regret, 4) == pytest.approx(3.0)
    assert area_under_curve(regret, 6) == pytest.approx((12 + 1 + 1) / 6)  # the last value holds
    assert first_reaching(regret, 3.0) == 2 and first_reaching(regret, 0.5) is None


def test_area_under_simulated_time():
    from nasbench.leaderboard.ranking import area_under_time

    regret, seconds = np.array([5.0, 3.0, 1.0]), np.array([2.0, 6.0, 8.0])
    # 0-6 s: 5 (the first query's value until the second finishes), 6-8 s: 3, 8-10 s: 1
    assert area_under_time(regret, seconds, 10.0, points=1000) == pytest.approx((6 * 5 + 2 * 3 + 2 * 1) / 10, abs=0.02)
    assert area_under_time(regret, seconds, 4.0) == pytest.approx(5.0)


def test_top_fraction_threshold():
    accuracies = np.arange(1, 101, dtype=float)  # best 100; the 99th percentile is 99.01
    assert top_fraction_threshold(accuracies) == pytest.approx(100 - np.quantile(accuracies, 0.99))


def test_critical_difference_matches_demsars_table():
    # Demsar (2006), Table 5(a): q_0.05 = 2.343 for k = 3, 2.569 for k = 4, 2.949 for k = 7, 3.031 for k = 8
    for k, q in ((3, 2.343), (4, 2.569), (7, 2.949), (8, 3.031)):
        n = 10
        assert critical_difference(k, n) == pytest.approx(q * np.sqrt(k * (k + 1) / (6 * n)), abs=2e-3)


def test_ranks_ties_and_friedman():
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 3.0, 2.0], [2.0, 2.0, 5.0]])
    np.testing.assert_allclose(average_ranks(scores), [(1 + 1 + 1.5) / 3, (2 + 3 + 1.5) / 3, (3 + 2 + 3) / 3])
    statistic, p = friedman(scores)
    assert statistic >= 0 and 0 <= p <= 1
    with pytest.raises(ValueError, match="at least 3 entries"):
        friedman(scores[:, :2])


def test_entries_inside_the_noise_are_tied():
    rng = np.random.default_rng(0)
    tracks = 12
    clear = np.column_stack([rng.normal(0, 0.1, tracks), rng.normal(5, 0.1, tracks), rng.normal(10, 0.1, tracks)])
    ranking = rank_across_tracks(["a", "b", "c"], clear)
    assert ranking.significant() and ranking.ranks == (1.0, 2.0, 3.0)
    assert ranking.tied == ()  # every gap of 1 rank exceeds the CD for 12 tracks (0.96)
    noise = rng.normal(0, 1, (tracks, 3))
    ranking = rank_across_tracks(["a", "b", "c"], noise)
    if not ranking.significant():
        assert ranking.tied == (tuple(np.array(["a", "b", "c"])[np.argsort(ranking.ranks, kind="stable")]),)


def test_the_critical_difference_diagram_draws_every_entry_the_cd_and_each_tied_group():
    pytest.importorskip("matplotlib")
    from nasbench.leaderboard.cd_diagram import cd_figure

    rng = np.random.default_rng(1)
    scores = np.column_stack([rng.normal(m, 1.0, 8) for m in (0, 0.5, 3, 3.5, 6)])
    ranking = rank_across_tracks(["a", "b", "c", "d", "e"], scores)
    assert ranking.significant() and ranking.tied  # some entries differ, some sit within one CD
    fig = cd_figure(ranking)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for name, rank in zip(ranking.names, ranking.ranks):
        assert f"{name} ({rank:.2f})" in texts
    assert f"CD = {ranking.cd:.2f}" in texts
    red = [line for line in fig.axes[0].lines if line.get_color() == "tab:red"]
    assert len(red) == len(ranking.tied)
