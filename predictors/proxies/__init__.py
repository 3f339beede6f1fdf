"""Zero-cost proxies (the 13 of NAS-Bench-Suite-Zero and ZiCo): see README.md beside this file.

Importing this package imports no torch; :func:`load_proxies` imports the modules that
define the proxies (and torch with them) and registers each in :data:`PROXIES`.
"""

from __future__ import annotations

import importlib

from predictors.proxies.base import PROXIES, Proxy, ProxyError, compute, register

PROXY_MODULES: tuple[str, ...] = ("gradients", "activations", "counts")


def load_proxies() -> list[str]:
    """Import every proxy module (registering its proxies) and return the registered names."""
    for module in PROXY_MODULES:
        importlib.import_module(f"predictors.proxies.{module}")
    return PROXIES.names()


__all__ = ["PROXIES", "PROXY_MODULES", "Proxy", "ProxyError", "compute", "load_proxies", "register"]
