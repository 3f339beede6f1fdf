"""Finds surrogates by name: artifact folders under ``<table folder>/surrogates/<name>/``.

A surrogate lives beside the table it was fitted on, as proxy scores and predictor
evaluations do; the table directories searched are nasbench's (``--tables-dir``,
``$NASBENCH_TABLES``, the shipped ``tables/``). A path to an artifact folder works too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nasbench.errors import UnknownNameError
from nasbench.table.catalog import table_dirs

FOLDER = "surrogates"
MANIFEST = "manifest.json"


def list_surrogates(extra: Sequence[str | Path] = ()) -> dict[str, Path]:
    """name -> artifact folder of every surrogate found (the first folder wins on a clash)."""
    found: dict[str, Path] = {}
    for root in table_dirs(extra):
        if root.is_dir():
            for manifest in sorted(root.glob(f"*/{FOLDER}/*/{MANIFEST}")):
                found.setdefault(manifest.parent.name, manifest.parent)
    return found


def resolve_surrogate(name: str | Path, extra: Sequence[str | Path] = ()) -> Path:
    """The artifact folder of a surrogate given by name or by path."""
    path = Path(name)
    if (path / MANIFEST).is_file():
        return path
    known = list_surrogates(extra)
    if str(name) in known:
        return known[str(name)]
    listed = ", ".join(sorted(known)) or "none found"
    raise UnknownNameError(f"unknown surrogate {str(name)!r} (known: {listed})")


def output_folder(table_folder: Path, out: str) -> Path:
    """Where ``nasbench surrogate fit --out OUT`` writes: a bare name goes beside the table
    (``TABLE/surrogates/OUT``), anything with a path separator is taken as a folder."""
    if "/" in out or "\\" in out:
        return Path(out)
    if not out or out.startswith("."):
        raise UnknownNameError(f"--out: a surrogate name must be a plain folder name, got {out!r}")
    return Path(table_folder) / FOLDER / out
