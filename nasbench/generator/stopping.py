"""How a generator run ends when it is told to: SIGTERM (and SIGHUP) unwind the parent like
Ctrl-C does, so its worker processes are stopped and the finished chunks (already on disk,
each written atomically) are kept; a worker dies with its parent even when the parent is
killed outright (``kill -9``), by the Linux parent-death signal.

Without this a worker outlived its parent (parent PID 1, hundreds of MB each), holding the
terminal's stdout so ``generate | tee`` never ended.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1  # linux/prctl.h
STOP_SIGNALS = ("SIGTERM", "SIGHUP")


class Stopped(BaseException):
    """Raised in the main thread by a stop signal; a BaseException, like KeyboardInterrupt, so
    no ``except Exception`` on the way swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class GenerationStopped(BaseException):
    """A generator run stopped by a signal or Ctrl-C; what it finished is kept on disk."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum

    def __str__(self) -> str:
        return str(self.args[0])


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Stopped` in the main thread (once:
    a second signal during the unwinding is ignored). A signal the caller ignores (``nohup``)
    stays ignored; outside the main thread nothing changes (Python allows handlers only there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum: int, frame: object) -> None:
        if not fired:
            fired.append(signum)
            raise Stopped(signum)

    previous = {}
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux ``prctl``); False where
    the system has no such thing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def init_worker_process(parent: int) -> None:
    """Initializer of a training worker: it dies with ``parent`` (the generator), and leaves
    Ctrl-C to the parent, which stops its workers itself (no traceback from each worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
