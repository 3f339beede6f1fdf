"""The datasheet's learned-predictor section: how well each predictor, fitted on a few
hundred cells of this table, ranks held-out cells (read from ``TABLE/predictors/
evaluation.json``, written by ``nasbench predictors evaluate``), beside published figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasbench.table.derived import current_json

# Published figures the issue names (other spaces and data: context, not a like-for-like target).
PUBLISHED = [
    ("NAS-Bench-Suite-Zero (Krishnakumar et al. 2022): XGBoost + zero-cost proxies as features, "
     "NAS-Bench-201 CIFAR-10, 400 training architectures", "Kendall 0.79"),
    ("NAS-Bench-301 (Siems et al. 2020): XGBoost surrogate, DARTS space, ~50k architectures", "R2 0.89, Kendall 0.82"),
    ("NAS-Bench-301: GIN surrogate", "R2 0.80, Kendall 0.78"),
]
SHOWN_SIZES = (20, 100, 400, 1000)


def predictor_lines(folder: Path, sha256: str) -> list[str]:
    """Markdown lines of the section; empty when the table has no (current) evaluation."""
    data = current_json(Path(folder) / "predictors" / "evaluation.json", sha256)
    if data is None:
        return []
    summary = data["summary"]
    sizes = [s for s in SHOWN_SIZES if any(row["train_size"] == s for row in summary)]
    plan = data["plan"]
    lines = ["## Learned predictors", "",
             (f"From `nasbench predictors evaluate --table {data['table']}`: each predictor fitted on the mean final "
              f"validation accuracy of N unique cells and scored on {data['split']['test']:,} held-out unique cells "
              f"against their mean final test accuracy. Kendall tau, mean over {plan['seeds']} seeds (nested "
              f"training sets) with a 95% interval; **bold**: the best at that N, and those not significantly "
              f"different from it (paired t-test, Holm, 5%). Full figures: `predictors/evaluation.json`; "
              f"plot: `predictors/kendall.png`."), "",
             "| predictor | features | " + " | ".join(f"N={s}" for s in sizes) + " | R² (N=max) | fit s (N=max) |",
             "|---|---|" + "---|" * len(sizes) + "---|---|"]
    by = {(row["label"], row["train_size"]): row for row in summary}
    largest = max(row["train_size"] for row in summary)
    labels = sorted({row["label"] for row in summary},
                    key=lambda label: -(by.get((label, largest), {}).get("kendall") or -2))
    for label in labels:
        cells = [_cell(by.get((label, size))) for size in sizes]
        at_max = by.get((label, largest), {})
        fit, r2 = at_max.get("fit_seconds"), at_max.get("r2")
        features = next(row["features"] for row in summary if row["label"] == label)
        lines.append(f"| {label} | {features} | " + " | ".join(cells) + f" | {'' if r2 is None else f'{r2:.3f}'} | "
                     f"{'' if fit is None else f'{fit:.2f}'} |")
    lines += ["", "Without training, on the same held-out cells (95% bootstrap interval over cells):", "",
              "| baseline | Kendall | Spearman | P@10% |", "|---|---|---|---|"]
    for row in sorted(data["baselines"], key=lambda r: -(r["kendall"] if r["kendall"] == r["kendall"] else -2)):
        lines.append(f"| {row['label']} | {_interval(row, 'kendall')} | {_interval(row, 'spearman')} | "
                     f"{row['p@10%']:.2f} |")
    lines += ["", "Published, for comparison (other tables and spaces):", ""]
    lines += [f"- {what}: {figure}" for what, figure in PUBLISHED]
    lines += ["", "These are not like-for-like: NAS-Bench-301's surrogates are fitted on tens of thousands of "
              "DARTS cells and scored on held-out ones from the same distribution; NAS-Bench-Suite-Zero's figure is "
              "on NAS-Bench-201 CIFAR-10, whose 15,625 cells are the same as here but trained for 200 epochs on "
              "another data set. What bounds every predictor here is the oracle row: a predictor fitted on "
              "validation accuracy cannot rank test accuracy better than validation accuracy itself does."]
    return lines + [""]


def _cell(row: dict[str, Any] | None) -> str:
    if row is None or row["kendall"] != row["kendall"]:
        return ""
    text = f"{row['kendall']:.3f} [{row['kendall_low']:.3f}, {row['kendall_high']:.3f}]"
    return f"**{text}**" if row.get("best") in ("best", "=") else text


def _interval(row: dict[str, Any], metric: str) -> str:
    return f"{row[metric]:.3f} [{row[metric + '_low']:.2f}, {row[metric + '_high']:.2f}]"
