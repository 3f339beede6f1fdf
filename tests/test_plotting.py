"""Plots are an extra: without matplotlib, runs still work and asking for a plot is one clear error."""

from __future__ import annotations

import sys

import pytest

from nasbench.cli import main
from nasbench.errors import NasbenchError
from nasbench.plotting import have_matplotlib, pyplot


@pytest.fixture
def no_matplotlib(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError


def test_pyplot_names_the_extra_when_matplotlib_is_missing(no_matplotlib):
    assert not have_matplotlib()
    with pytest.raises(NasbenchError, match=r"nasbench\[plot\]"):
        pyplot()


def test_run_with_out_skips_the_implied_plot_without_matplotlib(no_matplotlib, full_table_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    status = main(["--tables-dir", str(full_table_dir.parent), "run", "random", "--table", full_table_dir.name,
                   "--budget", "5", "--seeds", "2", "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0 and out.is_file() and not out.with_suffix(".png").exists()
    assert "matplotlib is not installed" in text
    status = main(["--tables-dir", str(full_table_dir.parent), "run", "random", "--table", full_table_dir.name,
                   "--budget", "5", "--seeds", "2", "--plot", str(tmp_path / "p.png")])
    assert status == 2 and "nasbench[plot]" in capsys.readouterr().err


def test_pyplot_uses_the_file_backend():
    pytest.importorskip("matplotlib")
    assert have_matplotlib()
    assert pyplot().get_backend().lower() == "agg"
