"""Search spaces: pure data (no torch), looked up by name."""

from __future__ import annotations

from nasbench.registry import Registry
from nasbench.spaces.base import SearchSpace
from nasbench.spaces.nb201 import NB201Cell, NB201Space

SPACES: Registry[type[SearchSpace]] = Registry("search space")
SPACES.add("nb201", NB201Space)


def get_space(name: str) -> SearchSpace:
    """A search space instance by registered name (e.g. ``"nb201"``)."""
    return SPACES.get(name)()


__all__ = ["SPACES", "NB201Cell", "NB201Space", "SearchSpace", "get_space"]
