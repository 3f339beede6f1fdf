"""Surrogate benchmarks behind the oracle: every strategy, budget kind and latency option
that tables have; the CLI that fits, lists, inspects, verifies and runs them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasbench.oracle import Budget, Oracle
from nasbench.study import StudyResult, run_study
from predictors.surrogate.benchmark import SurrogateBenchmark, load_surrogate_benchmark, table_latency
from predictors.surrogate.model import SurrogateModel
from predictors.surrogate.sampling import uniform_sample
from strategies import STRATEGIES, get_strategy
from clitools import assert_user_error

DEVICE = "synthetic-cpu-b1"
FAST = {"n_models": 2, "max_steps": 300}  # a quick fit: these tests check plumbing, not accuracy


@pytest.fixture(scope="module")
def surrogate_dir(full_table, tmp_path_factory):
    from predictors.surrogate.artifact import save

    model = SurrogateModel.fit(full_table, uniform_sample(full_table.indices, 0.05, 0), seed=0, **FAST)
    folder = tmp_path_factory.mktemp("surrogates") / "synth-surrogate"
    return save(model, folder, sampling={"sampler": "uniform", "train_fraction": 0.05, "sample_seed": 0},
                latency=table_latency(full_table))


@pytest.fixture(scope="module")
def surrogate(surrogate_dir) -> SurrogateBenchmark:
    return load_surrogate_benchmark(surrogate_dir)


def test_the_surrogate_answers_like_a_table(surrogate, full_table):
    assert surrogate.kind == "surrogate" and surrogate.epochs == full_table.epochs
    oracle = Oracle(surrogate, Budget(queries=4), rng=0, trial="mean")
    mean = oracle.evaluate(5)
    assert mean.value == pytest.approx(surrogate.model.mean_curves([5])[0, -1])
    assert mean.cost == pytest.approx(surrogate.model.cumulative_seconds([5])[0, -1])
    assert oracle.evaluate(5, 2).cost < mean.cost  # fewer epochs, less simulated time
    draws = [Oracle(surrogate, Budget(queries=1), rng=s).evaluate(5).value for s in range(200)]
    std = surrogate.model.noise_std([5])[0, -1]
    assert np.std(draws) == pytest.approx(std, rel=0.25) and np.mean(draws) == pytest.approx(mean.value, abs=3 * std)
    assert oracle.trajectory().trials.tolist() == [-1, -1]


def test_predictions_stay_inside_0_to_100_percent(surrogate):
    """Accuracies are learned as log error rates: no cell is predicted above 100%."""
    everything = np.arange(15625)
    assert 0.0 <= surrogate.final_test().min() and surrogate.final_test().max() <= 100.0
    curves = surrogate.model.mean_curves(everything)
    assert 0.0 <= curves.min() and curves.max() <= 100.0


def test_regret_is_measured_against_the_best_predicted_test_accuracy(surrogate):
    result = run_study(get_strategy("random"), surrogate, Budget(queries=50), [0, 1])
    best = float(np.nanmax(surrogate.model.test_accuracy(np.arange(15625))))
    for run in result.runs:
        incumbent = int(np.argmax(run.trajectory.values))
        expected = best - surrogate.model.test_accuracy([run.trajectory.indices[incumbent]])[0]
        assert run.regret.regret[-1] == pytest.approx(expected) and np.all(run.regret.regret >= 0)


@pytest.mark.parametrize("name", sorted(STRATEGIES.names()))
def test_every_strategy_runs_on_a_surrogate_and_repeats_bit_for_bit(surrogate, name):
    cls = get_strategy(name)
    device = DEVICE if cls.multi_objective else None
    a = run_study(cls, surrogate, Budget(queries=40), [3], latency_device=device)
    b = run_study(cls, surrogate, Budget(queries=40), [3], latency_device=device)
    ta, tb = a.runs[0].trajectory, b.runs[0].trajectory
    assert len(ta) > 0 and ta.archs == tb.archs and np.array_equal(ta.values, tb.values)
    assert a.benchmark == "surrogate" and a.table == "synth-surrogate"


def test_seconds_budgets_and_latency_limits_work_on_a_surrogate(surrogate, full_table):
    seconds = run_study(get_strategy("evolution"), surrogate, Budget(seconds=2000.0), [0])
    assert seconds.runs[0].trajectory.costs.sum() <= 2000.0
    limit = float(np.nanmedian(full_table.latency(DEVICE)))
    limited = run_study(get_strategy("evolution"), surrogate, Budget(queries=60), [0], latency_device=DEVICE,
                        max_latency=limit)
    latency = full_table.latency(DEVICE)
    assert np.all(latency[limited.runs[0].trajectory.indices] <= limit)
    hv = run_study(get_strategy("nsga2"), surrogate, Budget(queries=60), [0], latency_device=DEVICE)
    assert hv.multi_objective and np.all(hv.runs[0].regret.regret >= 0)


def test_result_files_name_the_surrogate(surrogate, tmp_path):
    result = run_study(get_strategy("random"), surrogate, Budget(queries=10), [0])
    result.save(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["benchmark"] == "surrogate" and data["table_sha256"] == surrogate.sha256
    assert StudyResult.load(tmp_path / "r.json").benchmark == "surrogate"


def test_cli_fit_list_info_verify_run(cli, copy_table, full_table_dir, tmp_path):
    tables = copy_table(full_table_dir, "synth-copy").parent
    run = lambda *a: cli("--tables-dir", tables, *a)  # noqa: E731
    status, out, err = run("surrogate", "fit", "--table", "synth-copy", "--train-fraction", "0.05", "--out", "s1",
                           "--param", "n_models=2", "--param", "max_steps=300")
    assert status == 0, err
    assert "held out:" in out and "Kendall tau" in out and (tables / "synth-copy/surrogates/s1/manifest.json").is_file()
    status, out, _ = run("surrogate", "list")
    assert status == 0 and "s1" in out and "synth-copy" in out
    status, out, _ = run("surrogate", "info", "s1")
    assert status == 0 and '"train_fraction": 0.05' in out
    assert run("surrogate", "verify", "s1")[0] == 0
    status, out, err = run("run", "evolution", "--surrogate", "s1", "--budget", "30", "--seeds", "2",
                           "--out", tmp_path / "r.json")
    assert status == 0, err
    assert StudyResult.load(tmp_path / "r.json").benchmark == "surrogate"
    status, out, err = run("run", "random", "--surrogate", "s1",
                           "--budget", "20", "--seeds", "1", "--latency-device", DEVICE, "--max-latency", "1e9")
    assert status == 0, err
    weights = tables / "synth-copy/surrogates/s1/model.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    status, out, _ = run("surrogate", "verify", "s1")
    assert status == 1 and "FAIL" in out and "model.npz" in out
    assert_user_error(run("run", "random", "--surrogate", "s1", "--budget", "5"), "model.npz", "sha256")
    assert_user_error(run("run", "random", "--surrogate", "nope", "--budget", "5"), "unknown surrogate 'nope'")
    assert_user_error(run("surrogate", "fit", "--table", "synth-copy", "--train-fraction", "1.5", "--out", "s2"),
                      "train_fraction", "1.5")
    assert_user_error(run("surrogate", "fit", "--table", "synth-copy", "--train-fraction", "0.1", "--out", "s2",
                          "--param", "depth=3"), "unknown surrogate hyperparameter 'depth'")
    assert_user_error(run("surrogate", "fit", "--table", "synth-copy", "--train-fraction", "0.1", "--out", "s1"),
                      "exists")


def test_an_isolated_strategy_runs_on_a_surrogate_the_same(surrogate):
    inside = run_study(get_strategy("evolution"), surrogate, Budget(queries=20), [0, 1])
    isolated = run_study(get_strategy("evolution"), surrogate, Budget(queries=20), [0, 1], isolate=True)
    for a, b in zip(inside.runs, isolated.runs):
        assert a.trajectory.archs == b.trajectory.archs and np.array_equal(a.trajectory.values, b.trajectory.values)
    assert isolated.isolation["process"] is True
