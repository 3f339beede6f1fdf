"""The isolated strategy process: sandbox itself, load the strategy, answer ask/tell.

Started by :mod:`nasbench.isolation` with ``python -c BOOT ROOT PARENT_PID IN_FD OUT_FD``.
The order is the point: die with the parent, ignore Ctrl-C (the parent handles it and
kills this process), apply the filesystem sandbox while the process has one thread, and
report it at once, before any of the strategy's code runs (so that code cannot forge the
report); only then import numpy, the strategy and its file. The process holds no table
and no oracle: it gets the space, its seeded Generator, the hardware view (a latency
column) and, for each query, the Observation the oracle made in the parent.

Messages in: pickled tuples from the parent. Messages out: JSON objects (see
nasbench.channel), one per message in.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import traceback
from typing import Any

from nasbench.channel import ChannelClosed, recv_pickle, send_json
from nasbench.sandbox import SandboxReport, restrict

PR_SET_PDEATHSIG = 1
MAX_TEXT = 4000  # characters of an error message sent back
MAX_TRACEBACK = 40_000


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when the parent dies (also by ``kill -9``). Linux sends it when the
    parent's thread that started this process ends: start it from the thread that uses it."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _error(exc: BaseException) -> dict[str, Any]:
    """An error of nasbench's (loading the strategy, checking its parameters), as data."""
    from nasbench.errors import NasbenchError

    kind = type(exc).__name__ if isinstance(exc, NasbenchError) else "StrategyError"
    text = str(exc) if isinstance(exc, NasbenchError) else f"{type(exc).__name__}: {exc}"
    return {"error": {"kind": kind, "message": text[:MAX_TEXT], "traceback": _traceback(exc)}}


def _text(exc: BaseException) -> str:
    try:
        return str(exc)[:MAX_TEXT]
    except BaseException:  # an exception whose __str__ raises
        return "<unprintable>"


def _traceback(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(exc))[-MAX_TRACEBACK:]
    except BaseException:
        return ""


def _resolve(spec: dict[str, str]) -> type:
    """The strategy class: by registered name or ``file.py:Class`` (as the CLI gives it), or by
    importable module and qualified name (a class handed to run_study)."""
    if "spec" in spec:
        from strategies import get_strategy

        return get_strategy(spec["spec"])
    import importlib

    found: Any = importlib.import_module(spec["module"])
    for part in spec["qualname"].split("."):
        found = getattr(found, part)
    return found


class Server:
    """Answers the parent's messages for one strategy class."""

    def __init__(self, cls: type, out_fd: int) -> None:
        from nasbench.tracebacks import class_files

        self.cls = cls
        self.out = out_fd
        self.files = class_files(cls)
        self.space: Any = None
        self.hardware: Any = None
        self.max_epochs: int | None = None
        self.strategy: Any = None

    def fault(self, exc: BaseException) -> None:
        from nasbench.tracebacks import user_location

        send_json(self.out, {"fault": {"kind": type(exc).__name__, "text": _text(exc),
                                       "at": user_location(exc, self.files), "traceback": _traceback(exc)}})

    def handle(self, message: tuple) -> None:
        op = message[0]
        if op == "check":
            from nasbench.errors import NasbenchError
            from nasbench.study import check_params

            try:
                check_params(self.cls, message[1])
            except NasbenchError as exc:
                send_json(self.out, _error(exc))
                return
            send_json(self.out, {"checked": True})
        elif op == "setup":
            self.space, self.hardware, self.max_epochs = message[1:]
            send_json(self.out, {"ready": True})
        elif op == "create":
            rng, params = message[1:]
            extra = {} if self.hardware is None else {"hardware": self.hardware}
            self.strategy = None
            try:
                self.strategy = self.cls(self.space, rng, max_epochs=self.max_epochs, **extra, **params)
            except BaseException as exc:  # SystemExit too: every fault of the strategy's is reported
                self.fault(exc)
                return
            send_json(self.out, {"created": True})
        elif op == "ask":
            self.ask()
        elif op == "tell":
            try:
                self.strategy.tell(message[1])
            except BaseException as exc:
                self.fault(exc)
                return
            send_json(self.out, {"told": True})

    def ask(self) -> None:
        import numpy as np

        try:
            proposal = self.strategy.ask()
        except StopIteration:
            send_json(self.out, {"stop": True})
            return
        except BaseException as exc:
            self.fault(exc)
            return
        if isinstance(proposal, tuple) and len(proposal) != 2:
            send_json(self.out, {"malformed": repr(proposal)[:MAX_TEXT]})
            return
        arch, epochs = proposal if isinstance(proposal, tuple) else (proposal, None)
        try:
            text = self.space.to_string(self.space.coerce(arch))
        except Exception as exc:  # the parent's oracle would refuse it with this message
            send_json(self.out, {"invalid": str(exc)[:MAX_TEXT]})
            return
        if epochs is not None and not isinstance(epochs, bool) and isinstance(epochs, (int, np.integer)):
            epochs = int(epochs)
        elif epochs is not None:
            epochs = {"repr": repr(epochs)[:MAX_TEXT]}  # refused by the oracle, which names it
        send_json(self.out, {"arch": text, "epochs": epochs})


def main() -> None:
    """The child's entry point (see the module docstring)."""
    parent, in_fd, out_fd = (int(value) for value in sys.argv[2:5])
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        boot = recv_pickle(in_fd)
        sys.path[:] = boot["sys_path"]
        box = boot["sandbox"]
        report = restrict(box["read"], box["write"], box["deny"]) if box else SandboxReport("none", boot["why_none"])
        send_json(out_fd, {"sandbox": report.as_dict()})
        try:
            server = Server(_resolve(boot["strategy"]), out_fd)
        except BaseException as exc:  # a file that does not load, an unknown name, a class that is not one
            send_json(out_fd, _error(exc))
            return
        cls = server.cls
        send_json(out_fd, {"described": {
            "name": str(getattr(cls, "name", "") or cls.__name__), "version": str(getattr(cls, "version", "1")),
            "multi_objective": bool(getattr(cls, "multi_objective", False)), "source_file": _source_file(cls)}})
        while True:
            message = recv_pickle(in_fd)
            if message[0] == "close":
                return
            server.handle(message)
    except ChannelClosed:  # the parent is gone or done
        return


def _source_file(cls: type) -> str | None:
    import inspect

    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        return None
    return None if path is None else os.path.abspath(path)
