"""A parallel `nasbench generate` that is stopped (SIGTERM, Ctrl-C) or killed outright (kill -9)
leaves no worker process behind: none survives its parent, none keeps the output pipe open
(so `generate | tee` ends), and a stopped run keeps its finished chunks and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clitools import default_sigint

ROOT = Path(__file__).resolve().parents[1]
WAIT = 240  # seconds: generous, the test machine may be shared with a running generation


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, start time) of a live process, None once it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return None if fields[0] in "ZX" else (fields[0], int(fields[1]), fields[19])


def _descendants(root: int) -> dict[int, str]:
    """pid -> start time of every live process below ``root`` (read from /proc)."""
    parents: dict[int, int] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := _stat(int(entry.name))):
            parents[int(entry.name)], starts[int(entry.name)] = info[1], info[2]
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = starts[pid]
                frontier.append(pid)
    return found


def _alive(pid: int, start: str) -> bool:
    info = _stat(pid)
    return info is not None and info[2] == start  # the same process, not a reused pid


def _start_generation(out: Path) -> subprocess.Popen:
    """A small parallel generation (two workers, one cell a chunk), its output piped as `| tee` would."""
    cmd = [sys.executable, "-m", "nasbench", "generate", "--dataset", "digits", "--seeds", "0", "--archs", "30",
           "--epochs", "1", "--preset", "tiny", "--chunk-size", "1", "--workers", "2", "--no-costs", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_sigint)


def _wait_for_training(proc: subprocess.Popen, out: Path) -> dict[int, str]:
    """Wait until both workers train and a chunk is written; returns the generator's descendants."""
    chunks = out / "work" / "chunks"
    deadline = time.monotonic() + WAIT
    while not (chunks.is_dir() and any(chunks.glob("*.parquet"))):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no chunk was written in time"
        time.sleep(0.02)
    workers = _descendants(proc.pid)
    assert len(workers) >= 2, workers  # two workers (and multiprocessing's resource tracker)
    return workers


def _assert_all_gone(workers: dict[int, str]) -> None:
    deadline = time.monotonic() + WAIT
    while any(_alive(pid, start) for pid, start in workers.items()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid, start in workers.items() if _alive(pid, start)], "a worker outlived the generator"


@pytest.mark.parametrize("signum", [
    signal.SIGTERM,
    pytest.param(signal.SIGINT, marks=pytest.mark.slow),  # the same unwinding as SIGTERM, from Ctrl-C
])
def test_stopped_generator_stops_its_workers_and_keeps_finished_chunks(tmp_path, signum):
    out = tmp_path / "stopped"
    proc = _start_generation(out)
    workers = _wait_for_training(proc, out)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=WAIT)  # returns: no worker holds the pipes open
    assert proc.returncode == 128 + signum
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith(f"nasbench: generate stopped by {signal.Signals(signum).name}: "), stderr
    assert "kept in" in last and "run the same command to go on" in last
    assert "Traceback" not in stderr.decode()
    _assert_all_gone(workers)
    kept = sorted((out / "work" / "chunks").glob("*.parquet"))
    assert kept and int(last.split(": ")[2].split(" of ")[0]) == len(kept)
    assert not list((out / "work" / "chunks").glob(".*.tmp"))  # nothing half-written
    assert (out / "work" / "generate.lock").read_text() == ""  # the lock was released cleanly


def test_killed_generator_leaves_no_worker_alive(tmp_path):
    out = tmp_path / "killed"
    proc = _start_generation(out)
    workers = _wait_for_training(proc, out)
    proc.kill()  # kill -9: no handler runs in the parent; the kernel's parent-death signal kills the workers
    proc.communicate(timeout=WAIT)  # returns: no orphan keeps the pipes open (`generate | tee` ends)
    assert proc.returncode == -signal.SIGKILL
    _assert_all_gone(workers)


def test_stop_signals_raise_once_and_leave_an_ignored_signal_ignored():
    from nasbench.generator.stopping import Stopped, stop_on_signals

    term = signal.getsignal(signal.SIGTERM)
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with stop_on_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            with pytest.raises(Stopped) as stopped:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler runs before this ends
            assert stopped.value.signum == signal.SIGTERM
            os.kill(os.getpid(), signal.SIGTERM)  # a second one while unwinding is ignored
        assert signal.getsignal(signal.SIGTERM) == term  # restored
    finally:
        signal.signal(signal.SIGHUP, before)
