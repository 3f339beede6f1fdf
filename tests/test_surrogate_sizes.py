"""``nasbench surrogate sizes``: held-out rank agreement by training-set size on a table that is
a sample of a large space (a synthetic nb101 table), with the seed ceiling and the verdict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasbench.errors import InvalidParameterError
from predictors.surrogate.sizes import SizeFit, needed, size_fits, split

FAST = {"n_models": 2, "max_steps": 100}


def test_split_is_fixed_and_disjoint(nb101_table):
    pool, test = split(nb101_table.indices, 0.25, 0)
    again_pool, again_test = split(nb101_table.indices, 0.25, 0)
    np.testing.assert_array_equal(test, again_test)
    assert len(test) == 75 and len(np.intersect1d(pool, test)) == 0
    assert len(pool) + len(test) == len(nb101_table.indices)
    with pytest.raises(InvalidParameterError, match="test_fraction"):
        split(nb101_table.indices, 0.999, 0)


def test_more_cells_rank_the_held_out_cells_better(nb101_table):
    kept = []
    study = size_fits(nb101_table, [16, 225], repeats=2, seed=0, hyper=FAST, keep=lambda m, t: kept.append(t))
    small, large = study["summary"]
    assert (small["size"], small["draws"], large["size"], large["draws"]) == (16, 2, 225, 1)
    assert large["kendall_test"]["mean"] > small["kendall_test"]["mean"]
    assert 0 < large["spearman_test"]["mean"] <= 1
    assert study["ceiling"]["cells"] == study["held_out"] == 75
    assert study["ceiling"]["kendall_test"] > 0.5  # the synthetic table's seeds agree
    assert len(kept) == 1 and len(kept[0]) == 225
    again = size_fits(nb101_table, [16], repeats=1, seed=0, hyper=FAST)
    assert again["fits"][0] == study["fits"][0]  # seeded, bit for bit
    with pytest.raises(InvalidParameterError, match="sizes"):
        size_fits(nb101_table, [16, 226], hyper=FAST)


def test_needed_is_the_smallest_size_close_to_the_largest():
    def fit(size: int, tau: float) -> SizeFit:
        return SizeFit(size, 0, tau, tau, tau, tau)

    assert needed([fit(50, 0.40), fit(100, 0.59), fit(200, 0.60)])["size"] == 100
    assert needed([fit(50, 0.40), fit(100, 0.50), fit(200, 0.60)])["size"] == 200


def test_cli_writes_the_surrogate_and_its_card(nb101_table, tmp_path, capsys, monkeypatch):
    import shutil

    from nasbench.cli import main

    root = tmp_path / "tables"
    shutil.copytree(nb101_table.path, root / "synthetic-nb101")
    argv = ["--tables-dir", str(root), "surrogate", "sizes", "--table", "synthetic-nb101", "--out", "sz",
            "--sizes", "16", "225", "--repeats", "1", "--param", "n_models=2", "--param", "max_steps=100"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "needed:" in out and "seed 0 vs seed 1" in out
    folder = root / "synthetic-nb101" / "surrogates" / "sz"
    record = json.loads((folder / "quality" / "sizes.json").read_text())
    assert record["format"] == "nasbench.surrogate-sizes/1" and record["surrogate"] == "sz"
    assert "--sizes 16 225" in record["command"]
    assert (folder / "quality" / "sizes.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 225 | 1 |" in (folder / "quality" / "SIZES.md").read_text()
    assert main(["--tables-dir", str(root), "surrogate", "verify", "sz"]) == 0
    assert main(argv) == 2  # exists: needs --force
    assert "--force" in capsys.readouterr().err
