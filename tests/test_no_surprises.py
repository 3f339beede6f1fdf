"""No silent surprises (issue 10, item 4): result files are not overwritten without --force;
few seeds get a t interval marked as rough; intervals of regret stay at or above 0; the
simulated-time table has no repeated rows; the Pareto front says how it was chosen; a note
explains a mean regret that rises."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pytest
from clitools import assert_user_error
from scipy import stats

from nasbench.evaluation import (
    FEW_SEEDS,
    RegretCurve,
    mean_ci,
    summarize_by_queries,
    summarize_by_seconds,
)
from nasbench.oracle import Budget, Trajectory
from nasbench.report import anytime_report, distinct_times, duration, rises_between
from nasbench.study import SeedRun, StudyResult, run_study
from strategies import RandomSearch

ROW = re.compile(r"^\s*(\S+(?: s| min| h)?)\s+(-?\d+\.\d+)\s+\[\s*(-?\d+\.\d+),\s+(-?\d+\.\d+)\]")


def table_rows(text: str, header: str) -> list[tuple[str, float, float, float]]:
    """The (label, mean, low, high) rows of the block under the line starting with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    rows = []
    for line in lines[start + 1:]:
        match = ROW.match(line)
        if not match:
            break
        rows.append((match[1], float(match[2]), float(match[3]), float(match[4])))
    return rows


# -- --out and --force ---------------------------------------------------------------------------


def test_out_is_not_overwritten_without_force(cli, tmp_path):
    out = tmp_path / "res.json"
    out.write_text("precious\n")
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--seeds", "1", "--out", out),
                      f"--out: {out} exists", "--force")
    assert out.read_text() == "precious\n" and not out.with_suffix(".png").exists()
    status, text, err = cli("run", "random", "--table", "synth-full", "--budget", "5", "--seeds", "1", "--out", out,
                            "--force")
    assert status == 0, err
    assert StudyResult.load(out).seeds == [0] and f"wrote {out}" in text


def test_the_plot_beside_out_and_plot_files_are_not_overwritten(cli, tmp_path):
    out = tmp_path / "res.json"
    out.with_suffix(".png").write_bytes(b"old plot")
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--seeds", "1", "--out", out),
                      f"the plot beside --out: {out.with_suffix('.png')} exists")
    assert not out.exists()
    plot = tmp_path / "mine.png"
    plot.write_bytes(b"old plot")
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--seeds", "1", "--plot", plot),
                      f"--plot: {plot} exists")
    assert plot.read_bytes() == b"old plot"


def test_compare_plot_is_not_overwritten_without_force(cli, tmp_path):
    result = tmp_path / "r.json"
    assert cli("run", "random", "--table", "synth-full", "--budget", "5", "--seeds", "2", "--out", result)[0] == 0
    plot = tmp_path / "r.png"  # written by the run beside its --out
    assert_user_error(cli("compare", result, "--plot", plot), f"--plot: {plot} exists")
    assert cli("compare", result, "--plot", plot, "--force")[0] == 0


def test_latency_profile_out_is_not_overwritten_without_force(cli, tmp_path):
    lut = tmp_path / "lut.json"
    lut.write_text("{}")
    assert_user_error(cli("latency", "profile", "--device", "laptop", "--table", "synth-full", "--out", lut),
                      f"--out: {lut} exists", "--force")
    # with --force it goes on (and stops at the next check: a synthetic table has no skeleton to time)
    assert_user_error(cli("latency", "profile", "--device", "laptop", "--table", "synth-full", "--out", lut, "--force"),
                      "no network skeleton")
    assert lut.read_text() == "{}"


# -- intervals over few seeds ---------------------------------------------------------------------


def _curve(regret) -> RegretCurve:
    regret = np.asarray(regret, dtype=np.float64)
    return RegretCurve(np.arange(1.0, len(regret) + 1), np.zeros(len(regret), dtype=np.int64), regret)


def test_two_seeds_get_the_wide_t_interval_not_their_range():
    """With 2 seeds a percentile bootstrap gives [min, max] of the two values and covers the
    mean about half the time; Student's t with 1 degree of freedom keeps its 95%."""
    summary = summarize_by_queries([_curve([9.0, 4.0]), _curve([5.0, 6.0])], [1, 2])
    half = stats.t.ppf(0.975, 1) * np.array([np.std([9.0, 5.0], ddof=1), np.std([4.0, 6.0], ddof=1)]) / np.sqrt(2)
    np.testing.assert_allclose(summary.high, [7.0, 5.0] + half)
    assert (summary.low == 0.0).all()  # clipped: regret is never negative


def test_few_seeds_keep_their_coverage():
    rng = np.random.default_rng(7)
    for seeds in (2, 3, 4):
        samples = rng.normal(0.0, 1.0, size=(seeds, 4000))
        _, low, high, n = mean_ci(samples)
        assert (n == seeds).all()
        assert np.mean((low <= 0) & (0 <= high)) == pytest.approx(0.95, abs=0.015)


def test_five_seeds_get_student_t():
    samples = np.array([[1.0], [2.0], [4.0], [3.0], [5.0]])
    assert FEW_SEEDS == 5
    _, low, high, _ = mean_ci(samples)
    half = stats.t.ppf(0.975, 4) * samples.std(ddof=1) / np.sqrt(5)
    np.testing.assert_allclose([low[0], high[0]], [3.0 - half, 3.0 + half])


def test_regret_interval_never_goes_below_zero():
    curves = [_curve([0.0]), _curve([0.0]), _curve([0.0]), _curve([0.0]), _curve([0.0]), _curve([12.0])]
    summary = summarize_by_queries(curves, [1])
    assert summary.low[0] == 0.0 and summary.high[0] > summary.mean[0] == 2.0
    assert summarize_by_seconds(curves, [1.0]).low[0] == 0.0


def test_run_with_few_seeds_says_so_and_prints_no_negative_bound(cli):
    status, text, err = cli("run", "random", "--table", "synth-full", "--budget", "30", "--seeds", "3")
    assert status == 0, err
    assert "mean and 95% CI (t, few seeds) over 3 seeds" in text
    assert "fewer than 5 seeds: a wide t interval" in text
    rows = table_rows(text, "queries") + table_rows(text, "sim. time")
    assert rows and all(low >= 0 for _, _, low, _ in rows)
    status, text, _ = cli("run", "random", "--table", "synth-full", "--budget", "30", "--seeds", "5")
    assert "mean and 95% CI over 5 seeds" in text and "few seeds" not in text


def test_compare_marks_runs_with_few_seeds(cli, tmp_path):
    few, many = tmp_path / "few.json", tmp_path / "many.json"
    assert cli("run", "random", "--table", "synth-full", "--budget", "10", "--seeds", "2", "--out", few)[0] == 0
    assert cli("run", "random", "--table", "synth-full", "--budget", "10", "--seeds", "5", "--out", many)[0] == 0
    status, text, _ = cli("compare", few, many, "--labels", "few", "many")
    assert status == 0
    assert "fewer than 5 seeds, a rough t interval: few" in text.splitlines()[0]
    assert all(float(x) >= 0 for x in re.findall(r"\[\s*(-?\d+\.\d+),", text.split("Significant")[0]))


# -- the simulated-time table, the rising-regret note ----------------------------------------------


def test_distinct_times_keeps_one_row_per_label():
    grid = np.geomspace(125.0, 140.0, 8)  # 2.1 .. 2.3 min: many share a printed label
    kept = distinct_times(grid)
    labels = [duration(t) for t in kept]
    assert len(labels) == len(set(labels)) < len(grid)
    assert kept[-1] == grid[-1]  # the end of the runs stays


def _result(curves: list[RegretCurve], table) -> StudyResult:
    result = StudyResult("fixture", "1", {}, table.name, table.sha256, True, Budget(queries=3), "sample")
    for seed, curve in enumerate(curves):
        n = len(curve.regret)
        trajectory = Trajectory(np.arange(n), np.ones(n, dtype=np.int32), np.zeros(n), np.diff(curve.seconds, prepend=0),
                                np.zeros(n, dtype=np.int64))
        result.runs.append(SeedRun(seed, trajectory, curve))
    return result


def test_anytime_report_has_no_repeated_time_rows(full_table):
    seconds = np.array([125.0, 130.0, 140.0])
    curves = [RegretCurve(seconds + shift, np.zeros(3, dtype=np.int64), np.array([5.0, 3.0, 1.0]) + shift)
              for shift in (0.0, 1.0, 2.0)]
    text = anytime_report(_result(curves, full_table))
    labels = [row[0] for row in table_rows(text, "sim. time")]
    assert len(labels) > 1 and len(labels) == len(set(labels))


def test_note_when_the_mean_regret_rises(full_table):
    falling = [_curve([5.0, 3.0, 1.0]), _curve([6.0, 2.0, 2.0])]
    assert "note: the mean regret rises" not in anytime_report(_result(falling, full_table))
    rising = [_curve([5.0, 1.0, 3.0]), _curve([6.0, 2.0, 2.0])]
    text = anytime_report(_result(rising, full_table))
    assert text.splitlines()[-1] == (
        "note: the mean regret rises between some checkpoints: the incumbent is chosen on noisy validation "
        "accuracy, so a later, better-validating pick can test worse")


def test_rises_between_compares_printed_values():
    assert rises_between(np.array([3.0, 2.0, 2.5]))
    assert not rises_between(np.array([3.0, 2.0, 2.001, 1.0]))  # prints 2.00 twice: no visible rise


@pytest.mark.parametrize("budget, rises", [(30, True), (100, False)])
def test_the_note_follows_the_printed_means_of_a_real_run(full_table, budget, rises):
    text = anytime_report(run_study(RandomSearch, full_table, Budget(queries=budget), seeds=range(6)))
    printed = [[mean for _, mean, _, _ in table_rows(text, header)] for header in ("queries", "sim. time")]
    seen = any(b > a for means in printed for a, b in pairwise(means))
    assert seen == rises  # on the fixture table one budget rises and one does not: both paths are real
    assert ("note: the mean regret rises" in text) == seen


# -- the Pareto front -------------------------------------------------------------------------------


def test_pareto_front_says_validation_and_shows_both_accuracies(cli, tmp_path, full_table):
    out = tmp_path / "nsga.json"
    status, text, err = cli("run", "nsga2", "--table", "synth-full", "--budget", "40", "--seeds", "1",
                            "--latency-device", "synthetic-cpu-b1", "--out", out)
    assert status == 0, err
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Pareto front found by seed 0"))
    assert "chosen on validation accuracy" in lines[start] and "test accuracy beside it" in lines[start]
    assert lines[start + 1].split() == ["valid", "test", "latency", "architecture"]
    run = StudyResult.load(out).runs[0]
    test = full_table.final("test_acc")
    rows = [line for line in lines[start + 2:] if "(index" in line]
    assert rows
    for line in rows:
        valid, test_shown = (float(x.rstrip("%")) for x in line.split()[:2])
        index = int(line.rsplit("(index ", 1)[1].rstrip(")"))
        assert valid == pytest.approx(run.trajectory.values[run.trajectory.indices == index].max(), abs=0.006)
        assert test_shown == pytest.approx(test[index], abs=0.006)
