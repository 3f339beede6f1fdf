"""Speed of a surrogate model (fitted on 300 nb201-digits cells, small configuration).

Targets (issue 14): load under 200 ms in a fresh process including imports (numpy's
import is most of it), a single query in microseconds once the space is predicted. Run
with ``pytest tests/bench/test_bench_surrogate.py --benchmark-enable``; in the default
run each benchmark executes once as a smoke test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasbench.table import load_table
from predictors.surrogate import SurrogateModel, load, save
from predictors.surrogate.metrics import split_indices

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    table = load_table("nb201-digits")
    train, _ = split_indices(table, 300 / len(table.indices), seed=0)
    model = SurrogateModel.fit(table, train, seed=0, n_models=2, hidden_layer_sizes=(64, 64), max_steps=600)
    return save(model, tmp_path_factory.mktemp("surrogate") / "digits-300")


def test_surrogate_load_in_a_fresh_process(benchmark, saved):
    code = "import sys; from predictors.surrogate import load; load(sys.argv[1])"
    benchmark.pedantic(subprocess.run, args=([sys.executable, "-c", code, str(saved)],),
                       kwargs={"check": True, "cwd": REPO}, rounds=5, iterations=1)


def test_surrogate_load_in_process(benchmark, saved):
    model = benchmark(load, saved)
    assert model.epochs == 5


def test_surrogate_single_query(benchmark, saved):
    model = load(saved)
    model.mean_curves([0])  # predicts the whole space once
    cell = model.space.from_index(1234)
    rng = np.random.default_rng(0)
    curve = benchmark(model.sample_curves, cell, rng)
    assert curve.shape == (1, 5)
