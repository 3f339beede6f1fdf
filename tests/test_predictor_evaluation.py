"""`nasbench predictors evaluate`: the protocol (held-out unique cells, nested training sets),
the statistics, resuming, baselines and proxy features, on the shipped nb201-digits table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nasbench.errors import InvalidParameterError
from nasbench.table import load_table
from nasbench.table.predictor_section import predictor_lines
from predictors.evaluation import (
    EvaluationJob,
    fit_and_score,
    held_out_split,
    score,
    training_order,
    unique_trainings,
)
from predictors.evaluation_report import summarize
from predictors.evaluation_run import EvaluationPlan, baselines, plan_jobs, run_evaluation
from predictors.features import FeatureSpec


@pytest.fixture(scope="module")
def table():
    return load_table("nb201-digits")


def test_held_out_cells_are_unique_trainings_never_trained_on(table):
    unique = unique_trainings(table)
    hashes = table.arch_hashes if hasattr(table, "arch_hashes") else None
    assert len(unique) < table.space.size
    split = held_out_split(unique, 500, 3, 1000)
    assert len(split.test) == 500 and not np.intersect1d(split.test, split.pool).size
    assert np.array_equal(np.union1d(split.test, split.pool), unique)
    if hashes is not None:  # no held-out cell has an isomorphic twin among the candidates
        assert len({hashes[i] for i in unique}) == len(unique)
    small, large = training_order(split, 4)[:10], training_order(split, 4)[:100]
    assert np.array_equal(large[:10], small)  # nested: sizes differ only by the added cells
    assert not np.array_equal(training_order(split, 5)[:10], small)
    with pytest.raises(InvalidParameterError, match="exceeds"):
        held_out_split(unique, 1000, 0, len(unique))


def test_score_of_a_perfect_a_reversed_and_a_constant_predictor():
    target = np.arange(200.0)
    perfect = score(target * 2 + 1, target)
    assert perfect["kendall"] == perfect["spearman"] == 1.0 and perfect["p@10%"] == perfect["p@1%"] == 1.0
    assert score(target, target)["r2"] == 1.0
    assert score(-target, target)["kendall"] == -1.0
    flat = score(np.zeros(200), target)
    assert np.isnan(flat["kendall"]) and flat["r2"] < 0


def test_evaluate_command_prints_saves_resumes_and_plots(cli, tmp_path, table):
    out = tmp_path / "predictors"
    args = ("predictors", "evaluate", "--table", "nb201-digits", "--predictors", "xgb", "lcsvr",
            "--train-sizes", "10", "40", "--seeds", "3", "--test-size", "100", "--workers", "1", "--out", str(out))
    status, printed, _ = cli(*args)
    assert status == 0, printed
    assert "kendall on the held-out cells" in printed and "oracle (valid_acc)" in printed and "#params" in printed
    records = pd.read_parquet(out / "evaluation.parquet")
    assert len(records) == 2 * 2 * 3 and set(records["label"]) == {"xgb", "lcsvr"}
    assert records["kendall"].between(-1, 1).all() and (records["fit_seconds"] > 0).all()
    manifest = json.loads((out / "evaluation.json").read_text())
    assert manifest["table"] == "nb201-digits" and manifest["split"]["test"] == 100
    assert {row["label"] for row in manifest["summary"]} == {"xgb", "lcsvr"}
    assert (out / "kendall.png").stat().st_size > 10_000
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "work").iterdir()}
    assert len(stamps) == 2 * 3  # one file per (variant, seed)
    status, again, _ = cli(*args)  # a rerun resumes: nothing is fitted again, the same numbers
    assert status == 0 and {p.name: p.stat().st_mtime_ns for p in (out / "work").iterdir()} == stamps
    pd.testing.assert_frame_equal(pd.read_parquet(out / "evaluation.parquet"), records)
    section = "\n".join(predictor_lines(tmp_path, table.sha256))  # the datasheet's section reads the same file
    assert "## Learned predictors" in section and "| xgb | onehot |" in section and "| #params |" in section
    assert predictor_lines(tmp_path, "another table's sha256") == []


def test_bad_arguments_fail_before_any_work(cli, tmp_path):
    status, _, err = cli("predictors", "evaluate", "--table", "nb201-digits", "--predictors", "xgb",
                         "--param", "depth=3", "--out", str(tmp_path))
    assert status == 2 and "'depth'" in err and not any(tmp_path.iterdir())
    status, _, err = cli("predictors", "evaluate", "--table", "nb201-digits", "--predictors", "nope")
    assert status == 2 and "unknown predictor 'nope'" in err
    status, _, err = cli("predictors", "evaluate", "--table", "nb201-digits", "--with-proxies",
                         "--proxy-scores", str(tmp_path / "no-scores"), "--out", str(tmp_path))
    assert status == 2 and "nasbench proxies compute" in err and not any(tmp_path.iterdir())


def test_a_better_predictor_is_ranked_and_a_tie_is_called_a_tie(table):
    split = held_out_split(unique_trainings(table), 150, 0, 200)
    jobs = [EvaluationJob(str(table.path), name, name, FeatureSpec("onehot", curve_fraction=c), (20, 200), seed,
                          split) for name, c in (("xgb", 0.0), ("lcsvr", 0.25)) for seed in range(5)]
    summary = {(row["label"], row["train_size"]): row for row in summarize(sum(map(fit_and_score, jobs), []))}
    assert all(row["seeds"] == 5 for row in summary.values())
    for size in (20, 200):  # one is best, the other tied or significantly worse: never both "best"
        marks = sorted(summary[(label, size)]["best"] for label in ("xgb", "lcsvr"))
        assert marks in (["", "best"], ["=", "best"])
        low, high = summary[("xgb", size)]["kendall_low"], summary[("xgb", size)]["kendall_high"]
        assert low <= summary[("xgb", size)]["kendall"] <= high


def test_proxy_features_and_baselines(table, tmp_path):
    """Proxy scores for 400 unique cells (cheap proxies), then xgb with and without them."""
    from predictors.proxies.precompute import compute_proxy_table

    scored = unique_trainings(table)[:400]
    folder = compute_proxy_table(table, ["params", "flops"], [0], indices=scored, progress=False,
                                 folder=tmp_path / "proxies")
    plan = EvaluationPlan(str(table.path), ("xgb",), (10, 50), 2, test_size=60, with_proxies=True,
                          proxy_folder=str(folder))
    split, jobs = plan_jobs(table, plan, ["params", "flops"])
    assert np.isin(split.test, scored).all() and np.isin(split.pool, scored).all()
    assert sorted({job.label for job in jobs}) == ["xgb", "xgb+proxies"]
    records = run_evaluation(jobs, tmp_path / "eval")
    assert {r["features"] for r in records} == {"onehot", "onehot + 2 proxies"}
    rows = {row["label"]: row for row in baselines(table, split, ["params", "flops"], draws=20,
                                                   proxy_folder=str(folder))}
    assert rows["proxy params"]["kendall"] == pytest.approx(rows["#params"]["kendall"])  # the same count
    assert rows["oracle (valid_acc)"]["kendall"] > rows["#params"]["kendall"]
