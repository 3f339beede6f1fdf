"""Run a strategy in a process of its own (``nasbench run --isolate``, the default for a
strategy file): the run loop keeps the table and the oracle, the strategy gets what the
protocol owes it and nothing else.

The child is a plain ``subprocess`` running a fresh interpreter, not a multiprocessing
"spawn" worker: spawn re-imports the parent's ``__main__`` in the child and talks pickle
both ways, and a pickle from the child, unpickled here, would run the strategy's code in
the process that holds the table. Here the parent sends pickles (space, Generator,
hardware view, observations) and decodes the child's answers as JSON only; and the child
starts from a known, single-threaded state, so that it can apply its Landlock sandbox
(nasbench.sandbox) before any of the strategy's code runs: it reads the Python
installation, the loaded packages and the strategy's folder, never a table folder or the
load cache, writes only to a private temporary folder, and cannot signal or trace its parent.

Same seed, same trajectory as in-process, bit for bit: the child's strategy gets the same
Generator (pickled with its state), the same space and hardware objects and the
Observations the oracle made. A seed's time limit kills the child's process group.
Set ``NASBENCH_SANDBOX=off`` to run isolated without the filesystem sandbox (the result
records that).
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import nasbench
from nasbench.channel import ChannelClosed, ProtocolError, recv_json, send_pickle
from nasbench.errors import InvalidParameterError, NasbenchError, StrategyError, UnknownNameError
from nasbench.benchmarks import Benchmark
from nasbench.oracle import Oracle
from nasbench.sandbox import deny_paths, sandbox_plan
from nasbench.strategy_calls import STOP, fault_message, malformed_message, timeout_message
from nasbench.table.reader import Table

STARTUP_SECONDS = 120.0  # to start Python, apply the sandbox and import the strategy's file
SANDBOX_ENV = "NASBENCH_SANDBOX"
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from nasbench.isolated_child import main; main()"
ERRORS = {cls.__name__: cls for cls in (StrategyError, UnknownNameError, InvalidParameterError, NasbenchError)}


class RemoteTraceback(Exception):
    """The traceback of an error in the strategy's process (shown with ``--debug``)."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0]) if self.args else ""


class _NoTable(pickle.Pickler):
    """Refuses to send a table or an oracle to the child, whatever holds a reference to one."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (Table, Oracle, Benchmark)):
            raise NasbenchError(f"isolation: a {type(obj).__name__} must never reach the strategy's process")
        return NotImplemented


def importable(module: str) -> bool:
    """Whether a new process could import ``module`` by name (a strategy file loaded by path
    cannot be: no finder knows its made-up module name)."""
    top = module.partition(".")[0]
    for finder in sys.meta_path:
        try:
            if finder.find_spec(top, None) is not None:
                return True
        except Exception:  # noqa: BLE001 - a third-party finder that cannot answer
            continue
    return False


def _shutdown(process: subprocess.Popen, fds: list[int], tmp: str) -> None:
    """Kill the child's process group, close our pipe ends, remove its temporary folder."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    shutil.rmtree(tmp, ignore_errors=True)


class IsolatedStrategy:
    """A strategy class living in its own process; use it where a strategy class goes
    (``run_study``, ``run_once``). ``name``, ``version`` and ``multi_objective`` are the class's."""

    def __init__(self, strategy: dict[str, str], label: str, strategy_file: str | None = None,
                 deny: Sequence[str] = ()) -> None:
        if os.name != "posix":
            raise NasbenchError("isolation: needs a POSIX system (Linux for the filesystem sandbox); "
                                "run with --no-isolate")
        self.label = label
        self.timed_out = False
        self._limit: float | None = STARTUP_SECONDS  # the time limit of the phase under way (see _Deadline)
        self._filesystem: str | None = None
        self._setup: tuple | None = None
        tmp = tempfile.mkdtemp(prefix="nasbench-strategy-")
        child_in, self._to_child = os.pipe()
        self._from_child, child_out = os.pipe()
        env = {k: v for k, v in os.environ.items() if k != "NASBENCH_TABLES"}
        env |= {"TMPDIR": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        off = os.environ.get(SANDBOX_ENV, "").strip().lower() in ("0", "off", "no", "false")
        if not off:  # joblib's probe for POSIX semaphores (/dev/shm) fails in the sandbox and warns
            env.setdefault("JOBLIB_MULTIPROCESSING", "0")
        root = str(Path(nasbench.__file__).resolve().parents[1])
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", BOOT, root, str(os.getpid()), str(child_in), str(child_out)],
                pass_fds=(child_in, child_out), stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        except OSError as exc:
            for fd in (self._to_child, self._from_child):
                os.close(fd)
            shutil.rmtree(tmp, ignore_errors=True)
            raise NasbenchError(f"strategy {label!r}: its process could not be started ({exc})") from exc
        finally:
            os.close(child_in)
            os.close(child_out)
        self._close = weakref.finalize(self, _shutdown, self._process, [self._to_child, self._from_child], tmp)
        boot = {"sys_path": [p for p in sys.path if isinstance(p, str)], "strategy": strategy,
                "sandbox": None if off else sandbox_plan(strategy_file, list(deny), tmp),
                "why_none": f"turned off by {SANDBOX_ENV}={os.environ.get(SANDBOX_ENV)}"}
        try:
            with self._deadline(STARTUP_SECONDS):
                self._send(boot, f"strategy {label!r}", "start-up")
                box = self._reply(f"strategy {label!r}", "start-up", "sandbox")["sandbox"]
                self._filesystem = box.get("filesystem") if isinstance(box, dict) else None
                described = self._reply(f"strategy {label!r}", "loading the strategy", "described")["described"]
                if not (isinstance(box, dict) and isinstance(described, dict)):
                    raise StrategyError(f"strategy {label!r}: the strategy's process broke the protocol at start-up")
        except BaseException:
            self.close()
            raise
        self.isolation = {"process": True, "filesystem": str(box.get("filesystem")),
                          "detail": str(box.get("detail"))[:500], "landlock_abi": box.get("landlock_abi")}
        self.name = str(described.get("name"))[:200]
        self.version = str(described.get("version"))[:100]
        self.multi_objective = described.get("multi_objective") is True
        source = described.get("source_file")
        self.source_file = source if isinstance(source, str) else None

    @classmethod
    def from_spec(cls, spec: str, tables_dirs: Sequence[str | Path] = (),
                  tables: Iterable[str | Path] = ()) -> IsolatedStrategy:
        """The strategy named as on the command line (registered name or ``file.py:Class``)."""
        path = Path(spec.rpartition(":")[0]) if ":" in spec else None
        file = str(path.resolve()) if path is not None and path.is_file() else None
        return cls({"spec": spec}, spec, file, deny_paths(tables_dirs, tables))

    @classmethod
    def from_class(cls, strategy_cls: type, tables: Iterable[str | Path] = ()) -> IsolatedStrategy:
        """``strategy_cls`` loaded afresh in the child: by importable module (registered
        strategies too), else by its strategy file; a class in ``__main__`` or a function cannot be."""
        import inspect

        name = getattr(strategy_cls, "name", "") or strategy_cls.__name__
        try:
            file = inspect.getsourcefile(strategy_cls)
        except TypeError:
            file = None
        module, qualname = strategy_cls.__module__, strategy_cls.__qualname__
        if "<locals>" in qualname or module == "__main__" or not (importable(module) or file):
            raise NasbenchError(f"strategy {name!r}: defined in {module}.{qualname}, which a new process cannot "
                                "import; put it in a file and give path/to/file.py:ClassName")
        spec = {"module": module, "qualname": qualname} if importable(module) else {"spec": f"{file}:{qualname}"}
        return cls(spec, name, os.path.abspath(file) if file else None, deny_paths((), tables))

    def __enter__(self) -> IsolatedStrategy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the child (killed: it holds nothing worth saving)."""
        self._close()

    # -- messages ------------------------------------------------------------------------------
    def _kill(self) -> None:
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _deadline(self, seconds: float | None) -> _Deadline:
        return _Deadline(self, seconds)

    def _gone(self, where: str, during: str, limit: float | None) -> StrategyError:
        """The error for a child that stopped answering."""
        self._kill()
        if self.timed_out and limit is not None:
            if during in ("start-up", "loading the strategy"):
                return StrategyError(f"{where}: did not start within {limit:g} s; its process was killed")
            return StrategyError(timeout_message(where, limit, during, killed=True))
        try:
            code = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        how = "" if code is None else f" (exit status {code})" if code >= 0 else f" (killed by {_signal_name(-code)})"
        return StrategyError(f"{where}: the strategy's process ended during {during}{how}")

    def _send(self, message: Any, where: str, during: str) -> None:
        try:
            send_pickle(self._to_child, message, _NoTable)
        except (ChannelClosed, OSError):
            raise self._gone(where, during, self._limit) from None

    def _reply(self, where: str, during: str, *expected: str) -> dict[str, Any]:
        """The child's next answer, which must hold one of the ``expected`` keys (or an error)."""
        try:
            reply = recv_json(self._from_child)
        except (ChannelClosed, OSError):
            raise self._gone(where, during, self._limit) from None
        except ProtocolError as exc:
            self._kill()
            raise StrategyError(f"{where}: the strategy's process broke the protocol during {during}: {exc}") from None
        if "error" in reply and isinstance(reply["error"], dict):
            error = reply["error"]
            kind = ERRORS.get(error.get("kind"), StrategyError)
            message = str(error.get("message"))
            raise kind(message + self.hint(message)) from RemoteTraceback(str(error.get("traceback", "")))
        if not any(key in reply for key in expected) or not isinstance(reply.get("fault", {}), dict):
            self._kill()
            wanted = " or ".join(key for key in expected if key != "fault")
            raise StrategyError(f"{where}: the strategy's process broke the protocol during {during}: "
                                f"expected {wanted}, got {repr(sorted(reply)[:5])[:200]}")
        return reply

    def hint(self, text: str) -> str:
        """What to add to an error that the filesystem sandbox may have caused."""
        if "PermissionError" not in text or self._filesystem != "landlock":
            return ""
        return (" (an isolated strategy reads only Python, its packages and its own folder; "
                "--no-isolate runs it in nasbench's process)")

    # -- the strategy's side of the run loop ---------------------------------------------------
    def check_params(self, params: dict[str, Any]) -> None:
        """The class's own check of ``params`` (unknown names, missing ones, wrong types)."""
        with self._deadline(STARTUP_SECONDS):
            self._send(("check", params), f"strategy {self.name!r}", "the parameter check")
            self._reply(f"strategy {self.name!r}", "the parameter check", "checked")

    def seed(self, where: str, timeout: float | None = None) -> IsolatedSeed:
        """One seed's calls (a context manager that arms the time limit)."""
        return IsolatedSeed(self, where, timeout)


class _Deadline:
    """Kill the child if a phase runs longer than ``seconds`` (a timer thread: the parent may
    be blocked reading the child's pipe, and a killed child closes it)."""

    def __init__(self, owner: IsolatedStrategy, seconds: float | None) -> None:
        self.owner, self.seconds, self.timer = owner, seconds, None

    def _expire(self) -> None:
        self.owner.timed_out = True
        self.owner._kill()

    def __enter__(self) -> None:
        self.owner._limit = self.seconds
        if self.seconds is not None:
            self.timer = threading.Timer(self.seconds, self._expire)
            self.timer.daemon = True
            self.timer.start()

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.cancel()


class IsolatedSeed:
    """``create``/``ask``/``tell`` of one seed, carried to the child (as InProcessStrategy's)."""

    def __init__(self, owner: IsolatedStrategy, where: str, timeout: float | None) -> None:
        self.owner, self.where = owner, where
        self.deadline = owner._deadline(timeout)

    def __enter__(self) -> IsolatedSeed:
        self.deadline.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.deadline.__exit__()

    def _call(self, message: tuple, name: str, call: str, *expected: str) -> dict[str, Any]:
        self.owner._send(message, self.where, name)
        reply = self.owner._reply(self.where, name, *expected)
        if "fault" in reply:
            fault = reply["fault"]
            at = fault.get("at") if isinstance(fault.get("at"), str) else None
            text = fault_message(self.where, call, str(fault.get("kind")), str(fault.get("text")), at)
            text += self.owner.hint(str(fault.get("kind")))
            raise StrategyError(text) from RemoteTraceback(str(fault.get("traceback", "")))
        return reply

    def create(self, space: Any, rng: Any, max_epochs: int, hardware: Any, params: dict[str, Any]) -> None:
        if self.owner._setup != (id(space), id(hardware), max_epochs):  # sent once per study
            self.owner._send(("setup", space, hardware, max_epochs), self.where, "__init__()")
            self.owner._reply(self.where, "__init__()", "ready")
            self.owner._setup = (id(space), id(hardware), max_epochs)
        self._call(("create", rng, params), "__init__()", "could not be created:", "fault", "created")

    def ask(self) -> Any:
        """``(canonical string, epochs)``, or :data:`STOP`."""
        reply = self._call(("ask",), "ask()", "ask() raised", "fault", "stop", "malformed", "invalid", "arch")
        if "stop" in reply:
            return STOP
        if "malformed" in reply:
            raise StrategyError(f"{self.where}: {malformed_message(str(reply['malformed']))}")
        if "invalid" in reply:
            raise StrategyError(f"{self.where}: proposed an invalid architecture: {reply['invalid']}")
        arch, epochs = reply["arch"], reply.get("epochs")
        if not isinstance(arch, str):
            self.owner._kill()
            raise StrategyError(f"{self.where}: the strategy's process broke the protocol during ask(): "
                                f"an architecture must travel as a string, got {type(arch).__name__}")
        if isinstance(epochs, dict):  # not an integer in the child: the oracle refuses it by this name
            epochs = _Shown(str(epochs.get("repr")))
        return arch, epochs

    def tell(self, observation: Any) -> None:
        self._call(("tell", observation), "tell()", "tell() raised", "fault", "told")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Shown:
    """A value the child could not send, standing in for it by its repr (the oracle names it)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text
