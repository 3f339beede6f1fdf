"""The calibration study: a fixed stratified sample, resumable runs, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nasbench.calibration.sample import STRATA, sample_from_table, stratified_sample
from nasbench.calibration.study import Study, load_results
from nasbench.cli import main
from nasbench.errors import NasbenchError


def test_stratified_sample_is_fixed_and_weighted() -> None:
    acc = np.linspace(0, 100, 5260)[::-1].copy()
    reps = np.arange(5260) * 3
    a = stratified_sample(acc, reps, STRATA, seed=0)
    b = stratified_sample(acc, reps, STRATA, seed=0)
    assert np.array_equal(a.indices, b.indices) and len(a) == sum(n for _, n in STRATA) == 200
    assert a.weights.sum() == pytest.approx(5260)  # the sample stands for every class
    top = a.strata == 0
    assert top.sum() == 70 and np.all(a.indices[top] < 3 * round(0.02 * 5260))  # best 2% by acc
    assert not np.array_equal(a.indices, stratified_sample(acc, reps, STRATA, seed=1).indices)
    with pytest.raises(ValueError, match="stratum 0 has 1 classes"):
        stratified_sample(acc[:50], reps[:50], ((0.02, 5), (1.0, 5)))


def test_sample_from_a_table_takes_representatives() -> None:
    from nasbench.table import load_table

    table = load_table("synthetic-nb201")
    sample = sample_from_table(table, ((0.1, 4), (1.0, 4)), seed=3)
    trained_as = table.scalar("trained_as")
    assert np.array_equal(trained_as[sample.indices], sample.indices)
    assert "synthetic-nb201" in sample.reference


def _study(tmp_path: Path, **changes: object) -> Path:
    study = {
        "sample": {"reference": "synthetic-nb201", "seed": 0, "strata": [[0.1, 2], [1.0, 2]]},
        "seeds": [0, 1],
        "configs": [{"name": "digits-e1", "dataset": "digits", "train": {"epochs": 2, "batch_size": 64}}],
    } | changes
    path = tmp_path / "study.json"
    path.write_text(json.dumps(study))
    return path


@pytest.mark.usefixtures("one_torch_thread")
def test_study_runs_resumes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, out = _study(tmp_path), tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out)]) == 0
    results = load_results(out, "digits-e1")
    assert len(results) == 8 and {r["seed"] for r in results} == {0, 1}
    assert all(len(r["valid_acc"]) == 2 and r["cpu_seconds"] > 0 for r in results)
    table = capsys.readouterr().out
    assert "| digits-e1 | 8 |" in table and (out / "README.md").read_text() == table
    assert (out / "study.png").stat().st_size > 1000 and "![resolution against cost](study.png)" in table
    before = (out / "digits-e1.json").read_text()
    assert main(["calibrate", str(path), "--out", str(out)]) == 0  # nothing left to train
    assert (out / "digits-e1.json").read_text() == before


def test_study_file_errors_name_the_field(tmp_path: Path) -> None:
    bad = _study(tmp_path, configs=[{"name": "x", "dataset": {"num_samples": 100, "valid": 60, "test": 60},
                                     "train": {"epochs": 1}}])
    with pytest.raises(NasbenchError, match="study config 'x': MNIST1DSpec: valid \\+ test = 120"):
        Study.read(bad)
    bad = _study(tmp_path, configs=[{"name": "y", "dataset": "digits", "train": {"epochs": 0}}])
    with pytest.raises(NasbenchError, match="study config 'y': TrainConfig.epochs must be"):
        Study.read(bad)
    assert main(["calibrate", str(tmp_path / "missing.json"), "--out", str(tmp_path)]) == 2
