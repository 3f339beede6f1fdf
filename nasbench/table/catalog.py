"""Finds tables by name: folders holding a manifest.json under the table directories.

Search order: folders passed explicitly, then ``$NASBENCH_TABLES`` (os.pathsep-separated),
then the ``tables/`` folder of the source checkout nasbench runs from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nasbench.errors import NasbenchError, TableError, UnknownNameError
from nasbench.table.manifest import MANIFEST_NAME, Manifest

if TYPE_CHECKING:  # the reader needs numpy; finding and listing tables does not
    from nasbench.table.reader import Table

ENV_VAR = "NASBENCH_TABLES"
SHIPPED_TABLES = Path(__file__).resolve().parents[2] / "tables"


def table_dirs(extra: Sequence[str | Path] = ()) -> list[Path]:
    """The folders searched for tables, in order."""
    dirs = [Path(d) for d in extra]
    dirs += [Path(d) for d in os.environ.get(ENV_VAR, "").split(os.pathsep) if d]
    if SHIPPED_TABLES.is_dir():
        dirs.append(SHIPPED_TABLES)
    return dirs


def list_tables(extra: Sequence[str | Path] = ()) -> dict[str, Path]:
    """name -> folder of every table found (the first folder wins on a name clash)."""
    found: dict[str, Path] = {}
    for root in table_dirs(extra):
        if not root.is_dir():
            continue
        for manifest in sorted(root.glob(f"*/{MANIFEST_NAME}")):
            found.setdefault(manifest.parent.name, manifest.parent)
    return found


def resolve_table(name: str | Path, extra: Sequence[str | Path] = ()) -> Path:
    """The folder of a table given by name, or by a path to its folder."""
    path = Path(name)
    if path.is_dir() and (path / MANIFEST_NAME).is_file():
        return path
    tables = list_tables(extra)
    if str(name) in tables:
        return tables[str(name)]
    if path.is_dir():
        raise TableError(f"table folder {path}: missing {MANIFEST_NAME}")
    known = ", ".join(sorted(tables)) or "none found"
    raise UnknownNameError(f"unknown table {str(name)!r} (known: {known})")


def load_table(name: str | Path, extra: Sequence[str | Path] = (), verify: bool = True) -> Table:
    """Load a table by name or folder (checksums verified unless ``verify=False``)."""
    from nasbench.table.reader import read_table

    return read_table(resolve_table(name, extra), verify=verify)


def cited_identity(name: str, sha256: str, extra: Sequence[str | Path] = ()) -> str:
    """The identity of table ``name`` when a result's ``sha256`` (identity or the legacy manifest hash)
    names it, so results citing either form compare equal; otherwise ``sha256`` unchanged."""
    try:
        manifest = Manifest.read(resolve_table(name, extra))
    except NasbenchError:
        return sha256
    return manifest.sha256 if manifest.matches(sha256) else sha256
