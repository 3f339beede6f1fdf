"""Search strategies (ask/tell), one module each; see strategies/README.md."""

from strategies.bananas import Bananas
from strategies.base import Strategy
from strategies.bohb import BOHB
from strategies.hyperband import Hyperband
from strategies.local_search import LocalSearch
from strategies.nsga2 import NSGA2
from strategies.random_search import RandomSearch
from strategies.registry import STRATEGIES, get_strategy, register
from strategies.regularized_evolution import RegularizedEvolution
from strategies.reinforce import Reinforce

__all__ = ["BOHB", "Bananas", "NSGA2", "STRATEGIES", "Hyperband", "LocalSearch", "RandomSearch", "RegularizedEvolution", "Reinforce", "Strategy", "get_strategy", "register"]
