"""What a researcher looks up: the best architectures (``tables top``), one architecture's
learning curve (``query --curve``) and the strategies ``run`` knows (``run --help``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasbench.cli import main
from nasbench.cli.search import strategy_names
from nasbench.errors import NasbenchError, OutOfDomainError
from nasbench.table.views import learning_curve, top_architectures
from conftest import FULL_EPOCHS, FULL_SEEDS, SMALL_ARCHS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tables_root, small_table_dir, capsys):
    def _run(*args: str) -> tuple[int, str, str]:
        status = main(["--tables-dir", str(tables_root), *map(str, args)])
        out, err = capsys.readouterr()
        return status, out, err

    return _run


def test_top_ranks_by_seed_mean_final_accuracy(small_table):
    frame = top_architectures(small_table, k=7)
    final_valid = small_table.curve("valid_acc")[:, :, -1]
    expected = sorted(range(SMALL_ARCHS), key=lambda i: (-small_table.final("valid_acc")[i], i))[:7]
    assert frame["arch_index"].tolist() == expected and frame["rank"].tolist() == list(range(1, 8))
    idx = np.asarray(expected)
    np.testing.assert_allclose(frame["valid_mean"], final_valid[idx].mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(frame["valid_std"], final_valid[idx].std(axis=1, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(frame["test_mean"], small_table.final("test_acc")[idx], rtol=1e-6)
    np.testing.assert_allclose(frame["epoch_seconds"], small_table.curve("epoch_seconds")[idx].mean(axis=(1, 2)),
                               rtol=1e-6)
    np.testing.assert_array_equal(frame["params"], small_table.scalar("params")[idx])
    np.testing.assert_array_equal(frame["flops"], small_table.scalar("flops")[idx])
    np.testing.assert_array_equal(frame["trained_as"], small_table.scalar("trained_as")[idx])
    for device in small_table.latency_devices:
        np.testing.assert_array_equal(frame[f"latency_{device}_ms"], small_table.latency(device)[idx])
    assert frame["arch_str"].tolist() == [str(small_table.space.from_index(int(i))) for i in idx]


def test_top_by_test_and_more_than_present(small_table):
    by_test = top_architectures(small_table, k=1000, by="test")
    assert len(by_test) == SMALL_ARCHS
    assert np.all(np.diff(by_test["test_mean"].to_numpy()) <= 0)
    assert by_test["arch_index"].iloc[0] == int(np.nanargmax(small_table.final("test_acc")))
    for bad in ({"by": "train"}, {"k": 0}, {"k": 2.5}):
        with pytest.raises(NasbenchError):
            top_architectures(small_table, **bad)


def test_cli_tables_top(cli, small_table):
    status, out, _ = cli("tables", "top", "synth-small", "-k", "3")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("synth-small: best 3 of 200 architectures by validation accuracy")
    assert "epoch s" in lines[1] and all(f"{d} ms" in lines[1] for d in small_table.latency_devices)
    frame = top_architectures(small_table, k=3)
    for line, row in zip(lines[2:5], frame.to_dict("records")):
        fields = line.split()
        assert fields[:2] == [str(row["rank"]), str(row["arch_index"])]
        assert fields[2:5] == [f"{row['valid_mean']:.2f}", "+-", f"{row['valid_std']:.2f}"]
        assert row["arch_str"] in line
    assert "SYNTHETIC" in lines[-1]
    status, out, _ = cli("tables", "top", "synth-small", "--by", "test", "-k", "1")
    assert status == 0 and "by test accuracy" in out and "a search chooses on validation accuracy" in out
    assert cli("tables", "top", "synth-small", "-k", "0")[0] == 2


def test_learning_curve_rows_are_the_recorded_epochs(small_table, space):
    arch = str(space.from_index(17))
    curve = learning_curve(small_table, arch)
    assert len(curve) == FULL_EPOCHS * len(FULL_SEEDS)
    assert curve["epoch"].tolist() == list(range(1, FULL_EPOCHS + 1)) * len(FULL_SEEDS)
    assert curve["seed"].tolist() == [s for s in FULL_SEEDS for _ in range(FULL_EPOCHS)]
    for name in ("train_acc", "valid_acc", "test_loss", "epoch_seconds"):
        np.testing.assert_array_equal(curve[name], small_table.curve(name)[17].reshape(-1))
    np.testing.assert_allclose(curve["seconds"], np.cumsum(small_table.curve("epoch_seconds")[17], axis=1).reshape(-1),
                               rtol=1e-6)
    mean = curve.groupby("epoch")["valid_acc"].mean()
    for epoch in (1, FULL_EPOCHS):
        assert mean[epoch] == pytest.approx(small_table.lookup([17], epoch=epoch)[0], rel=1e-6)
    assert learning_curve(small_table, 17).equals(curve)
    with pytest.raises(OutOfDomainError, match="not in table"):
        learning_curve(small_table, SMALL_ARCHS + 5)


def test_cli_query_curve_and_plot(cli, small_table, tmp_path):
    png = tmp_path / "curve.png"
    status, out, _ = cli("query", "--table", "synth-small", "17", "--curve", "--plot", png)
    assert status == 0
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Learning curve"))
    assert lines[start + 1].split() == ["epoch", "train", "valid", "test", "seconds", "valid", "s0", "valid", "s1",
                                        "test", "s0", "test", "s1"]
    rows = [line.split() for line in lines[start + 2:start + 2 + FULL_EPOCHS]]
    assert [r[0] for r in rows] == [str(e) for e in range(1, FULL_EPOCHS + 1)]
    valid = small_table.curve("valid_acc")[17]
    assert rows[-1][2] == f"{valid[:, -1].mean():.2f}" and rows[-1][5:7] == [f"{v:.2f}" for v in valid[:, -1]]
    assert lines[-1] == f"wrote {png}" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, _, err = cli("query", "--table", "synth-small", "17", "--plot", png)
    assert status == 2 and "--plot" in err and "--curve" in err


def test_run_help_lists_every_registered_strategy(capsys):
    from strategies import STRATEGIES

    assert strategy_names() == STRATEGIES.names()
    assert main(["run", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"strategies: {', '.join(STRATEGIES.names())}" in help_text
    assert "path/to/file.py:ClassName" in help_text


def test_run_help_imports_no_strategy_and_no_torch():
    code = ("import sys; from nasbench.cli import main; main(['run', '--help']); "
            "assert not {'torch', 'strategies', 'sklearn'} & set(sys.modules), sorted(sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "random" in done.stdout
