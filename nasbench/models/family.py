"""One dispatch from an architecture to its network: its space, presets, analytic costs and
torch builder, so that training, the cost stage, latency and proxies stay space-generic.

An architecture is an NB201 cell (or its 6 edge ops), or an NB101 cell (anything with
``.matrix`` and ``.ops``). Torch is imported only by :func:`build_network`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from nasbench.errors import UnknownNameError
from nasbench.models.config import PRESETS, MacroConfig, validate_ops
from nasbench.models.nb101_config import NB101_PRESETS, validate_spec

__all__ = ["space_of", "preset_space", "preset_names", "preset_macro", "checked_arch", "network_costs",
           "build_network", "describe"]


def space_of(arch: Any) -> str:
    """``"nb101"`` for an object with ``.matrix`` and ``.ops``, else ``"nb201"``."""
    return "nb101" if hasattr(arch, "matrix") else "nb201"


def preset_space(preset: str) -> str:
    """The space whose networks a preset builds (UnknownNameError listing the presets)."""
    if preset in PRESETS:
        return "nb201"
    if preset in NB101_PRESETS:
        return "nb101"
    raise UnknownNameError(f"unknown model preset {preset!r} (known: {', '.join(preset_names())})")


def preset_names() -> list[str]:
    """Every preset name, NB201's and NB101's."""
    return sorted({*PRESETS, *NB101_PRESETS})


def preset_macro(preset: str, input_shape: Sequence[int], num_classes: int) -> MacroConfig:
    """A preset's skeleton with a dataset's input shape and number of classes."""
    base = PRESETS[preset] if preset_space(preset) == "nb201" else NB101_PRESETS[preset]
    return dataclasses.replace(base, input_shape=tuple(input_shape), num_classes=num_classes)


def checked_arch(arch: Any) -> Any:
    """The architecture in the form its builder takes (NB201: the ops tuple; NB101: the cell
    or a validated spec), or InvalidArchitectureError naming the bad value."""
    if space_of(arch) == "nb101":
        validate_spec(arch.matrix, arch.ops)
        return arch
    return validate_ops(arch)


def network_costs(arch: Any, macro: MacroConfig) -> tuple[int, int]:
    """(parameters, FLOPs per sample) of :func:`build_network` ``(arch, macro)``."""
    if space_of(arch) == "nb101":
        from nasbench.models.nb101_costs import count_nb101_costs

        return count_nb101_costs(arch.matrix, arch.ops, macro)
    from nasbench.models.costs import count_costs

    return count_costs(arch, macro)


def build_network(arch: Any, macro: MacroConfig) -> Any:
    """The torch network of ``arch`` in skeleton ``macro`` (imports torch)."""
    if space_of(arch) == "nb101":
        from nasbench.models.nb101 import build_nb101_model

        return build_nb101_model(arch.matrix, arch.ops, macro)
    from nasbench.models.nb201 import build_model

    return build_model(arch, macro)


def describe(arch: Any) -> str:
    """A short name of the architecture for messages."""
    if space_of(arch) == "nb101":
        return str(arch) if hasattr(arch, "index") else f"NB101 spec {arch.ops!r}"
    return str(arch)
