"""Pairwise Welch tests with Holm's correction, on hand-checked numbers and real studies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasbench.oracle import Budget
from nasbench.significance import (
    final_values,
    holm,
    pairwise_tests,
    rank_ranges,
    significance_report,
    welch,
)
from nasbench.study import run_study
from strategies import RandomSearch, RegularizedEvolution


def test_holm_matches_the_step_down_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    assert np.allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert np.allclose(holm([0.5, 0.9]), [1.0, 1.0])  # capped at 1
    assert len(holm([])) == 0


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_is_monotone_and_never_below_the_raw_p(p):
    adjusted = holm(p)
    order = np.argsort(p, kind="stable")
    assert np.all(adjusted >= np.asarray(p) - 1e-12)
    assert np.all(np.diff(adjusted[order]) >= -1e-12)
    assert np.all(adjusted <= 1.0)


def test_welch_against_the_formula():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 5.0, 6.0, 9.0, 1.0])
    difference, low, high, p = welch(a, b)
    va, vb = a.var(ddof=1) / 4, b.var(ddof=1) / 5
    dof = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 4)
    from scipy import stats

    half = stats.t.ppf(0.975, dof) * np.sqrt(va + vb)
    assert difference == pytest.approx(-2.1)
    assert (low, high) == pytest.approx((difference - half, difference + half))
    assert 0.2 < p < 0.3


def test_welch_on_constant_samples_is_exact_and_needs_two_seeds():
    assert welch(np.zeros(5), np.zeros(5)) == (0.0, 0.0, 0.0, 1.0)
    assert welch(np.ones(5), np.zeros(5))[3] == 0.0
    with pytest.raises(ValueError, match="at least 2 seeds"):
        welch(np.zeros(1), np.zeros(5))


def test_clear_differences_are_found_and_noise_is_not():
    rng = np.random.default_rng(0)
    samples = {"good": rng.normal(1.0, 0.5, 25), "twin": rng.normal(1.0, 0.5, 25), "bad": rng.normal(4.0, 0.5, 25)}
    found = {(t.first, t.second) for t in pairwise_tests(samples) if t.significant()}
    assert found == {("good", "bad"), ("twin", "bad")}


@pytest.fixture(scope="module")
def two_studies(full_table):
    budget = Budget(queries=40)
    return [run_study(cls, full_table, budget, seeds=range(6)) for cls in (RandomSearch, RegularizedEvolution)]


def test_final_values_are_each_seeds_last_regret(two_studies):
    random = two_studies[0]
    assert np.array_equal(final_values(random, 40), [c.regret[-1] for c in random.curves])
    assert np.array_equal(final_values(random, 10), [c.regret[9] for c in random.curves])
    assert np.array_equal(final_values(random, 1000), [c.regret[-1] for c in random.curves])


def test_report_gives_every_run_a_rank_range(two_studies):
    text = significance_report(two_studies, ["random", "evolution"], at=40)
    assert "Holm-corrected over 1 pairs" in text
    rows = [line for line in text.splitlines() if line.startswith(("random ", "evolution "))]
    assert len(rows) == 2
    ranks = {row.split()[0]: row.split()[-1] for row in rows}
    significant = pairwise_tests({"random": final_values(two_studies[0], 40),
                                  "evolution": final_values(two_studies[1], 40)})[0].significant()
    assert set(ranks.values()) == ({"1", "2"} if significant else {"1-2"})


def test_paired_bootstrap_tests_see_a_consistent_shift_that_the_intervals_hide():
    from nasbench.significance import paired_bootstrap_tests

    rng = np.random.default_rng(0)
    shared = rng.normal(0.7, 0.05, size=200)  # the resample noise both proxies share
    draws = {"a": shared + 0.01 + rng.normal(0, 0.002, 200), "b": shared, "c": shared.copy()}
    tests = {(t.first, t.second): t for t in paired_bootstrap_tests({"a": 0.71, "b": 0.70, "c": 0.70}, draws)}
    assert tests["a", "b"].significant() and tests["a", "b"].difference == pytest.approx(0.01)
    assert tests["a", "b"].low > 0  # paired: the shift is resolved though each interval is 10x wider
    assert tests["b", "c"].p == 1.0 and not tests["b", "c"].significant()


def test_constant_samples_are_compared_exactly_even_when_their_means_round():
    a, b = np.full(10, 0.11), np.full(30, 0.11)  # their means differ in the last bit
    assert welch(a, b) == (0.0, 0.0, 0.0, 1.0)
    assert not pairwise_tests({"a": a, "b": b})[0].significant()


def test_rank_ranges_follow_chains_of_significant_pairs():
    # Welch's df and Holm's steps: A < B and B < C are significant, A vs C alone is not
    samples = {"A": np.array([1.206, 1.208, 1.246, 1.221]), "B": np.array([2.242, 1.935, 1.593, 1.637, 1.655]),
               "C": np.array([2.369, 2.586])}
    tests = {(t.first, t.second): t for t in pairwise_tests(samples)}
    assert tests["A", "B"].significant() and tests["B", "C"].significant() and not tests["A", "C"].significant()
    assert rank_ranges(list(samples), list(tests.values())) == {"A": "1", "B": "2", "C": "3"}
    assert rank_ranges(list(samples), list(tests.values()), lower_is_better=False) == {"A": "3", "B": "2", "C": "1"}
    assert rank_ranges(list(samples), []) == {"A": "1-3", "B": "1-3", "C": "1-3"}
