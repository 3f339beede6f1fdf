"""Search strategies (ask/tell), one module each; see strategies/README.md."""

from strategies.base import Strategy
from strategies.random_search import RandomSearch
from strategies.registry import STRATEGIES, get_strategy, register

__all__ = ["STRATEGIES", "RandomSearch", "Strategy", "get_strategy", "register"]
