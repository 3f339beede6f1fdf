"""A strategy's exits and hangs (issue 11, group 2): SystemExit or any BaseException in its code
is a StrategyError naming file:line, KeyboardInterrupt still interrupts, a per-seed time limit
stops it in-process and isolated, and finished seeds are kept; the isolated process never
outlives the run (SIGINT, kill -9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from clitools import assert_user_error, default_sigint

from nasbench.errors import NasbenchError, StrategyError
from nasbench.oracle import Budget
from nasbench.study import StudyFailed, run_study
from strategies import get_strategy

UNRULY = textwrap.dedent(
    """\
    import os
    import sys

    from strategies.base import Strategy


    class Boom(BaseException):
        pass


    class Unruly(Strategy):
        made = 0

        def __init__(self, space, rng, max_epochs=None, hardware=None, where="", how="exit", seed_at=0):
            super().__init__(space, rng, max_epochs, hardware)
            type(self).made += 1
            self.where, self.how, self.bad = where, how, type(self).made > seed_at
            if where == "init":
                self.fail()

        def fail(self):
            if not self.bad:
                return
            if self.how == "exit":
                sys.exit(0)
            if self.how == "boom":
                raise Boom("out of bounds")
            if self.how == "interrupt":
                raise KeyboardInterrupt
            if self.how == "die":
                os._exit(3)
            if self.how == "hang":
                while True:
                    pass
            if self.how == "print-pid-and-hang":
                print(os.getpid(), flush=True)
                while True:
                    pass

        def ask(self):
            if self.where == "ask":
                self.fail()
            return self.sample_arch()

        def tell(self, observation):
            if self.where == "tell":
                self.fail()
    """
)
EXITS_ON_IMPORT = "import sys\n\nsys.exit(0)\n"


@pytest.fixture
def unruly(tmp_path: Path) -> Path:
    path = tmp_path / "unruly.py"
    path.write_text(UNRULY)
    return path


EXIT_LINE = UNRULY.splitlines().index("            sys.exit(0)") + 1  # the innermost line in the file
CALLS = {"init": "could not be created:", "ask": "ask() raised", "tell": "tell() raised"}


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "isolated"])
@pytest.mark.parametrize("where", ["init", "ask", "tell"])
def test_system_exit_is_a_strategy_error_naming_file_and_line(full_table, unruly, where, isolate):
    cls = get_strategy(f"{unruly}:Unruly")
    with pytest.raises(StrategyError) as info:
        run_study(cls, full_table, Budget(queries=3), [0], {"where": where}, isolate=isolate)
    assert str(info.value) == f"{unruly}:{EXIT_LINE}: strategy 'Unruly' (seed 0): {CALLS[where]} SystemExit: 0"


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "isolated"])
def test_any_base_exception_is_a_strategy_error(full_table, unruly, isolate):
    cls = get_strategy(f"{unruly}:Unruly")
    with pytest.raises(StrategyError, match=r"unruly.py:\d+: .*tell\(\) raised Boom: out of bounds"):
        run_study(cls, full_table, Budget(queries=3), [0], {"where": "tell", "how": "boom"}, isolate=isolate)


def test_keyboard_interrupt_still_interrupts_in_process(full_table, unruly):
    with pytest.raises(KeyboardInterrupt):
        run_study(get_strategy(f"{unruly}:Unruly"), full_table, Budget(queries=3), [0], {"where": "ask",
                                                                                      "how": "interrupt"})


def test_an_isolated_process_that_dies_is_named(full_table, unruly):
    with pytest.raises(StrategyError, match=r"'Unruly' \(seed 0\): the strategy's process ended during ask\(\) "
                                            r"\(exit status 3\)"):
        run_study(get_strategy(f"{unruly}:Unruly"), full_table, Budget(queries=3), [0],
                  {"where": "ask", "how": "die"}, isolate=True)


@pytest.mark.parametrize("isolate,limit", [(False, 1.0), (True, 3.0)], ids=["in-process", "isolated"])
def test_a_seed_past_its_time_limit_stops_the_study_and_keeps_finished_seeds(full_table, unruly, isolate, limit):
    cls = get_strategy(f"{unruly}:Unruly")
    params = {"where": "ask", "how": "hang", "seed_at": 2}  # the third strategy made (seed 2) hangs
    with pytest.raises(StudyFailed) as info:
        run_study(cls, full_table, Budget(queries=3), [0, 1, 2, 3], params, isolate=isolate, timeout=limit)
    message = str(info.value)
    assert f"strategy 'Unruly' (seed 2): exceeded the time limit of {limit:g} s per seed (--timeout)" in message
    assert ("its process was killed" in message) == isolate
    assert info.value.result.seeds == [0, 1] and info.value.result.isolation["timeout_s"] == limit


def test_timeout_must_be_a_positive_number(full_table, cli):
    with pytest.raises(NasbenchError, match="timeout: must be a positive number of seconds, got 0"):
        run_study(get_strategy("random"), full_table, Budget(queries=3), [0], timeout=0)
    for bad in ("0", "-1", "nan", "inf"):
        assert_user_error(cli("run", "random", "--table", "synth-full", "--budget", "3", "--timeout", bad),
                          "timeout: must be a positive number of seconds")


# -- on the command line ---------------------------------------------------------------------------


def test_cli_timeout_is_one_line_and_keeps_finished_seeds(cli, unruly, tmp_path):
    out = tmp_path / "kept.json"
    result = cli("run", f"{unruly}:Unruly", "--table", "synth-full", "--budget", "3", "--seeds", "4",
                 "--param", "where=ask", "--param", "how=hang", "--param", "seed_at=2", "--timeout", "3",
                 "--out", out)
    assert_user_error(result, "strategy 'Unruly' (seed 2): exceeded the time limit of 3 s per seed (--timeout)")
    data = json.loads(out.read_text())
    assert [run["seed"] for run in data["runs"]] == [0, 1]
    assert data["isolation"]["process"] is True and data["isolation"]["timeout_s"] == 3


@pytest.mark.parametrize("flag", [[], ["--no-isolate"]], ids=["isolated", "in-process"])
def test_cli_system_exit_on_import_is_an_error(cli, tmp_path, flag):
    path = tmp_path / "leaves.py"
    path.write_text(EXITS_ON_IMPORT)
    status, _, err = cli("run", f"{path}:Any", "--table", "synth-full", "--budget", "3", *flag)
    assert_user_error((status, "", err), f"{path}:3: SystemExit: 0")


def test_cli_isolates_strategy_files_by_default_and_says_when_not(cli, unruly):
    args = ["--table", "synth-full", "--budget", "3", "--seeds", "1"]
    status, out, _ = cli("run", f"{unruly}:Unruly", *args)
    assert status == 0 and "\nisolation own process" in out and "note:" not in out
    status, out, _ = cli("run", f"{unruly}:Unruly", "--no-isolate", *args)
    assert status == 0 and out.startswith("note: --no-isolate:") and "\nisolation none" in out
    status, out, _ = cli("run", "random", *args)
    assert status == 0 and "\nisolation none" in out
    status, out, _ = cli("run", "random", "--isolate", *args)
    assert status == 0 and "\nisolation own process" in out


# -- no orphans -------------------------------------------------------------------------------------


WAIT = 240  # seconds: generous, the test machine may be shared with other work


def _gone(pid: int, within: float = WAIT) -> bool:
    """Whether process ``pid`` has exited (or is a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "kill -9"])
def test_the_strategy_process_dies_with_the_run(unruly, tables_root, full_table_dir, how):
    command = [sys.executable, "-m", "nasbench", "--tables-dir", str(tables_root), "run", f"{unruly}:Unruly",
               "--table", "synth-full", "--budget", "3", "--param", "where=ask", "--param", "how=print-pid-and-hang"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
                           preexec_fn=default_sigint)
    try:
        line = run.stdout.readline()  # the strategy prints its pid from inside ask(), then hangs
        assert line.strip().isdigit(), (line, run.poll())
        child = int(line)
        run.send_signal(how)
        run.wait(timeout=WAIT)
        assert _gone(child), f"the strategy's process {child} outlived the run"
    finally:
        run.kill()
        run.communicate()
    if how == signal.SIGINT:
        assert run.returncode == 130
