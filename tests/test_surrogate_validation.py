"""``nasbench surrogate validate`` end to end on a small scale: fits by fraction and sampler,
leave one strategy out, table runs re-run on the surrogate, the quality card and its redraw."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasbench.oracle import Budget
from nasbench.study import run_study
from predictors.surrogate.sampling import trajectory_sample, uniform_sample, unseen_cells, visited_indices
from predictors.surrogate.validation_runs import PairedRuns, ranking_agreement
from strategies import get_strategy


@pytest.fixture(scope="module")
def runs(full_table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    paths = []
    for name in ("random", "evolution", "local-search"):
        result = run_study(get_strategy(name), full_table, Budget(queries=40), range(4))
        result.save(folder / f"{name}.json")
        paths.append(folder / f"{name}.json")
    return paths


def test_samplers_and_isomorph_free_held_out(full_table, runs):
    train = uniform_sample(full_table.indices, 0.01, 3)
    assert len(train) == 156 and np.array_equal(train, uniform_sample(full_table.indices, 0.01, 3))
    visited = visited_indices(runs, matches=full_table.matches)
    assert set(visited) == {"random", "evolution", "local-search"}
    drawn = trajectory_sample(visited, full_table.indices, 0.001, 0)
    assert np.isin(drawn, np.concatenate(list(visited.values()))).all()
    left_out = trajectory_sample(visited, full_table.indices, 0.001, 0, exclude="random")
    assert not np.isin(left_out, visited["random"]).any()
    with pytest.raises(Exception, match="visit only"):
        trajectory_sample(visited, full_table.indices, 0.5, 0)
    hashes = full_table.arch_hashes
    held = unseen_cells(hashes, train, np.setdiff1d(full_table.indices, train))
    assert not set(hashes[held]) & set(hashes[train]) and len(held) > 0


def test_ranking_agreement_counts_only_what_the_table_separates(full_table, runs):
    from nasbench.study import StudyResult

    results = [StudyResult.load(p) for p in runs]
    same = [PairedRuns(p.stem, r, r) for p, r in zip(runs, results)]
    agreement = ranking_agreement(same, 40)
    assert agreement["kendall_tau"] == pytest.approx(1.0) and agreement["reversed_significantly"] == []
    assert agreement["same_order"] == agreement["table_significant_pairs"]


def test_validate_writes_a_quality_card_that_can_be_redrawn(cli, copy_table, full_table_dir, runs):
    tables = copy_table(full_table_dir, "synth-val").parent
    run = lambda *a: cli("--tables-dir", tables, *a)  # noqa: E731
    status, out, err = run("surrogate", "validate", "--table", "synth-val", "--results", *runs, "--out", "v",
                           "--fractions", "0.01", "0.2", "--ranking-fraction", "0.2",
                           "--param", "n_models=2", "--param", "max_steps=200")
    assert status == 0, err
    assert "strategy ranking: Kendall tau" in out
    folder = tables / "synth-val/surrogates/v"
    quality = json.loads((folder / "quality/quality.json").read_text())
    rows = {(r["sampler"], r["fraction"]): r for r in quality["fractions"]}
    assert rows[("uniform", 0.01)]["train"] == 156 and "skipped" in rows[("trajectories", 0.2)]
    assert {r["strategy"] for r in quality["leave_one_strategy_out"]} == {"random", "evolution", "local-search"}
    assert [r["label"] for r in quality["runs"]] == ["random", "evolution", "local-search"]
    assert set(quality["curves"]) == {"random", "evolution", "local-search"}
    card = (folder / "quality/QUALITY.md").read_text()
    for heading in ("Held-out fit", "Fit by training-set size", "Noise model", "Leave one strategy out",
                    "Strategies on the surrogate and on the table"):
        assert heading in card
    (folder / "quality/QUALITY.md").unlink()
    status, out, _ = run("surrogate", "card", "v")
    assert status == 0 and (folder / "quality/QUALITY.md").read_text() == card
    assert run("surrogate", "verify", "v")[0] == 0
