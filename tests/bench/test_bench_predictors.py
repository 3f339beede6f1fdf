"""Learned predictor speed: fit and predict seconds at 1,000 training architectures.

Each registered predictor (its registry defaults, seed 0, one thread) is fitted on 1,000
unique cells of the shipped nb201-mnist1d table (its own default encoding; lcsvr with the
first 25% of the learning curve) and predicts 1,000 others. Process CPU seconds of the fit
and of the prediction are recorded in ``extra_info`` and printed; run with
``pytest tests/bench/test_bench_predictors.py --benchmark-enable -s``. In the default run
(``--benchmark-disable``) each predictor fits 40 cells, as a smoke test. The figures
measured are in README.md ("Learned predictors").
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from nasbench.table import load_table
from predictors.features import FeatureSpec, build_features
from predictors.registry import PREDICTORS, load_predictors, make_predictor

load_predictors()
TRAIN, TEST = 1000, 1000


@pytest.fixture(scope="module")
def table():
    return load_table("nb201-mnist1d")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_fit_and_predict_seconds(benchmark, table, name: str) -> None:
    if PREDICTORS.get(name).torch:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
    unique = np.flatnonzero(table.scalar("trained_as") == np.arange(table.space.size))
    order = np.random.default_rng(0).permutation(unique)
    n = 40 if benchmark.disabled else TRAIN
    train, test = order[:n], order[TRAIN:TRAIN + TEST]
    spec = PREDICTORS.get(name)
    features = FeatureSpec(spec.encoding, curve_fraction=0.25 if spec.curve else 0.0)
    x_train, x_test = build_features(table, train, features), build_features(table, test, features)
    y = table.final("valid_acc")
    cpu: dict[str, float] = {}

    def workload():
        model = make_predictor(name, space=table.space, random_state=0)
        start = time.process_time()
        model.fit(x_train, y[train])
        cpu["fit"] = time.process_time() - start
        start = time.process_time()
        predicted = model.predict(x_test)
        cpu["predict"] = time.process_time() - start
        return predicted

    predicted = benchmark.pedantic(workload, rounds=1, iterations=1)
    if spec.torch:
        torch.set_num_threads(threads)
    tau = stats.kendalltau(predicted, table.final("test_acc")[test]).statistic
    benchmark.extra_info.update({"train": n, "fit_cpu_s": cpu["fit"], "predict_cpu_s": cpu["predict"], "tau": tau})
    print(f"\n[{name}] fit {cpu['fit']:.2f} s, predict {cpu['predict']:.3f} s at {n} training cells "
          f"(Kendall {tau:.3f} on {TEST} held-out)")
    assert np.all(np.isfinite(predicted))
