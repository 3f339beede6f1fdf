"""User errors that printed a traceback: each is one line, exit 2 (issue 11, group 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clitools import assert_user_error

from nasbench.errors import NasbenchError

REPO = Path(__file__).resolve().parents[1]


def test_a_strategy_file_raising_at_import_is_one_line(cli, tmp_path):
    source = tmp_path / "raiser.py"
    source.write_text("x = 1\nraise ValueError('boom at import')\n")
    assert_user_error(cli("run", f"{source}:X", "--table", "synth-small", "--budget", "5"),
                      "raiser.py:2: ValueError: boom at import")


def test_seeds_are_capped_with_a_clear_message(cli):
    status, _, err = cli("run", "random", "--table", "synth-small", "--budget", "5", "--seeds", "99999999999999999999")
    assert status == 2 and "at most 10,000 seeds per run" in err and "Traceback" not in err


def test_a_param_nested_too_deeply_is_a_usage_error(cli):
    deep = "[" * 50_000 + "]" * 50_000
    status, _, err = cli("run", "random", "--table", "synth-small", "--budget", "5", "--param", f"x={deep}")
    assert status == 2 and "the value of x is nested too deeply" in err and "Traceback" not in err


@pytest.mark.parametrize("content, fragment", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "cannot be read as JSON"),
    (b"[1, 2]", "format 'list' is not 'nasbench.study/2'"),
    (b'{"format": "nasbench.study/1"}', "malformed (missing field 'runs')"),
    (b'{"format": "nasbench.study/1", "runs": [{"seed": 0}]}', "malformed (missing field 'costs')"),
    (b'{"format": "nasbench.study/1", "runs": []}', "malformed (no runs)"),
])
def test_compare_on_a_file_that_is_not_a_result_is_one_line(cli, tmp_path, content, fragment):
    path = tmp_path / "thing.json"
    path.write_bytes(content)
    assert_user_error(cli("compare", path), f"result file {path}", fragment)


def test_a_full_disk_on_stdout_is_one_line_exit_2():
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "nasbench", "tables", "list"], cwd=REPO, stdout=full,
                              stderr=subprocess.PIPE, text=True)
    assert done.returncode == 2 and done.stderr.strip() == "nasbench: error: No space left on device"


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    pytest.importorskip("distributed")
    from nasbench.generator import execute

    monkeypatch.setattr(execute, "SCHEDULER_TIMEOUT", "1s")
    run = execute.executor(1, "tcp://127.0.0.1:1")
    with pytest.raises(NasbenchError, match=r"--scheduler: cannot reach Dask scheduler 'tcp://127.0.0.1:1'"):
        list(run([]))
