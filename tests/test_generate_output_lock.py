"""One generator per output folder: a second `nasbench generate` on a held folder is refused
with the holder's pid, host and start time; the lock of a killed generator is taken over
with a note; an --out that is a file is one line, exit 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from clitools import assert_user_error

from nasbench.cli import main
from nasbench.generator.lock import lock_path, output_lock

ROOT = Path(__file__).resolve().parents[1]
WAIT = 240  # seconds: generous, the test machine may be shared with other work
HOLD = ("import sys; from nasbench.generator.lock import output_lock\n"
        "with output_lock(sys.argv[1]):\n    print('held', flush=True); sys.stdin.read()\n")


def _holder(out: Path) -> subprocess.Popen:
    """Another process holding ``out``'s lock until its stdin closes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=env, text=True)
    assert proc.stdout.readline() == "held\n"
    return proc


def _generate(out: Path, capsys) -> tuple[int, str, str]:
    status = main(["generate", "--dataset", "digits", "--seeds", "0", "--archs", "1", "--epochs", "1",
                   "--preset", "tiny", "--workers", "1", "--no-costs", "--out", str(out)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_second_generator_on_a_held_folder_is_refused_naming_the_holder(tmp_path, capsys):
    out = tmp_path / "held"
    holder = _holder(out)
    try:
        details = json.loads(lock_path(out).read_text())
        assert details["pid"] == holder.pid and details["host"] == socket.gethostname()
        assert_user_error(_generate(out, capsys), "another `nasbench generate` is writing here",
                          f"pid {holder.pid} on {socket.gethostname()}, started {details['started']}")
        assert not (out / "work" / "config.json").exists()  # refused before it wrote anything
    finally:
        holder.stdin.close()
        holder.wait(timeout=WAIT)
    assert lock_path(out).read_text() == ""  # released cleanly: a free lock, no details left
    notes: list[str] = []
    with output_lock(out, notes.append):
        pass
    assert notes == []  # nothing stale to report


def test_lock_of_a_killed_generator_is_taken_over_with_a_note(tmp_path, capsys):
    out = tmp_path / "stale"
    holder = _holder(out)
    holder.send_signal(signal.SIGKILL)  # dies holding the lock: the OS releases it, the details stay
    holder.wait(timeout=WAIT)
    status, stdout, stderr = _generate(out, capsys)
    assert status == 0, stderr
    notes = [line for line in stderr.splitlines() if "stale lock" in line]
    assert len(notes) == 1 and f"pid {holder.pid}" in notes[0] and "is no longer running" in notes[0]
    assert "wrote stale" in stdout


def test_out_that_is_a_file_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "table.parquet"
    path.write_text("not a folder")
    assert_user_error(_generate(path, capsys), f"--out {path} is a file, not a folder")
    assert_user_error(_generate(path / "sub", capsys), f"its parent {path} is a file")
    assert path.read_text() == "not a folder"
