"""Reads a table's proxy table back (no torch): its manifest, checked against the table and
its data file, and the scores as one (init seeds, architectures) array per proxy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import sha256_file
from nasbench.errors import NasbenchError
from predictors.proxies.precompute import DATA, FORMAT, MANIFEST, PROXY_DIR


def read_scores(table: Any, folder: Path | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(manifest, proxy -> (seeds, size) float64 raw scores, NaN where not scored)."""
    import pyarrow.parquet as pq

    folder = Path(folder or Path(table.path) / PROXY_DIR)
    path = folder / MANIFEST
    if not path.is_file():
        raise NasbenchError(f"table {table.name!r} has no proxy scores yet ({path} is missing); "
                            f"run: nasbench proxies compute --table {table.name}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NasbenchError(f"{path}: not a readable proxy manifest ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise NasbenchError(f"{path}: format {manifest.get('format')!r} is not {FORMAT!r}")
    if manifest.get("table_sha256") != table.sha256:
        raise NasbenchError(f"{path}: scores a different version of table {table.name!r} "
                            f"(sha256 {str(manifest.get('table_sha256'))[:16]}, the table is {table.sha256[:16]}); "
                            f"recompute with: nasbench proxies compute --table {table.name}")
    data_path = folder / DATA
    if not data_path.is_file() or sha256_file(data_path) != manifest["files"][0]["sha256"]:
        raise NasbenchError(f"{data_path}: missing or changed since its manifest was written")
    data = pq.read_table(data_path).to_pandas()
    seeds = manifest["init_seeds"]
    size = table.space.size
    out = {}
    for name, rows in data.groupby("proxy", observed=True):
        values = np.full((len(seeds), size), np.nan)
        values[np.searchsorted(seeds, rows["init_seed"].to_numpy()), rows["arch_index"].to_numpy()] = rows["score"]
        out[str(name)] = values
    return manifest, out
