"""What a researcher looks up in a loaded table beyond one record: the best architectures
with their metrics and costs, and one architecture's learning curve (pandas DataFrames;
pandas and matplotlib are imported by the functions that use them)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.atomic import atomic_path
from nasbench.errors import NasbenchError
from nasbench.table.reader import Table, nanmean_quiet
from nasbench.table.columns import CURVE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

RANK_BY = {"valid": "valid_acc", "test": "test_acc"}


def _seed_std(values: np.ndarray) -> np.ndarray:
    """Sample standard deviation over seeds (axis 1, ddof 1); NaN where fewer than 2 seeds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanstd(values, axis=1, ddof=1)


def top_architectures(table: Table, k: int = 10, by: str = "valid") -> pd.DataFrame:
    """The ``k`` best architectures by seed-mean final accuracy on ``by`` ("valid" or "test").

    One row each, best first (ties in index order): ``rank``, ``arch_index``,
    ``arch_str``, ``trained_as`` (the isomorphic cell whose training run the row shares),
    ``valid_mean`` and ``valid_std`` (final-epoch accuracy over seeds; std with ddof 1,
    NaN with one seed), ``test_mean``, ``test_std``, ``params``, ``flops``,
    ``epoch_seconds`` (the row's own mean training seconds per epoch) and
    ``latency_<device>_ms`` for each latency column.
    """
    import pandas as pd

    if by not in RANK_BY:
        raise NasbenchError(f"by: expected one of {', '.join(RANK_BY)}, got {by!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise NasbenchError(f"k: must be a positive integer, got {k!r}")
    present = table.indices
    score = table.final(RANK_BY[by])[present]
    order = np.lexsort((present, -np.nan_to_num(score, nan=-np.inf)))
    idx = present[order[:k]]
    valid = table.curve("valid_acc")[idx, :, -1]
    test = table.curve("test_acc")[idx, :, -1]
    columns: dict[str, Any] = {
        "rank": np.arange(1, len(idx) + 1),
        "arch_index": idx,
        "arch_str": [str(table.space.from_index(int(i))) for i in idx],
        "trained_as": table.scalar("trained_as")[idx],
        "valid_mean": nanmean_quiet(valid, axis=1),
        "valid_std": _seed_std(valid),
        "test_mean": nanmean_quiet(test, axis=1),
        "test_std": _seed_std(test),
        "params": table.scalar("params")[idx],
        "flops": table.scalar("flops")[idx],
        "epoch_seconds": nanmean_quiet(table.curve("epoch_seconds")[idx].reshape(len(idx), -1), axis=1),
    }
    for device in table.latency_devices:
        columns[f"latency_{device}_ms"] = table.latency(device)[idx]
    return pd.DataFrame(columns)


def learning_curve(table: Table, arch: Any) -> pd.DataFrame:
    """One architecture's learning curves: a row per (epoch, seed) it has, epoch 1-based.

    Columns: ``epoch``, ``seed``, every curve column of the schema (accuracies in
    percent, losses in nats, ``epoch_seconds``) and ``seconds``, the training seconds up
    to the end of that epoch. ``frame.groupby("epoch").mean()`` gives the seed mean.
    """
    import pandas as pd

    cell = table.space.coerce(arch)
    index = int(table.check_indices(table.space.index(cell)))
    recorded = table.recorded[index]
    seeds = table.seeds[recorded]
    epochs = np.arange(1, table.epochs + 1)
    columns: dict[str, Any] = {"epoch": np.tile(epochs, len(seeds)), "seed": np.repeat(seeds, table.epochs)}
    for name in CURVE_COLUMNS:
        columns[name] = table.curve(name)[index, recorded].reshape(-1)
    columns["seconds"] = table.cumulative_seconds()[index, recorded].reshape(-1)
    return pd.DataFrame(columns)


def plot_learning_curve(curve: pd.DataFrame, path: str | Path, title: str) -> Path:
    """PNG of accuracy (left) and loss (right) against epoch: seed means, and each seed thin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    mean = curve.groupby("epoch").mean(numeric_only=True)
    for axis, kind, unit in zip(axes, ("acc", "loss"), ("accuracy (%)", "loss (nats)")):
        for split, color in zip(("train", "valid", "test"), ("tab:blue", "tab:orange", "tab:green")):
            column = f"{split}_{kind}"
            for _, run in curve.groupby("seed"):
                axis.plot(run["epoch"], run[column], color=color, alpha=0.3, linewidth=0.8)
            axis.plot(mean.index, mean[column], color=color, marker="o", markersize=3, label=split)
        axis.set(xlabel="epoch", ylabel=unit)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(True, alpha=0.3)
    axes[0].legend(loc="lower right", fontsize="small")
    seeds = ", ".join(str(s) for s in sorted(curve["seed"].unique()))
    fig.suptitle(f"{title}\nmean over seeds {seeds} (thin lines: each seed)", fontsize="medium")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path
