"""matplotlib on demand: plots are an extra (``pip install 'nasbench[plot]'``), not a core need."""

from __future__ import annotations

from typing import Any

from nasbench.errors import NasbenchError

INSTALL_HINT = "pip install 'nasbench[plot]'"


def have_matplotlib() -> bool:
    """True when matplotlib can be imported (without importing it)."""
    import importlib.util
    import sys

    if "matplotlib" in sys.modules:  # imported already, or blocked (None)
        return sys.modules["matplotlib"] is not None
    return importlib.util.find_spec("matplotlib") is not None


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend; one clear error if not installed."""
    try:
        import matplotlib
    except ImportError:
        raise NasbenchError(f"plots need matplotlib, which is not installed ({INSTALL_HINT})") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
