"""Typed Parquet tables: schema, manifest, writer, reader and catalog.

Every name here is imported on first use (PEP 562), so that ``nasbench.table.manifest``
and friends load without numpy; reading a table needs numpy only (its decoded columns are
cached), while the writer, the Arrow schema and the deep verifier import pyarrow.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "CURVE_COLUMNS": "columns", "SCHEMA_VERSION": "columns",
    "Manifest": "manifest", "ShardInfo": "manifest",
    "Table": "reader", "read_table": "reader",
    "cited_identity": "catalog", "list_tables": "catalog", "load_table": "catalog", "resolve_table": "catalog",
    "table_dirs": "catalog",
    "TableWriter": "writer", "arrow_schema": "schema", "verify_table": "verify",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"nasbench.table.{_HOME[name]}"), name)
    raise AttributeError(f"module 'nasbench.table' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
