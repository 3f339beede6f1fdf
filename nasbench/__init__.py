"""nasbench: tabular and surrogate benchmarks for neural architecture search."""

__version__ = "0.1.0"
