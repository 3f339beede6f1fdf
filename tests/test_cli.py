"""The ``nasbench`` command line: happy paths, and one clear line (exit 2) per user error."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clitools import assert_user_error

from nasbench.cli import main
from nasbench.study import StudyResult
from nasbench.table import read_table, verify_table


def test_tables_list(cli):
    status, out, _ = cli("tables", "list")
    assert status == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert {"synth-full", "synth-small", "synthetic-nb201"} <= set(rows)
    assert rows["synth-full"].split()[1:5] == ["nb201", "15625", "2", "6"]
    assert rows["synth-small"].split()[1:5] == ["nb201", "200", "2", "6"]
    assert "SYNTHETIC" in rows["synth-small"]


def test_tables_info(cli, full_table):
    status, out, _ = cli("tables", "info", "synth-full")
    assert status == 0
    assert "synth-full" in out and "SYNTHETIC" in out
    assert "15625 of 15625 architectures" in out
    assert f"sha256 {full_table.sha256}" in out
    best = np.nanmax(full_table.final("test_acc"))
    assert f"best {best:.2f}" in out


def test_tables_verify_ok(cli, full_table):
    status, out, _ = cli("tables", "verify", "synth-full")
    assert status == 0
    assert out.startswith("ok   synth-full: 31250 rows, 2 files") and full_table.sha256[:16] in out


def test_tables_verify_every_table(cli):
    status, out, _ = cli("tables", "verify")
    assert status == 0
    assert {line.split()[1].rstrip(":") for line in out.splitlines()} >= {"synth-full", "synth-small", "synthetic-nb201"}


def test_tables_verify_corrupted_copy(cli, small_table_dir, copy_table):
    folder = copy_table(small_table_dir, "broken")
    with open(folder / "data" / "seed-0.parquet", "ab") as handle:
        handle.write(b"x")
    status, out, _ = cli("tables", "verify", folder)
    assert status == 1
    assert out.startswith("FAIL broken:") and "checksum mismatch for data/seed-0.parquet" in out


def test_tables_verify_reports_deep_problems(cli, small_table_dir, copy_table, read_shard, refinalize, set_column):
    folder = copy_table(small_table_dir, "tampered")
    shard = read_shard(folder, "seed-1")
    strings = shard["arch_str"].to_pylist()
    strings[0], strings[1] = strings[1], strings[0]
    refinalize(folder, "seed-1", set_column(shard, "arch_str", strings))
    status, out, _ = cli("tables", "verify", folder)
    assert status == 1 and "FAIL tampered: arch_str" in out


def test_query_by_index_and_by_string(cli, space, full_table):
    cell = space.from_index(9)
    status, out, _ = cli("query", "9", "--table", "synth-full")
    assert status == 0
    assert out.splitlines()[0].startswith(f"{cell}  (index 9, hash {space.hash(cell)})")
    params = int(full_table.scalar("params")[9])
    assert f"params {params:,}" in out
    valid = full_table.curve("valid_acc")[9, :, -1].astype(np.float64)
    test = full_table.curve("test_acc")[9, :, -1].astype(np.float64)
    assert f"valid_acc      mean {valid.mean():7.2f}" in out
    assert f"test_acc       mean {test.mean():7.2f}" in out
    assert "SYNTHETIC" in out
    status2, out2, _ = cli("query", str(cell), "--table", "synth-full")
    assert status2 == 0 and out2 == out


def test_run_random(cli, tmp_path):
    out_file = tmp_path / "result.json"
    status, out, err = cli("run", "random", "--table", "synth-full", "--budget", "20", "--seeds", "3", "--out", out_file)
    assert status == 0, err
    assert "Anytime regret" in out and "over 3 seeds" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["queries", "regret"])
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == ["1", "10", "20"]
    assert f"wrote {out_file}" in out
    result = StudyResult.load(out_file)
    assert result.strategy == "random" and result.seeds == [0, 1, 2] and result.table == "synth-full"
    assert all(len(run.trajectory) == 20 for run in result.runs)


def test_run_is_reproducible(cli, tmp_path):
    outputs = []
    for name in ("a.json", "b.json"):
        status, out, _ = cli("run", "random", "--table", "synth-full", "--budget", "10", "--seeds", "2",
                             "--first-seed", "5", "--trial", "mean", "--out", tmp_path / name)
        assert status == 0
        outputs.append(out.replace(str(tmp_path / name), "").replace(str(tmp_path / name[0]), ""))
    assert outputs[0] == outputs[1]
    a, b = StudyResult.load(tmp_path / "a.json"), StudyResult.load(tmp_path / "b.json")
    assert a.seeds == [5, 6] and a.trial == "mean"
    for ra, rb in zip(a.runs, b.runs):
        np.testing.assert_array_equal(ra.trajectory.indices, rb.trajectory.indices)


def test_run_with_seconds_budget(cli):
    status, out, _ = cli("run", "random", "--table", "synth-full", "--seconds", "120", "--seeds", "2")
    assert status == 0 and "budget 120 s" in out and "Anytime regret" in out


def test_tables_synth(cli, tmp_path):
    target = tmp_path / "made" / "synthetic-mini"
    status, out, _ = cli("tables", "synth", target, "--seeds", "0", "3", "--epochs", "3", "--archs", "50")
    assert status == 0
    assert "wrote synthetic-mini" in out and "100 rows" in out
    table = read_table(target)
    assert table.manifest.seeds == [0, 3] and table.epochs == 3 and table.manifest.num_archs == 50
    assert table.manifest.synthetic is True
    assert verify_table(table) == []


# -- user errors: exit status 2 and one line naming the offending value --------------------------


def test_unknown_table(cli):
    assert_user_error(cli("query", "5", "--table", "no-such-table"), "no-such-table")
    assert_user_error(cli("tables", "info", "no-such-table"), "no-such-table")
    assert_user_error(cli("tables", "verify", "no-such-table"), "no-such-table")


def test_unknown_strategy(cli):
    assert_user_error(cli("run", "simulated-annealing", "--table", "synth-full", "--budget", "5"), "simulated-annealing", "random")


def test_malformed_arch_string(cli):
    assert_user_error(cli("query", "|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "--table", "synth-full"), "conv_5x5")
    assert_user_error(cli("query", "not-an-arch", "--table", "synth-full"), "not-an-arch")


def test_index_out_of_range(cli):
    assert_user_error(cli("query", "99999", "--table", "synth-full"), "99999")
    assert_user_error(cli("query", "500", "--table", "synth-small"), "500", "synth-small")


@pytest.mark.parametrize("budget", ["0", "-5"])
def test_bad_budget(cli, budget):
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", budget), budget)


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "inf"])
def test_bad_seconds(cli, seconds):
    assert_user_error(cli("run", "random", "--table", "synth-full", "--seconds", seconds), seconds)


def test_no_budget(cli):
    assert_user_error(cli("run", "random", "--table", "synth-full"), "no budget", "--budget N", "--seconds S")


def test_missing_table_folder_given_by_path(cli, tmp_path):
    missing = tmp_path / "not-here"
    assert_user_error(cli("tables", "info", missing), str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(cli("tables", "info", empty), str(empty), "manifest.json")


def test_corrupt_table(cli, small_table_dir, copy_table):
    folder = copy_table(small_table_dir, "corrupt")
    with open(folder / "data" / "seed-1.parquet", "ab") as handle:
        handle.write(b"x")
    assert_user_error(cli("query", "3", "--table", folder), "checksum mismatch", "data/seed-1.parquet")
    assert_user_error(cli("tables", "info", folder), "checksum mismatch")


def test_wrong_schema_table(cli, small_table_dir, copy_table, read_shard, rewrite_shard):
    folder = copy_table(small_table_dir, "wrong-schema")
    rewrite_shard(folder, "seed-0", read_shard(folder, "seed-0").drop_columns(["valid_acc"]))
    assert_user_error(cli("query", "3", "--table", folder), "valid_acc")
    assert_user_error(cli("run", "random", "--table", folder, "--budget", "3", "--seeds", "1"), "valid_acc")


def test_strategy_fault(cli, tmp_path):
    path = tmp_path / "faulty.py"
    path.write_text(
        "from strategies.base import Strategy\n"
        "class Faulty(Strategy):\n"
        "    def ask(self):\n"
        "        raise ZeroDivisionError('oops')\n"
    )
    assert_user_error(cli("run", f"{path}:Faulty", "--table", "synth-full", "--budget", "3", "--seeds", "2"),
                      "'Faulty'", "seed 0", "oops")


def test_negative_first_seed(cli):
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "3", "--seeds", "1", "--first-seed", "-1"), "-1")


def test_synth_more_archs_than_the_space(cli, tmp_path):
    assert_user_error(cli("tables", "synth", tmp_path / "too-big", "--archs", "20000"), "20000")


def test_budget_too_small_for_any_query(cli):
    """A seconds budget below the cost of one query is a user mistake, not a crash."""
    status, out, err = cli("run", "random", "--table", "synth-full", "--seconds", "0.01", "--seeds", "2")
    assert "Traceback" not in out + err
    assert status in (0, 2)
    if status == 2:
        assert_user_error((status, out, err), "0.01")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["tables"],
        ["tables", "frobnicate"],
        ["run"],
        ["run", "random", "--budget", "5"],  # --table is required
        ["run", "random", "--table", "t", "--seeds", "0"],
        ["run", "random", "--table", "t", "--seeds", "two"],
        ["run", "random", "--table", "t", "--seconds", "soon"],
        ["run", "random", "--table", "t", "--trial", "median"],
        ["tables", "synth", "x", "--epochs", "0"],
        ["query", "5"],
    ],
)
def test_argparse_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("nasbench ")


def test_console_script(tables_root, small_table_dir):
    """The installed ``nasbench`` entry point (beside this interpreter) works end to end."""
    script = shutil.which("nasbench", path=str(Path(sys.executable).parent))
    assert script, "the nasbench console script is not installed"
    done = subprocess.run([script, "--tables-dir", str(tables_root), "tables", "list"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "synth-small" in done.stdout and "synthetic-nb201" in done.stdout


# -- run: hyperparameters, latency, plots; compare ------------------------------------------
def test_run_writes_result_and_plot_and_records_params(cli, tmp_path):
    out = tmp_path / "res.json"
    status, text, _ = cli("run", "random", "--table", "synth-full", "--budget", "40", "--seeds", "3", "--out", out)
    assert status == 0
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}" in text and f"wrote {png}" in text
    assert StudyResult.load(out).seeds == [0, 1, 2]


def test_run_rejects_an_unknown_hyperparameter(cli):
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--param", "colour=3"),
                      "param 'colour'", "random")
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--param", "oops"), "NAME=VALUE")


def test_constrained_run_counts_only_feasible_architectures(cli, tmp_path, full_table):
    latency = full_table.latency("synthetic-cpu-b1")
    limit = float(np.nanquantile(latency, 0.1))
    out = tmp_path / "c.json"
    status, text, _ = cli("run", "random", "--table", "synth-full", "--budget", "50", "--seeds", "4",
                          "--latency-device", "synthetic-cpu-b1", "--max-latency", str(limit), "--out", out)
    assert status == 0 and f"synthetic-cpu-b1 <= {limit:g} ms" in text
    result = StudyResult.load(out)
    assert result.latency_device == "synthetic-cpu-b1" and result.max_latency == limit
    test = full_table.final("test_acc")
    best_feasible = np.nanmax(np.where(latency <= limit, test, np.nan))
    for run in result.runs:
        assert np.all(latency[run.trajectory.indices] <= limit)
        incumbent = run.regret.incumbents[-1]
        assert run.regret.regret[-1] == pytest.approx(best_feasible - test[incumbent], abs=1e-4)


def test_latency_options_are_checked(cli, full_table):
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--max-latency", "1"),
                      "max_latency", "latency device")
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--latency-device", "tpu"),
                      "'tpu'", "synthetic-cpu-b1")
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5",
                          "--latency-device", "synthetic-cpu-b1", "--max-latency", "1e-9"), "max_latency", "fastest")


def test_compare_overlays_results(cli, tmp_path):
    paths = []
    for seeds in ("3", "4"):
        path = tmp_path / f"r{seeds}.json"
        assert cli("run", "random", "--table", "synth-full", "--budget", "30", "--seeds", seeds, "--out", path)[0] == 0
        paths.append(path)
    plot = tmp_path / "cmp.png"
    status, text, _ = cli("compare", *paths, "--labels", "three", "four", "--plot", plot)
    assert status == 0
    overlay, significance = text.split("\n\n")[:2]
    rows = {line.split()[0]: line.split() for line in overlay.splitlines() if line.startswith(("three", "four"))}
    assert rows["three"][2] == "3" and rows["four"][2] == "4"
    assert "Holm-corrected over 1 pairs" in significance
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert_user_error(cli("compare", *paths, "--labels", "one"), "--labels", "2 result files")


def test_failing_strategy_keeps_finished_seeds(cli, tmp_path):
    source = tmp_path / "flaky.py"
    source.write_text(
        "from strategies.base import Strategy\n\n"
        "class Flaky(Strategy):\n"
        "    runs = 0\n\n"
        "    def ask(self):\n"
        "        if type(self).runs == 3:  # the fourth seed fails on its first ask\n"
        "            raise RuntimeError('flaked')\n"
        "        return self.sample_arch()\n\n"
        "    def tell(self, observation):\n"
        "        if observation.query == 30:\n"
        "            type(self).runs += 1\n"
    )
    out = tmp_path / "flaky.json"
    status, _, err = cli("run", f"{source}:Flaky", "--table", "synth-full", "--budget", "30", "--seeds", "6", "--out", out)
    assert status == 2 and "Traceback" not in err
    assert "strategy 'Flaky' (seed 3): ask() raised RuntimeError: flaked" in err
    assert f"(the 3 of 6 seeds that finished are in {out})" in err
    kept = StudyResult.load(out)
    assert kept.seeds == [0, 1, 2] and all(len(run.trajectory) == 30 for run in kept.runs)
    assert kept.planned_seeds == [0, 1, 2, 3, 4, 5] and not kept.complete


def test_strategies_readme_example_runs_as_documented(cli, tmp_path, full_table):
    """The 'Writing one' example of strategies/README.md, copied verbatim, runs and obeys limits."""
    readme = (Path(__file__).parents[1] / "strategies" / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.splitlines()) <= 22
    source = tmp_path / "my_strategy.py"
    source.write_text(code)
    out = tmp_path / "mine.json"
    status, text, err = cli("run", f"{source}:MutateBest", "--table", "synth-full", "--budget", "60", "--seeds", "3",
                            "--param", "warmup=20", "--out", out)
    assert status == 0, err
    result = StudyResult.load(out)
    assert result.params == {"warmup": 20} and result.strategy == "MutateBest"
    limit = float(np.nanquantile(full_table.latency("synthetic-cpu-b1"), 0.3))
    status, _, err = cli("run", f"{source}:MutateBest", "--table", "synth-full", "--budget", "60", "--seeds", "2",
                         "--latency-device", "synthetic-cpu-b1", "--max-latency", str(limit), "--out", out, "--force")
    assert status == 0, err
    for run in StudyResult.load(out).runs:
        assert np.all(full_table.latency("synthetic-cpu-b1")[run.trajectory.indices] <= limit)


def test_random_search_scored_by_hypervolume_as_nsga2_baseline(cli, tmp_path):
    out = tmp_path / "hv.json"
    status, text, err = cli("run", "random", "--table", "synth-full", "--budget", "40", "--seeds", "3",
                            "--latency-device", "synthetic-cpu-b1", "--objective", "hypervolume", "--out", out)
    assert status == 0, err
    assert "Anytime hypervolume gap" in text and "Pareto front found by seed 0" in text
    result = StudyResult.load(out)
    assert result.multi_objective and result.objective == "hypervolume gap"
    assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "5", "--objective", "hypervolume"),
                      "hypervolume", "latency device")
