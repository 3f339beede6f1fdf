"""NAS-Bench-201- and NAS-Bench-101-style network builders and their analytic costs.

Importing this package (or ``nasbench.models.costs``, ``nasbench.models.nb101_costs``) does not
import torch; torch is loaded on first use of ``build_model``/``build_nb101_model`` or of the
module classes in ``nasbench.models.nb201``/``nasbench.models.nb101``.
"""

from __future__ import annotations

from typing import Any

from nasbench.models.config import CONV_KERNELS, EDGES, OPS, PRESETS, MacroConfig, validate_ops
from nasbench.models.costs import count_costs, count_flops, count_params
from nasbench.models.nb101_config import NB101_OPS, NB101_PRESETS, compute_vertex_channels, nb101_config
from nasbench.models.nb101_costs import count_nb101_costs, count_nb101_flops, count_nb101_params

__all__ = [
    "OPS", "EDGES", "CONV_KERNELS", "PRESETS", "MacroConfig", "validate_ops",
    "count_costs", "count_flops", "count_params", "build_model",
    "NB101_OPS", "NB101_PRESETS", "compute_vertex_channels", "nb101_config",
    "count_nb101_costs", "count_nb101_flops", "count_nb101_params", "build_nb101_model",
]

_LAZY = {"build_model": "nb201", "NB201Network": "nb201", "build_nb101_model": "nb101", "NB101Network": "nb101"}


def __getattr__(name: str) -> Any:
    """Load torch-backed names lazily, so cost queries never import torch."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"nasbench.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'nasbench.models' has no attribute {name!r}")
