"""Benchmarks: what answers a query. A table (recorded training runs) or a surrogate (a
fitted model of one). The budgeted oracle sits on top of either (nasbench.oracle)."""

from nasbench.benchmarks.base import Answer, Benchmark

__all__ = ["Answer", "Benchmark", "as_benchmark"]


def as_benchmark(source: object, metric: str = "valid_acc") -> Benchmark:
    """``source`` itself when it is a :class:`Benchmark`; a loaded table becomes a
    :class:`~nasbench.benchmarks.table.TableBenchmark` answering with ``metric``."""
    if isinstance(source, Benchmark):
        return source
    from nasbench.benchmarks.table import TableBenchmark

    return TableBenchmark(source, metric)  # type: ignore[arg-type]
