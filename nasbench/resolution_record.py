"""A table's resolution figures as a record: the :class:`Resolution` dataclass, its Markdown
rows, the one-line verdict ``tables list`` prints, and ``resolution.json`` next to a table.

Kept apart from :mod:`nasbench.resolution` (which computes the figures with numpy) so that
listing tables reads the stored figures without importing numpy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Resolution:
    """The resolution figures of one table or calibration config (see the module doc)."""

    archs: int
    seeds: int
    seed_spearman: float
    top10_spearman: float
    top10_overlap: float
    top1_spearman: float
    top1_overlap: float
    top1_spread: float
    top1_noise: float
    last_gain: float
    best: float
    median: float
    top1_span: float
    regret_floor: float
    regret_floor_std: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def targets(self) -> dict[str, bool]:
        """Which of issue 9's targets are met (the regret-floor one needs strategies' regret)."""
        return {
            "seed Spearman >= 0.97": self.seed_spearman >= 0.97,
            "top-10% split-half Spearman >= 0.7": self.top10_spearman >= 0.7,
            "top-1% overlap >= 60%": self.top1_overlap >= 0.6,
            "top-1% spread > seed noise": self.top1_spread > self.top1_noise,
            "last-10% gain < 0.5": self.last_gain < 0.5,
            "not saturated (best < 99.5, top-1% span >= 2)": self.best < 99.5 and self.top1_span >= 2.0,
        }


FIGURE_LINES: tuple[tuple[str, str, str], ...] = (  # (field, label, target)
    ("seed_spearman", "seed-to-seed Spearman of final validation accuracy", ">= 0.97"),
    ("top10_spearman", "top 10% by one half of the seeds: Spearman of the halves inside it", ">= 0.7"),
    ("top1_overlap", "overlap of the two halves' top-1% sets", ">= 60%"),
    ("top1_spread", "spread (std) of seed-mean accuracy inside the top 1%", "> seed noise"),
    ("top1_noise", "seed noise (std across seeds) inside the top 1%", ""),
    ("last_gain", "median validation gain over the last 10% of epochs (points)", "< 0.5"),
    ("best", "best seed-mean validation accuracy", "clearly < 100"),
    ("top1_span", "max - min seed-mean accuracy inside the top 1% (points)", "several points"),
    ("regret_floor", "regret of exhaustive search by one sampled seed's validation", "well below strategies'"),
)


TARGETS: dict[str, tuple[str, float]] = {  # field -> (comparison, threshold) of issue 9's targets
    "seed_spearman": (">=", 0.97), "top10_spearman": (">=", 0.7), "top1_overlap": (">=", 0.6),
    "last_gain": ("<", 0.5),
}


def figure_text(name: str, value: float, digits: int | None = None) -> str:
    """``value`` as printed (overlaps in %, Spearmans to 3 decimals, the rest 2), with more
    digits where rounding would carry it across its target (0.598 prints 59.8%, not 60%)."""
    if value != value:  # NaN: a figure that needs more seeds or rows
        return "-"
    percent = name.endswith("overlap")
    digits = (0 if percent else 3 if "spearman" in name else 2) if digits is None else digits
    for more in range(4):
        text = f"{value:.{digits + more}%}" if percent else f"{value:.{digits + more}f}"
        if name not in TARGETS:
            return text
        op, threshold = TARGETS[name]
        rounded = float(text.rstrip("%")) / (100 if percent else 1)
        if (rounded >= threshold if op == ">=" else rounded < threshold) == (
                value >= threshold if op == ">=" else value < threshold):
            return text
    return text


def resolution_lines(figures: Resolution) -> list[str]:
    """The figures as Markdown table rows (figure, value, target, met)."""
    met = figures.targets()
    verdict = {
        "seed_spearman": met["seed Spearman >= 0.97"], "top10_spearman": met["top-10% split-half Spearman >= 0.7"],
        "top1_overlap": met["top-1% overlap >= 60%"], "top1_spread": met["top-1% spread > seed noise"],
        "last_gain": met["last-10% gain < 0.5"], "best": figures.best < 99.5,
        "top1_span": figures.top1_span >= 2.0,
    }
    rows = ["| figure | value | target | met |", "|---|---|---|---|"]
    for name, label, target in FIGURE_LINES:
        value = getattr(figures, name)
        text = figure_text(name, value)
        if name == "regret_floor":
            text += f" +- {figures.regret_floor_std:.2f}"
        ok = verdict.get(name)
        rows.append(f"| {label} | {text} | {target} | {'' if ok is None else 'yes' if ok else 'no'} |")
    return rows


RESOLUTION_FILE = "resolution.json"


def verdict(figures: Resolution) -> str:
    """One phrase for ``tables list``: how far down into its top does the table rank?"""
    spread = f"spread {figures.top1_spread:.2f} vs noise {figures.top1_noise:.2f}"
    if figures.top10_spearman >= 0.7 and figures.top1_spread > figures.top1_noise:
        return "resolves its top 1% above seed noise"
    if figures.top10_spearman >= 0.7:
        return (f"ranks its top 10% (split-half Spearman {figures.top10_spearman:.2f}); "
                f"its top 1% is within seed noise ({spread})")
    return f"coarse quick-look table: its top 1% is ordered by seed noise ({spread})"


def write_resolution(folder: str | Path, figures: Resolution, identity: str) -> Path:
    """Store a table's figures next to it (``resolution.json``), tied to its data identity."""
    from nasbench.atomic import atomic_write_text

    path = Path(folder) / RESOLUTION_FILE
    payload = {"table_sha256": identity, "command": f"nasbench tables resolution {Path(folder).name} --write",
               "figures": figures.to_dict()}
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True) + "\n")
    return path


def read_resolution(folder: str | Path, identity: str) -> Resolution | None:
    """The stored figures of the table in ``folder``, or None if absent, unreadable or stale
    (computed on other data than the table's identity ``identity``)."""
    path = Path(folder) / RESOLUTION_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("table_sha256") != identity:
            return None
        return Resolution(**payload["figures"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
