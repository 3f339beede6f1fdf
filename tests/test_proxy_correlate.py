"""The statistics of `nasbench proxies correlate` on data whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.spaces.nb201 import OP_ID, op_ids_by_index
from predictors.proxies.correlate import bootstrap_spearman, connected, correlate, precision_at, vote_scores


def test_a_perfect_proxy_has_rho_and_tau_one_and_full_precision():
    rng = np.random.default_rng(0)
    target = rng.normal(size=500)
    scores = {"perfect": np.stack([target, target]), "reversed": np.stack([-target, -target]),
              "noise": rng.normal(size=(2, 500))}
    figures = correlate(scores, {"test_acc": target}, np.ones(500, bool), np.ones(500, bool), draws=50)
    by = {(f.proxy, f.subset): f.figures for f in figures}
    assert by[("perfect", "all")]["spearman"][:3] == pytest.approx((1.0, 1.0, 1.0))
    assert by[("perfect", "all")]["p@1%"][0] == 1.0 and by[("reversed", "all")]["kendall"][0] == pytest.approx(-1)
    mean, low, high, spread = by[("noise", "all")]["spearman"]
    assert low < 0 < high and low < mean < high and spread > 0  # two independent seeds differ


def test_non_finite_scores_are_counted_and_left_out():
    target = np.arange(100.0)
    values = np.stack([target.copy(), target.copy()])
    values[1, :7] = np.inf
    fig = [f for f in correlate({"p": values}, {"t": target}, np.ones(100, bool), np.ones(100, bool), draws=10)
           if f.subset == "all"][0]
    assert fig.non_finite == 7 and fig.archs == 93 and fig.figures["spearman"][0] == pytest.approx(1.0)


def test_precision_at_top_k():
    target = np.arange(100.0)
    assert precision_at(target, target, 0.1) == 1.0
    assert precision_at(-target, target, 0.1) == 0.0


def test_connected_cells_need_a_path_of_non_none_edges():
    def ids(*ops):
        return np.array([[OP_ID[o] for o in ops]])
    assert not connected(ids("none", "none", "none", "none", "none", "none"))[0]
    assert connected(ids("none", "none", "none", "skip_connect", "none", "none"))[0]
    assert connected(ids("avg_pool_3x3", "none", "nor_conv_1x1", "none", "none", "nor_conv_3x3"))[0]
    assert not connected(ids("avg_pool_3x3", "none", "none", "none", "none", "nor_conv_3x3"))[0]
    assert connected(op_ids_by_index()).sum() < 15625


def test_the_vote_is_the_borda_count_of_synflow_jacob_cov_and_snip():
    a = np.array([[1.0, 2.0, 3.0]])
    scores = {"synflow": a, "jacob_cov": a[:, ::-1], "snip": a}
    assert vote_scores(scores).tolist() == [[5.0, 6.0, 7.0]]
    assert vote_scores({"synflow": a}) is None


def test_bootstrap_spearman_resamples_cells_and_init_seeds_and_drops_non_finite_scores():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    target = rng.normal(size=300)
    scores = target + rng.normal(scale=[[0.5], [1.0], [2.0]], size=(3, 300))
    scores[1, :7] = np.nan
    draws = bootstrap_spearman(scores, target, np.random.default_rng(11), 40)
    replay = np.random.default_rng(11)  # draw 0 by hand: cells, then init seeds, with replacement
    cells, rows = replay.integers(300, size=300), replay.integers(3, size=3)
    by_hand = []
    for row in rows:
        keep = cells[np.isfinite(scores[row, cells])]
        by_hand.append(spearmanr(scores[row, keep], target[keep]).statistic)
    assert draws[0] == pytest.approx(np.mean(by_hand), abs=1e-12)
    np.testing.assert_array_equal(draws, bootstrap_spearman(scores, target, np.random.default_rng(11), 40))
    point = np.mean([spearmanr(s[np.isfinite(s)], target[np.isfinite(s)]).statistic for s in scores])
    assert np.percentile(draws, 2.5) < point < np.percentile(draws, 97.5)


def test_every_nb101_cell_is_connected_and_nb201_cells_may_not_be():
    from nasbench.spaces import get_space
    from predictors.proxies.correlate import connected_cells

    nb201 = get_space("nb201")
    assert connected_cells(nb201).sum() == 15_625 - 341  # 341 cells have no input-output path
    nb101 = get_space("nb101")
    assert connected_cells(nb101).shape == (423_624,) and connected_cells(nb101).all()


def test_the_vote_of_a_cell_no_member_scored_is_nan():
    scores = {name: np.array([[3.0, 1.0, np.nan, np.nan]]) for name in ("synflow", "jacob_cov", "snip")}
    scores["snip"] = np.array([[3.0, 1.0, 2.0, np.nan]])  # cell 2: snip scored it, the others did not
    vote = vote_scores(scores)
    assert np.isfinite(vote[0, :3]).all() and np.isnan(vote[0, 3])
