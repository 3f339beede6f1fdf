"""Installed package versions, recorded in tables and result files for provenance."""

from __future__ import annotations

import importlib.metadata


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of nasbench, numpy, pyarrow and the named distributions (those present)."""
    out = {}
    for name in ("nasbench", "numpy", "pyarrow", *names):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out
