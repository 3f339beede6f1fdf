"""The datasheet's zero-cost proxy section: each proxy's rank correlation on this table (read
from ``TABLE/proxies/correlation.json``, written by ``nasbench proxies correlate``) beside
the figures published for NAS-Bench-201 on CIFAR-10."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasbench.table.derived import current_json

# Spearman rho over all 15,625 NAS-Bench-201 cells, CIFAR-10 test accuracy, as published
# (Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS", Table 1; #params as
# reported there and in NAS-Bench-Suite-Zero).
PUBLISHED_NB201_CIFAR10 = {"synflow": 0.74, "jacob_cov": 0.73, "snip": 0.60, "grad_norm": 0.59,
                           "grasp": 0.51, "fisher": 0.36, "params": 0.7}


def proxy_lines(folder: Path, sha256: str, space: str = "nb201") -> list[str]:
    """Markdown lines of the section; empty when the table has no (current) correlation file.
    The published NAS-Bench-201 figures are shown beside an NB201 table only."""
    data = current_json(Path(folder) / "proxies" / "correlation.json", sha256)
    if data is None:
        return []
    rows = _rows(data["figures"])
    nb201 = space == "nb201"
    lines = ["## Zero-cost proxies", "",
             (f"From `nasbench proxies correlate --table {data['table']}`: each proxy's score (sign applied) on "
              f"the untrained network, init seeds {data['init_seeds']}, against the final test accuracy over the "
              f"connected cells; mean over init seeds with a 95% bootstrap interval over architectures "
              f"({data['draws']} draws), half the range of the all-cell Spearman across init seeds"
              + (", and the published NAS-Bench-201 CIFAR-10 Spearman for comparison" if nb201 else "")
              + ". Two proxies whose intervals overlap are not ranked against each other."), "",
             "| proxy | Spearman (all) | +- init seeds | Kendall (all) | Spearman (unique) | Spearman (top half) "
             "| P@10% | P@1% | non-finite" + (" | NB201 CIFAR-10 (published) |" if nb201 else " |"),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if nb201 else "")]
    for proxy in sorted(rows, key=lambda p: -rows[p].get(("all", "spearman"), (-2,))[0]):
        r = rows[proxy]
        if ("all", "spearman") not in r:
            continue
        published = PUBLISHED_NB201_CIFAR10.get(proxy)
        lines.append(f"| {proxy} | {_cell(r, 'all', 'spearman')} | {r['seed_range'] / 2:.3f} | {_cell(r, 'all', 'kendall')} | "
                     f"{_cell(r, 'unique', 'spearman')} | {_cell(r, 'top-half', 'spearman')} | "
                     f"{r[('all', 'p@10%')][0]:.2f} | {r[('all', 'p@1%')][0]:.2f} | {r['non_finite']} |"
                     + (("  |" if published is None else f" {published:.2f} |") if nb201 else ""))
    apart = data.get("disconnected") or {}
    lines += ["", (f"{apart.get('cells', 0):,} cells have no path from input to output; they are left out above "
                   f"and reported in `proxies/correlation.json`.") if nb201 else
              "Every cell of this space has a path from input to output (pruned NB101 cells).", ""]
    return lines


def _rows(figures: list[dict[str, Any]]) -> dict[str, dict[Any, Any]]:
    rows: dict[str, dict[Any, Any]] = {}
    for f in figures:
        if f["target"] != "test_acc":
            continue
        row = rows.setdefault(f["proxy"], {"non_finite": 0, "seed_range": 0.0})
        row[(f["subset"], f["statistic"])] = (f["mean"], f["low"], f["high"])
        if f["subset"] == "all":
            row["non_finite"] = f["non_finite"]
            if f["statistic"] == "spearman":
                row["seed_range"] = float(f.get("seed_range", 0.0))
    return rows


def _cell(row: dict[Any, Any], subset: str, statistic: str) -> str:
    if (subset, statistic) not in row:
        return ""
    mean, low, high = row[(subset, statistic)]
    return f"{mean:.2f} [{low:.2f}, {high:.2f}]"
