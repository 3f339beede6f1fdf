"""Search spaces: pure data (no torch), looked up by name.

The NB101 space loads numpy and its list of cells, so it is imported on first use: a
process that only needs NB201 strings pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nasbench.registry import Registry
from nasbench.spaces.base import SearchSpace
from nasbench.spaces.nb201 import NB201Cell, NB201Space


def _nb101_space() -> SearchSpace:
    from nasbench.spaces.nb101 import NB101Space

    return NB101Space()


#: name -> a callable that makes the space (its class, or a function importing it lazily)
SPACES: Registry[Callable[[], SearchSpace]] = Registry("search space")
SPACES.add("nb201", NB201Space)
SPACES.add("nb101", _nb101_space)


def get_space(name: str) -> SearchSpace:
    """A search space instance by registered name (e.g. ``"nb201"``, ``"nb101"``)."""
    return SPACES.get(name)()


def __getattr__(name: str) -> Any:
    """Import the NB101 names lazily (see the module docstring)."""
    if name in ("NB101Cell", "NB101Space"):
        from nasbench.spaces import nb101

        return getattr(nb101, name)
    raise AttributeError(f"module 'nasbench.spaces' has no attribute {name!r}")


__all__ = ["SPACES", "NB101Cell", "NB101Space", "NB201Cell", "NB201Space", "SearchSpace", "get_space"]
