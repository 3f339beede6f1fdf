"""Zero-cost proxies (the 13 of NAS-Bench-Suite-Zero and ZiCo): see README.md beside this file.

Importing this package imports no torch; :func:`load_proxies` imports the modules that
define the proxies (and torch with them) and registers each in :data:`PROXIES`.
"""

from __future__ import annotations

import importlib

from predictors.proxies.base import PROXIES, Proxy, ProxyError, compute, register
from predictors.proxies.user import is_user_spec

PROXY_MODULES: tuple[str, ...] = ("gradients", "activations", "counts")


def load_proxies() -> list[str]:
    """Import every proxy module (registering its proxies) and return the built-in names.

    A user's ``file.py:function`` proxy scored earlier in the process is registered too, but
    is not a built-in: it is left out here, so what applies to a leaderboard track does not
    depend on what else the process has scored.
    """
    for module in PROXY_MODULES:
        importlib.import_module(f"predictors.proxies.{module}")
    return [name for name in PROXIES.names() if not is_user_spec(name)]


__all__ = ["PROXIES", "PROXY_MODULES", "Proxy", "ProxyError", "compute", "load_proxies", "register"]
