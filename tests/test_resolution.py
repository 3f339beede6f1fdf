"""Resolution figures: weighted statistics against scipy, and their behaviour on data with a
known amount of seed noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from nasbench.resolution import (
    last_gain, regret_floor, resolution, seed_spearman, table_resolution, top_agreement, top_set,
    top_spread_noise, weighted_spearman,
)


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=3, max_size=40))
def test_weighted_spearman_with_equal_weights_is_scipys(pairs: list[tuple[int, int]]) -> None:
    x, y = (np.array(v, dtype=float) for v in zip(*pairs))
    expected = spearmanr(x, y).statistic
    got = weighted_spearman(x, y)
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-9)


def test_integer_weights_equal_repeating_rows() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=30), rng.normal(size=30)
    w = rng.integers(1, 4, size=30)
    repeated = weighted_spearman(np.repeat(x, w), np.repeat(y, w))
    assert weighted_spearman(x, y, w.astype(float)) == pytest.approx(repeated, abs=1e-12)


def test_top_set_takes_the_share_of_the_weight() -> None:
    score = np.arange(100.0)
    assert sorted(top_set(score, 0.1)) == list(range(90, 100))
    w = np.ones(100)
    w[99] = 10.0  # the best row stands for 10 classes of 109: 10% of the weight is that row alone
    assert list(top_set(score, 0.05, w)) == [99, 98, 97]  # never fewer than 3 rows
    with pytest.raises(ValueError, match="q: need a share"):
        top_set(score, 0.0)


def _noisy(spread: float, noise: float, archs: int = 2000, seeds: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, spread, size=(archs, 1)) + rng.normal(0, noise, size=(archs, seeds))


def test_figures_follow_the_noise() -> None:
    clean, noisy = _noisy(5.0, 0.05), _noisy(5.0, 5.0)
    assert seed_spearman(clean) > 0.99
    assert 0.4 < seed_spearman(noisy) < 0.6  # signal and noise of equal variance
    rho, overlap = top_agreement(clean, 0.1)
    assert rho > 0.9 and overlap > 0.9
    rho, overlap = top_agreement(noisy, 0.01)
    assert rho < 0.5 and overlap < 0.5
    spread, noise = top_spread_noise(noisy, 0.01)
    assert noise == pytest.approx(5.0, rel=0.15)


def test_last_gain_and_regret_floor() -> None:
    curves = np.tile(np.arange(10.0), (5, 2, 1))  # +1 point an epoch
    assert last_gain(curves) == 1.0
    acc = np.array([[90.0, 90.0], [80.0, 80.0], [70.0, 70.0]])
    assert regret_floor(acc, acc) == (0.0, 0.0)  # seeds agree: exhaustive search finds the best
    acc = np.array([[90.0, 60.0], [80.0, 80.0]])  # the best's second seed is bad half of the time
    mean, _ = regret_floor(acc, np.array([[95.0, 95.0], [85.0, 85.0]]), draws=4000)
    assert mean == pytest.approx(5.0, abs=0.5)


def test_resolution_rejects_bad_input() -> None:
    acc = _noisy(5, 1, archs=50, seeds=2)
    with pytest.raises(ValueError, match="shapes"):
        resolution(acc, acc[:, :1], acc[:, :, None])
    acc[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        resolution(acc, acc, acc[:, :, None])


def test_resolution_of_a_shipped_table() -> None:
    from nasbench.table import load_table

    figures = table_resolution(load_table("nb201-mnist1d"))
    assert figures.archs == 5260 and figures.seeds == 2  # unique trainings only
    assert 0.9 < figures.seed_spearman < 0.94  # the v1 figures the issue reports
    assert figures.top1_spread < figures.top1_noise
    assert not figures.targets()["seed Spearman >= 0.97"]


def test_a_heavy_row_on_the_boundary_counts_only_the_share_left() -> None:
    from nasbench.resolution import top_weights

    score, w = np.arange(200.0), np.ones(200)
    w[175] = 50.0  # stands for 50 classes, but only 0.9 of them fit in the top 10%
    rows, effective = top_weights(score, 0.1, w)
    assert list(rows) == list(range(199, 174, -1))
    assert effective.sum() == pytest.approx(0.1 * w.sum()) and effective[-1] == pytest.approx(0.9)


def test_ties_on_the_boundary_share_it_whatever_the_row_order() -> None:
    from nasbench.resolution import top_weights

    score = np.array([5, 4, 3, 3, 3, 3] + [0] * 14, dtype=np.float64)
    rows, effective = top_weights(score, 0.2)  # 4 rows fit: two above, two of the four tied 3s
    assert list(rows) == [0, 1, 2, 3, 4, 5] and list(effective) == [1, 1, 0.5, 0.5, 0.5, 0.5]
    rows_rev, effective_rev = top_weights(score[::-1], 0.2)
    assert sorted(19 - rows_rev) == sorted(rows) and list(effective_rev) == list(effective)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_top_agreement_does_not_depend_on_row_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    acc = rng.integers(0, 4, size=(300, 3)) * 5.0  # coarse accuracies: many ties at every boundary
    perm = rng.permutation(300)
    assert np.allclose(top_agreement(acc, 0.1), top_agreement(acc[perm], 0.1), equal_nan=True)
    assert np.allclose(top_spread_noise(acc, 0.01), top_spread_noise(acc[perm], 0.01))


def test_pure_noise_on_coarse_accuracies_overlaps_by_chance_only() -> None:
    rng = np.random.default_rng(0)
    acc = rng.integers(0, 2, size=(1000, 2)) * 10.0 + 80  # no architecture differs from another
    _, overlap = top_agreement(acc, 0.1)
    assert overlap == pytest.approx(0.1, abs=0.02)  # what random tie-breaking gives, not ~0.5


def test_last_gain_takes_the_median_not_the_lower_median() -> None:
    def gains(x: np.ndarray) -> np.ndarray:  # curves whose last-epoch gain is x, one seed
        return np.stack([np.zeros_like(x), x], axis=-1)[:, None, :]

    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 4, 9, 10):
        x = rng.normal(size=n)
        assert last_gain(gains(x)) == pytest.approx(np.median(x))
    assert last_gain(gains(np.array([1.0, 2, 3, 4])), weights=np.array([1.0, 1, 2, 0.5])) == 3.0


def test_regret_floor_scores_tied_best_cells_by_their_mean() -> None:
    acc = np.array([[90.0, 90.0], [90.0, 90.0], [80.0, 80.0]])  # two cells tie for the best validation
    test = np.array([[92.0, 92.0], [88.0, 88.0], [70.0, 70.0]])
    assert regret_floor(acc, test, draws=10) == (2.0, 0.0)  # 92 - mean(92, 88), whatever the row order
    assert regret_floor(acc[::-1], test[::-1], draws=10) == (2.0, 0.0)


def test_a_printed_figure_never_looks_like_it_meets_a_target_it_misses() -> None:
    from nasbench.resolution_record import figure_text

    assert figure_text("top1_overlap", 0.598) == "59.8%" and figure_text("top1_overlap", 0.694) == "69%"
    assert figure_text("seed_spearman", 0.96996) == "0.96996" and figure_text("seed_spearman", 0.9712) == "0.971"
    assert figure_text("last_gain", 0.4996) == "0.4996" and figure_text("last_gain", 0.5001) == "0.50"
    assert figure_text("best", 99.999) == "100.00" and figure_text("top10_spearman", float("nan")) == "-"
