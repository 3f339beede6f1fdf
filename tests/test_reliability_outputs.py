"""Never a lost result: output paths are checked before any work, finished seeds are written
as they finish, and an interrupted run keeps them and says where (issue 11, group 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clitools import assert_user_error, default_sigint

from nasbench.study import StudyResult

REPO = Path(__file__).resolve().parents[1]
RUN = ("run", "random", "--table", "synth-small", "--budget", "5", "--seeds", "2")
WAIT = 240  # seconds: generous, the test machine may be shared with other work


@pytest.mark.parametrize("flags, fragments", [
    (["--out", "{tmp}/res.png"], ["--out: {tmp}/res.png should end in .json"]),
    (["--out", "{tmp}/r.json", "--plot", "{tmp}/r.json"], ["--plot: {tmp}/r.json is also the --out file"]),
    (["--out", "{tmp}"], ["--out: {tmp} should end in .json"]),
    (["--out", "{tmp}/d.json"], ["--out: {tmp}/d.json is a folder"]),
    (["--out", "{tmp}/missing/r.json"], ["--out: folder {tmp}/missing does not exist"]),
    (["--out", "/proc/r.json"], ["--out: cannot write in /proc"]),
    (["--out", "{tmp}/r.json", "--plot", "{tmp}/r.txt"], ["--plot: {tmp}/r.txt should end in .png or .pdf or .svg"]),
])
def test_bad_output_paths_are_refused_before_any_seed_runs(cli, tmp_path, flags, fragments):
    (tmp_path / "d.json").mkdir()
    args = [flag.format(tmp=tmp_path) for flag in flags]
    assert_user_error(cli(*RUN, *args), *(f.format(tmp=tmp_path) for f in fragments))
    assert not (tmp_path / "r.json").exists()


def test_an_existing_result_is_kept_without_force(cli, tmp_path):
    out = tmp_path / "r.json"
    assert cli(*RUN, "--out", out)[0] == 0
    before = out.read_bytes()
    assert_user_error(cli(*RUN, "--seeds", "3", "--out", out), f"--out: {out} exists; pass --force")
    assert out.read_bytes() == before
    assert cli(*RUN, "--seeds", "3", "--out", out, "--force")[0] == 0
    assert StudyResult.load(out).seeds == [0, 1, 2]


def test_a_failure_without_out_does_not_claim_to_keep_anything(cli, tmp_path):
    source = tmp_path / "late.py"
    source.write_text(
        "from strategies.base import Strategy\n\n"
        "class Late(Strategy):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **kwargs)\n"
        "        self.fails = self.rng.random() < 0.5  # seed 5 is the first whose first draw is below 0.5\n\n"
        "    def ask(self):\n"
        "        if self.fails:\n"
        "            raise RuntimeError('late')\n"
        "        return self.space.from_index(int(self.rng.integers(200)))\n"
    )
    status, _, err = cli("run", f"{source}:Late", "--table", "synth-small", "--budget", "3", "--seeds", "20")
    assert status == 2 and "Traceback" not in err
    assert "(seed 5): ask() raised RuntimeError: late (5 of 20 seeds had finished; pass --out to keep" in err


SLOW = (
    "import time\n"
    "from strategies.base import Strategy\n\n"
    "class Slow(Strategy):\n"
    "    def ask(self):\n"
    "        time.sleep(0.01)\n"
    "        return self.space.from_index(int(self.rng.integers(200)))\n\n"
    "    def tell(self, observation):\n"
    "        pass\n"
)


def _wait_for_seeds(child: subprocess.Popen, out: Path, seeds: int) -> None:
    """Wait until the running ``child`` has written a result file holding ``seeds`` finished seeds."""
    deadline = time.monotonic() + WAIT
    while not (out.exists() and len(StudyResult.load(out).seeds) >= seeds):  # each write is atomic
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, f"{out} did not get {seeds} finished seeds within {WAIT} s"
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signalled_run_keeps_its_finished_seeds_and_says_where(tmp_path, small_table_dir, signum):
    source, out = tmp_path / "slow.py", tmp_path / "slow.json"
    source.write_text(SLOW)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "nasbench", "--tables-dir", str(small_table_dir.parent), "run",
               f"{source}:Slow", "--table", "synth-small", "--budget", "10", "--seeds", "1000", "--out", str(out)]
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=default_sigint)
    _wait_for_seeds(child, out, 2)  # the second write comes after the first was counted as kept
    child.send_signal(signum)
    _, err = child.communicate(timeout=WAIT)
    assert child.returncode == 128 + signum, err
    kept = StudyResult.load(out)
    assert 1 <= len(kept.seeds) < 1000 and kept.seeds == list(range(len(kept.seeds))) and not kept.complete
    assert err.strip().splitlines()[-1].startswith("nasbench: interrupted (the ") and str(out) in err
    assert "Traceback" not in err


def test_compare_marks_a_partial_result(cli, tmp_path):
    out = tmp_path / "r.json"
    assert cli(*RUN, "--out", out)[0] == 0
    result = StudyResult.load(out)
    result.planned_seeds = [0, 1, 2, 3]
    result.save(out)
    status, text, _ = cli("compare", out)
    assert status == 0 and "note: random is a partial run: 2 of its 4 planned seeds finished" in text


def test_synth_does_not_replace_a_table_without_force(cli, tmp_path):
    folder = tmp_path / "mine"
    assert cli("tables", "synth", folder, "--archs", "20", "--epochs", "2")[0] == 0
    before = (folder / "manifest.json").read_bytes()
    assert_user_error(cli("tables", "synth", folder, "--archs", "30", "--epochs", "2"),
                      f"{folder}: holds a table already; pass --force to replace it")
    assert (folder / "manifest.json").read_bytes() == before
    assert cli("tables", "synth", folder, "--archs", "30", "--epochs", "2", "--force")[0] == 0
    assert b'"num_archs": 30' in (folder / "manifest.json").read_bytes()
