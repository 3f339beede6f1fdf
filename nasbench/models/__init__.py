"""NAS-Bench-201-style network builder and its analytic costs.

Importing this package (or ``nasbench.models.costs``) does not import torch; torch is
loaded on first use of ``build_model`` or the module classes in ``nasbench.models.nb201``.
"""

from __future__ import annotations

from typing import Any

from nasbench.models.config import CONV_KERNELS, EDGES, OPS, PRESETS, MacroConfig, validate_ops
from nasbench.models.costs import count_costs, count_flops, count_params

__all__ = [
    "OPS", "EDGES", "CONV_KERNELS", "PRESETS", "MacroConfig", "validate_ops",
    "count_costs", "count_flops", "count_params", "build_model",
]

_LAZY = {"build_model", "NB201Network"}


def __getattr__(name: str) -> Any:
    """Load torch-backed names lazily, so cost queries never import torch."""
    if name in _LAZY:
        from nasbench.models import nb201

        return getattr(nb201, name)
    raise AttributeError(f"module 'nasbench.models' has no attribute {name!r}")
