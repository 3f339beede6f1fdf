"""One generator per output folder: ``generate`` holds an exclusive ``flock`` on
``OUT/work/generate.lock`` while it runs, so a second one on the same folder is refused
(with the holder's pid, host and start time) instead of training everything twice.

The operating system releases the lock when its holder dies, however it dies. The file
itself is never deleted (deleting a locked file lets two processes lock two different
files); a holder that ends normally empties it, so details left in a lock that is free
mean the last holder died (a stale lock): the next generator takes it over with a note.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from nasbench.errors import NasbenchError

LOCK_NAME = "generate.lock"


def lock_path(out: Path) -> Path:
    """The lock file of the generator folder ``out``."""
    from nasbench.generator.assemble import WORK_DIR

    return Path(out) / WORK_DIR / LOCK_NAME


def _holder() -> dict:
    """Who holds the lock: this process."""
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "command": " ".join(sys.argv)[:500]}


def _read(fd: int) -> dict | None:
    """The holder details written in the lock file (None if empty or unreadable)."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 1 << 16).decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"garbled": text[:80]}
    return data if isinstance(data, dict) else {"garbled": text[:80]}


def _running(pid: object) -> bool | None:
    """Whether process ``pid`` exists on this host (None: cannot tell)."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(holder: dict | None) -> str:
    """One phrase naming a lock holder: pid, host and start time."""
    if not holder:
        return "a process that left no details"
    if "garbled" in holder:
        return f"a process that left unreadable details ({holder['garbled']!r})"
    return f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"


def _write(fd: int, holder: dict) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder, sort_keys=True) + "\n").encode(), 0)
    os.fsync(fd)


@contextlib.contextmanager
def output_lock(out: str | os.PathLike[str], note: Callable[[str], None] = lambda line: None) -> Iterator[dict]:
    """Hold the output folder ``out`` for this process (yields the holder details written).

    Raises NasbenchError naming the holder if another process holds it; ``note`` is told
    when a stale lock (its holder died) is taken over.
    """
    path = lock_path(Path(out))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise NasbenchError(f"--out: cannot write the lock file {path} ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            alive = _running(holder.get("pid")) if holder and holder.get("host") == socket.gethostname() else None
            state = " (its pid is gone, but a child of it still holds the lock)" if alive is False else ""
            raise NasbenchError(
                f"{out}: another `nasbench generate` is writing here: {describe(holder)}{state}; "
                "wait for it to end, stop it, or use another --out") from None
        previous = _read(fd)
        if previous:
            same_host = previous.get("host") == socket.gethostname()
            gone = "is no longer running" if same_host and _running(previous.get("pid")) is False else "no longer holds it"
            note(f"took over the stale lock of {out}: {describe(previous)} {gone}")
        holder = _holder()
        _write(fd, holder)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)  # a clean release: an empty file is a free lock
    finally:
        os.close(fd)  # releases the flock
