"""Calling a strategy's own code in the run loop's process: whatever it raises (SystemExit
included) becomes one StrategyError naming ``file:line``, and a per-seed time limit
interrupts it from a SIGALRM timer.

Only KeyboardInterrupt passes through: Ctrl-C must still stop the run. The timer raises
:class:`StrategyTimeout` only while the strategy's code runs, never inside the oracle, so
the trajectory stays consistent; it keeps firing every second after the limit, so a
strategy that swallows it once is hit again. A strategy that swallows it for good cannot
be stopped in-process: that is what the isolated process (nasbench.isolation) is for.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable
from typing import Any

from nasbench.errors import NasbenchError, StrategyError
from nasbench.tracebacks import class_files, user_location

STOP = object()  # what ``ask`` gives when the strategy raised StopIteration: the seed ends early
REFIRE_SECONDS = 1.0  # after the limit, the timer fires again this often until the strategy's code returns


class StrategyTimeout(BaseException):
    """Raised inside a strategy's code when its seed's time limit has passed (a BaseException,
    so that a strategy's ``except Exception`` does not swallow it)."""


def check_timeout(timeout: float | None) -> None:
    """A time limit is a positive, finite number of seconds (or None for none)."""
    if timeout is not None and not (
        isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and math.isfinite(timeout) and timeout > 0
    ):
        raise NasbenchError(f"timeout: must be a positive number of seconds, got {timeout!r}")


def fault_message(where: str, call: str, kind: str, text: str, at: str | None) -> str:
    """The one line for a strategy's ``call`` raising ``kind: text``, led by ``file:line``."""
    detail = f"{kind}: {text}" if text else kind
    return f"{at + ': ' if at else ''}{where}: {call} {detail}"


def malformed_message(shown: str) -> str:
    """What is wrong with a proposal that is a tuple but not ``(architecture, epochs)``."""
    return f"ask() must return an architecture or (architecture, epochs), got {shown}"


def timeout_message(where: str, seconds: float, during: str, at: str | None = None, killed: bool = False) -> str:
    """The one line for a seed that ran past its time limit."""
    how = "; its process was killed" if killed else ""
    return (f"{at + ': ' if at else ''}{where}: exceeded the time limit of {seconds:g} s per seed (--timeout) "
            f"during {during}{how}")


class InProcessStrategy:
    """One seed of ``strategy_cls`` run in this process (use as a context manager: it arms
    and disarms the time limit)."""

    def __init__(self, strategy_cls: type, where: str, timeout: float | None = None) -> None:
        self.strategy_cls = strategy_cls
        self.where = where
        self.timeout = timeout
        self.files = class_files(strategy_cls)
        self.strategy: Any = None
        self.expired = False
        self._inside = False
        self._previous: Any = None

    # -- the time limit ------------------------------------------------------------------------
    def _alarm(self, signum: int, frame: Any) -> None:
        self.expired = True
        if self._inside:
            raise StrategyTimeout

    def __enter__(self) -> InProcessStrategy:
        if self.timeout is not None:
            if threading.current_thread() is not threading.main_thread():
                raise NasbenchError("timeout: an in-process run needs the main thread for its timer; "
                                    "run the strategy isolated (isolate=True) instead")
            self._previous = signal.signal(signal.SIGALRM, self._alarm)
            signal.setitimer(signal.ITIMER_REAL, self.timeout, REFIRE_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.timeout is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self._previous is None else self._previous)

    # -- the strategy's calls ------------------------------------------------------------------
    def _call(self, name: str, call: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)``: the strategy's ``name`` (e.g. "ask()"), described as ``call``."""
        if self.expired:
            raise StrategyError(timeout_message(self.where, self.timeout, f"the run loop, before {name}"))
        try:
            self._inside = True
            try:
                return function(*args, **kwargs)
            finally:
                self._inside = False
        except KeyboardInterrupt:
            raise
        except StopIteration:
            if name == "ask()":
                return STOP
            raise StrategyError(fault_message(self.where, call, "StopIteration", "", None)) from None
        except BaseException as exc:  # SystemExit, GeneratorExit, StrategyTimeout and every Exception
            at = user_location(exc, self.files)
            if self.expired:
                raise StrategyError(timeout_message(self.where, self.timeout, name, at)) from exc
            raise StrategyError(fault_message(self.where, call, type(exc).__name__, str(exc), at)) from exc

    def create(self, space: Any, rng: Any, max_epochs: int, hardware: Any, params: dict[str, Any]) -> None:
        extra = {} if hardware is None else {"hardware": hardware}
        self.strategy = self._call("__init__()", "could not be created:", self.strategy_cls, space, rng,
                                   max_epochs=max_epochs, **extra, **params)

    def ask(self) -> Any:
        """The strategy's proposal, or :data:`STOP`."""
        return self._call("ask()", "ask() raised", self.strategy.ask)

    def tell(self, observation: Any) -> None:
        self._call("tell()", "tell() raised", self.strategy.tell, observation)
