"""The training-size quality card of a surrogate (``nasbench surrogate sizes``): sizes.json,
sizes.png (held-out rank agreement against the number of trained cells, with the table's
seed-to-seed ceiling) and SIZES.md, in the artifact's ``quality/`` folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nasbench.atomic import atomic_path, atomic_write_text

FORMAT = "nasbench.surrogate-sizes/1"


def write_card(folder: Path, name: str, table: Any, study: dict[str, Any], command: str) -> Path:
    """Write the three files into ``folder/quality``; returns the Markdown card's path."""
    out = Path(folder) / "quality"
    out.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, "surrogate": name, "table": table.name, "table_sha256": table.sha256,
              "command": command, **study}
    atomic_write_text(out / "sizes.json", json.dumps(record, indent=1, sort_keys=True) + "\n")
    plot(out / "sizes.png", record)
    card = out / "SIZES.md"
    atomic_write_text(card, markdown(record))
    return card


def markdown(record: dict[str, Any]) -> str:
    """The card's text: what was fitted, the table of agreements, the ceiling and the verdict."""
    ceiling, need = record.get("ceiling"), record["needed"]
    lines = [f"# {record['surrogate']}: held-out ranking by training-set size", "",
             f"Source table `{record['table']}` (sha256 {record['table_sha256'][:12]}). Made by `{record['command']}`.",
             "",
             f"One fixed held-out split of {record['held_out']:,} cells ({record['test_fraction']:.0%} of the table, "
             f"seed {record['seed']}) scores every fit; each size is drawn {record['repeats']} times uniformly from "
             f"the other {record['pool']:,} cells (once for the whole pool). Figures are the mean over draws with "
             "the range between draws; Kendall tau and Spearman rho of the predicted against the recorded seed-mean "
             "final test accuracy (and final validation accuracy).", "",
             "| trained cells | draws | Kendall tau (test) | Spearman (test) | Kendall tau (valid) | Spearman (valid) |",
             "|---|---|---|---|---|---|"]
    for row in record["summary"]:
        cells = [f"{row[k]['mean']:.3f} [{row[k]['min']:.3f}, {row[k]['max']:.3f}]"
                 for k in ("kendall_test", "spearman_test", "kendall_valid", "spearman_valid")]
        lines.append(f"| {row['size']:,} | {row['draws']} | " + " | ".join(cells) + " |")
    lines.append("")
    if ceiling:
        lines += [f"Ceiling: the table's seed 0 against seed 1 on the same {ceiling['cells']:,} held-out cells gives "
                  f"Kendall tau {ceiling['kendall_test']:.3f} / Spearman {ceiling['spearman_test']:.3f} on test "
                  f"accuracy ({ceiling['kendall_valid']:.3f} / {ceiling['spearman_valid']:.3f} on validation): one "
                  "training run ranks another no better than that. A surrogate of the seed mean can pass a single "
                  "seed's agreement, since averaging removes part of the noise.", ""]
    verdict = (f"Needed: {need['size']:,} trained cells reach a test Kendall tau within {need['tolerance']} of the "
               f"largest fit's ({need['largest_kendall']:.3f} with {need['largest']:,} cells).")
    if need["size"] == need["largest"]:
        verdict += (" The curve has not flattened by the largest size: more trained cells would still improve "
                    "the surrogate.")
    lines += [verdict, "",
              "![held-out agreement by training size](sizes.png)", ""]
    return "\n".join(lines)


def plot(path: Path, record: dict[str, Any]) -> None:
    """Kendall tau and Spearman (test) against training size, draws as points, means as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for key, label, colour in (("kendall_test", "Kendall tau", "C0"), ("spearman_test", "Spearman", "C1")):
        sizes = [r["size"] for r in record["summary"]]
        ax.plot(sizes, [r[key]["mean"] for r in record["summary"]], "-o", color=colour, label=label)
        ax.scatter([f["size"] for f in record["fits"]], [f[key] for f in record["fits"]], color=colour, s=10, alpha=0.5)
        ceiling = (record.get("ceiling") or {}).get(key)
        if ceiling is not None:
            ax.axhline(ceiling, color=colour, linestyle=":", linewidth=1, label=f"{label}: seed 0 vs seed 1")
    ax.set_xscale("log")
    ax.set_xlabel("trained cells the surrogate is fitted on")
    ax.set_ylabel("held-out agreement (test accuracy)")
    ax.set_title(f"{record['surrogate']}: {record['held_out']:,} held-out cells of {record['table']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
