"""A user's own proxy, given as ``path/to/file.py:function``: scored and compared in the same
command as the registered ones. The function has the proxy signature
``(model, inputs, targets, loss, generator) -> float``; an attribute ``sign = -1`` on it
says that lower scores predict higher accuracy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from nasbench.errors import NasbenchError
from nasbench.tracebacks import load_failure
from predictors.proxies.base import PROXIES, Proxy

MODULE_PREFIX = "nasbench_user_proxy_"


def is_user_spec(name: str) -> bool:
    """Whether a proxy name is a ``file.py:function`` spec rather than a registered name."""
    return ":" in name and name.split(":", 1)[0].endswith(".py")


def register_user_proxy(spec: str) -> Proxy:
    """Import the function named by ``spec`` and register it under ``spec`` (once)."""
    if spec in PROXIES:
        return PROXIES.get(spec)
    path_text, _, function = spec.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise NasbenchError(f"proxy {spec!r}: no such file {path_text}")
    module_spec = importlib.util.spec_from_file_location(f"{MODULE_PREFIX}{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise NasbenchError(f"proxy {spec!r}: {path_text} is not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the user's code: syntax error, missing import, sys.exit()
        raise NasbenchError(f"proxy {spec!r}: {load_failure(exc, path_text)}") from None
    fn = getattr(module, function, None)
    if not callable(fn):
        raise NasbenchError(f"proxy {spec!r}: {path_text} defines no function {function!r}")
    sys.modules.setdefault(module_spec.name, module)
    proxy = Proxy(spec, fn, sign=int(getattr(fn, "sign", 1)), uses="data+labels",
                  definition=(fn.__doc__ or "a user proxy").strip().splitlines()[0], reference=str(path))
    PROXIES.add(spec, proxy)
    return proxy
