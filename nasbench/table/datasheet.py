"""Datasheets of generated tables: the figures a researcher checks before trusting a table.

``datasheet_stats`` computes them (accuracy distribution, seed-to-seed agreement over
unique trainings, latency, cost); ``write_datasheet`` renders README.md and a PNG into the
table folder. Both are pure functions of the table (no torch), so a datasheet can be
rebuilt at any time with ``nasbench tables datasheet NAME``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from nasbench.atomic import atomic_path, atomic_write_text
from nasbench.table.predictor_section import predictor_lines
from nasbench.table.proxy_section import proxy_lines
from nasbench.table.reader import Table

FIGURE_NAME = "accuracy.png"


@dataclass
class SeedAgreement:
    """Spearman and Kendall correlation of final validation accuracy between two seeds."""

    seeds: tuple[int, int]
    spearman: float
    kendall: float
    n: int


@dataclass
class DatasheetStats:
    """The numbers a datasheet reports (accuracies in percent, times in seconds)."""

    unique: np.ndarray  # indices of the architectures actually trained (trained_as == index)
    test_final: np.ndarray  # (size,) mean over seeds of the final test accuracy
    valid_final: np.ndarray
    quantiles: dict[str, float]  # of test_final over all architectures
    seed_agreement: list[SeedAgreement]
    seed_noise: float  # mean over unique archs of the std over seeds (final valid acc)
    arch_spread: float  # std over unique archs of the seed-mean final valid acc
    latency: dict[str, dict[str, float]] = field(default_factory=dict)  # device -> min/median/max
    latency_spearman: dict[tuple[str, str], float] = field(default_factory=dict)
    train_seconds: float = 0.0
    trainings: int = 0


def datasheet_stats(table: Table) -> DatasheetStats:
    """Compute a table's datasheet figures."""
    present = table.indices
    trained_as = table.scalar("trained_as")
    unique = present[trained_as[present] == present]
    test_final = table.final("test_acc").astype(np.float64)
    valid_final = table.final("valid_acc").astype(np.float64)
    values = table.curve("valid_acc")[unique, :, -1].astype(np.float64)  # (unique, seeds)
    agreement = []
    for a, b in itertools.combinations(range(len(table.seeds)), 2):
        ok = np.isfinite(values[:, a]) & np.isfinite(values[:, b])
        rho = stats.spearmanr(values[ok, a], values[ok, b]).statistic
        tau = stats.kendalltau(values[ok, a], values[ok, b]).statistic
        agreement.append(SeedAgreement((int(table.seeds[a]), int(table.seeds[b])), float(rho), float(tau), int(ok.sum())))
    noise = float(np.nanmean(np.nanstd(values, axis=1, ddof=1))) if len(table.seeds) > 1 else float("nan")
    spread = float(np.nanstd(np.nanmean(values, axis=1), ddof=1))
    marks = {"min": 0, "p10": 10, "p25": 25, "median": 50, "p75": 75, "p90": 90, "max": 100}
    quantiles = {k: float(np.nanpercentile(test_final[present], q)) for k, q in marks.items()}
    latency, pairs = {}, {}
    for device in table.latency_devices:
        ms = table.latency(device)[present].astype(np.float64)
        latency[device] = {"min": float(np.nanmin(ms)), "median": float(np.nanmedian(ms)), "max": float(np.nanmax(ms))}
    for a, b in itertools.combinations(table.latency_devices, 2):
        x, y = table.latency(a)[present], table.latency(b)[present]
        ok = np.isfinite(x) & np.isfinite(y)
        pairs[(a, b)] = float(stats.spearmanr(x[ok], y[ok]).statistic)
    generator = table.manifest.generator
    return DatasheetStats(
        unique=unique, test_final=test_final, valid_final=valid_final, quantiles=quantiles,
        seed_agreement=agreement, seed_noise=noise, arch_spread=spread, latency=latency,
        latency_spearman=pairs, train_seconds=float(generator.get("train_seconds", 0.0)),
        trainings=int(generator.get("trainings", 0)),
    )


def plot_datasheet(table: Table, figures: DatasheetStats, path: str | Path) -> Path:
    """PNG: accuracy histogram, seed-vs-seed scatter, and accuracy against latency."""
    from nasbench.plotting import pyplot

    plt = pyplot()

    panels = 3 if table.latency_devices else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.0), constrained_layout=True)
    present = table.indices
    bins = np.linspace(0, 100, 51)
    axes[0].hist(figures.test_final[present], bins=bins, color="tab:blue", alpha=0.75, label="all cells")
    axes[0].hist(figures.test_final[figures.unique], bins=bins, color="tab:orange", alpha=0.75,
                 label="unique (trained) cells")
    axes[0].set(xlabel="final test accuracy (%, mean over seeds)", ylabel="architectures", yscale="log")
    axes[0].legend(fontsize="small", loc="upper left")
    if len(table.seeds) > 1:
        values = table.curve("valid_acc")[figures.unique, :, -1]
        first = figures.seed_agreement[0]
        axes[1].scatter(values[:, 0], values[:, 1], s=3, alpha=0.3, color="tab:green", linewidths=0)
        axes[1].plot([0, 100], [0, 100], color="0.5", linewidth=0.8)
        axes[1].set(xlabel=f"final valid accuracy, seed {table.seeds[0]}",
                    ylabel=f"final valid accuracy, seed {table.seeds[1]}",
                    title=f"Spearman {first.spearman:.3f} over {first.n} unique cells")
    else:
        axes[1].set_axis_off()
    if panels == 3:
        measured = [d for d in table.latency_devices if not d.endswith("-lut")] or table.latency_devices
        device = next((d for d in measured if d.endswith("-b1")), measured[0])
        axes[2].scatter(table.latency(device)[present], figures.test_final[present], s=2, alpha=0.3, linewidths=0)
        axes[2].set(xlabel=f"latency {device} (ms)", ylabel="final test accuracy (%)", xscale="log")
    fig.suptitle(f"{table.name}: {len(present):,} architectures, seeds {[int(s) for s in table.seeds]}")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path


def _best_rows(table: Table, figures: DatasheetStats, count: int) -> list[str]:
    """Markdown rows of the best unique architectures by mean final validation accuracy."""
    order = figures.unique[np.argsort(-figures.valid_final[figures.unique], kind="stable")][:count]
    devices = table.latency_devices[:2]
    head = "| rank | index | architecture | valid % | test % | params | FLOPs |" + "".join(
        f" {d} ms |" for d in devices)
    rows = [head, "|" + "---|" * (7 + len(devices))]
    for rank, index in enumerate(order, 1):
        cells = [str(rank), str(index), f"`{table.space.to_string(table.space.from_index(int(index)))}`",
                 f"{figures.valid_final[index]:.2f}", f"{figures.test_final[index]:.2f}",
                 f"{int(table.scalar('params')[index]):,}", f"{int(table.scalar('flops')[index]):,}"]
        cells += [f"{table.latency(d)[index]:.3f}" for d in devices]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _dataset_source(name: str) -> str:
    """The first line of the dataset loader's docstring (how the arrays are made)."""
    from nasbench.datasets import DATASETS

    try:
        doc = DATASETS.get(name).__doc__ or ""
    except Exception:  # an unregistered dataset: say nothing rather than fail the sheet
        return ""
    return doc.strip().splitlines()[0]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _latency_protocol_lines(protocols: dict[str, dict], devices: list[str]) -> list[str]:
    """How each latency column was measured: protocol, timed network, drift before/after."""
    lines = ["How each column was measured: the share of the variance of log-latency explained by measurement "
             "order in one pass, raw and drift-corrected, and in the column (the median over passes; target < 5%); "
             "the Spearman correlation between passes, raw and corrected:", "",
             "| column | protocol | order explains: raw -> corrected (column) | pass-to-pass Spearman |",
             "|---|---|---|---|"]
    deployed = True
    for device in devices:
        meta = protocols.get(device, {})
        deployed &= bool(meta.get("deployed_network", True))
        drift = meta.get("drift")
        order = (f"{_pct(drift['order_share_before'])} -> {_pct(drift['order_share_after'])} "
                 f"({_pct(drift.get('order_share_column'))})" if drift else "not measured")
        rho = f"{_num(drift['spearman_before'])} -> {_num(drift['spearman_after'])}" if drift else "n/a"
        method = meta.get("method", "not recorded (v1 tables: one pass in index order, no drift correction)")
        lines.append(f"| `{device}` | {method} | {order} | {rho} |")
    network = next((m["network"] for m in protocols.values() if "network" in m), None)
    if network:
        note = "" if deployed else " Some columns did not time the deployed network."
        lines += ["", f"Timed network: {network}.{note}"]
    return lines


def _cost_lines(costs: dict[str, Any]) -> list[str]:
    """How each row's epoch_seconds were obtained, and how well that was validated."""
    method = costs.get("method", "not recorded (v1 tables copy each class's representative's seconds)")
    lines = [f"Per-row `epoch_seconds`: {method}."]
    drift, pooled, check = costs.get("drift"), costs.get("pooling") or {}, costs.get("validation")
    if drift:
        lines.append(
            f"Step times of all {drift['items']:,} cells took {costs.get('timing_cpu_seconds', 0) / 60:.1f} "
            f"CPU-minutes ({drift['passes']} passes, reference cell {drift['reference']} every {drift['every']} "
            f"cells; order explains "
            f"{_pct(drift['order_share_before'])} -> {_pct(drift['order_share_after'])} of the log step-time variance, "
            f"pass-to-pass Spearman {_num(drift['spearman_before'])} -> {_num(drift['spearman_after'])}).")
    if pooled.get("used_model"):
        lines.append(f"Pooled across similar cells: the cost model predicts R^2 = {_num(pooled['r2'])} of the measured "
                     f"log step times out of fold; a measurement's noise is {_pct(pooled['noise_cv'])}, the model's "
                     f"misfit {_pct(pooled['residual_cv'])}, so each estimate weighs its own measurement "
                     f"{_num(pooled['weight'])}.")
    if check:
        lines.append(
            f"Validated on {check['n']} members trained for real ({check['epochs']} epochs, {check['repeats']} "
            f"repeats, beside their representatives): median absolute error of the predicted epoch seconds "
            f"{check['median_abs_pct_error']:.1f}% (max {check['max_abs_pct_error']:.1f}%), against "
            f"{check['copied_median_abs_pct_error']:.1f}% for copying the representative's seconds"
            + (f" and {check['unpooled_median_abs_pct_error']:.1f}% for the unpooled measured step times"
               if check.get("unpooled_median_abs_pct_error") is not None else "")
            + f"; a single run of the same cell varied by "
            f"{_pct(None if check['run_to_run_pct'] is None else check['run_to_run_pct'] / 100)} run to run "
            f"(the errors compare medians of {check['repeats']} runs).")
        if check.get("table_median_abs_pct_error") is not None:
            lines.append(f"Scaled from the representatives' seconds as recorded while the table was generated (under "
                         f"other load), the median error is {check['table_median_abs_pct_error']:.1f}%: the recorded "
                         "seconds carry that machine noise.")
    return [" ".join(lines), ""]


def _resolution_section(table: Table) -> list[str]:
    """How finely the table resolves its top (nasbench.resolution), with the command that computes it."""
    from nasbench.resolution import resolution_lines, table_resolution, verdict

    res = table_resolution(table)
    return ["## Resolution", "",
            f"Computed by `nasbench tables resolution {table.name}` over the {res.archs:,} unique trainings x "
            f"{res.seeds} seeds (definitions in `nasbench/resolution.py`; targets of issue 9):", "",
            *resolution_lines(res), "", f"Verdict: {verdict(res)}.", ""]


SPACE_TITLES = {"nb201": "NB201-style", "nb101": "NB101-style"}


def _selection(space: str, indices: list[int] | None) -> str:
    """The generate options that select a table's architectures (empty for a whole space)."""
    if not indices:
        return ""
    if list(indices) == list(range(len(indices))):
        return f" --archs {len(indices)}"
    from nasbench.generator.plan import sample_seed_of
    from nasbench.spaces import get_space

    seed = sample_seed_of(indices, get_space(space).size)
    return f" --sample {len(indices)} --sample-seed {seed}" if seed is not None else " (indices: see the manifest)"


def render_datasheet(table: Table, figures: DatasheetStats, notes: str = "") -> str:
    """The datasheet's Markdown text."""
    m = table.manifest
    gen: dict[str, Any] = m.generator
    config = gen.get("config", {})
    train = config.get("train", {})
    macro = gen.get("macro", {})
    data = m.dataset
    sizes = data.get("sizes", {})
    present = table.indices
    q = figures.quantiles
    lines = [
        f"# {m.name}: {SPACE_TITLES.get(m.space, m.space)} cells trained on {data.get('name', '?')}",
        "",
        m.description,
        "",
        f"- Table sha256 `{table.sha256}` (data identity, cited by results; result files written before the "
        f"identity was defined cite the whole-manifest sha256 `{m.legacy_sha256}`, which also names this table); "
        f"schema v{m.schema_version}; {m.rows:,} rows "
        f"({len(present):,} architectures x {len(m.seeds)} seeds), {m.epochs} epoch{'s' if m.epochs != 1 else ''} of curves.",
        f"- Rebuild: `nasbench generate --space {m.space} --dataset {data.get('name')} --seeds "
        f"{' '.join(map(str, m.seeds))}{_selection(m.space, config.get('indices'))} --out tables/{m.name}` "
        f"(resumable; then `nasbench latency ...`, "
        f"`nasbench tables datasheet {m.name}`).",
        "",
        "## Dataset and split",
        "",
        f"- {data.get('name')}: {_dataset_source(data.get('name', ''))}",
        f"- Split seed {data.get('split_seed')}; train / valid / test = "
        f"{sizes.get('train', '?')} / {sizes.get('valid', '?')} / {sizes.get('test', '?')} examples; "
        f"input shape {tuple(data.get('input_shape', ()))}, {data.get('num_classes')} classes.",
        f"- Arrays checksum (sha256) `{data.get('checksum', '?')}`.",
        "",
        "## Network and training",
        "",
        f"- Skeleton: stem, {macro.get('stages')} stage(s) of {macro.get('cells_per_stage')} cell(s), "
        f"{macro.get('channels')} channels"
        + (", no reduction blocks" if macro.get("stages", 1) == 1 else ", 2x2 max-pool downsampling between stacks"
           if m.space == "nb101" else ", residual reduction blocks between stages")
        + ", global average pooling, linear classifier.",
        "- Training: " + ", ".join(f"{k}={v}" for k, v in sorted(train.items()) if v is not None) + ".",
        (f"- Seeds {m.seeds}; every cell is its own isomorphism class, trained once per seed: "
         f"{len(figures.unique):,} trainings per seed." if m.space == "nb101" else
         f"- Seeds {m.seeds}; each isomorphism class is trained once per seed through its cheapest member "
         f"(`trained_as`) and its accuracy and loss curves copied to every member: {len(figures.unique):,} unique "
         "trainings per seed."),
        f"- Device: `{table.to_pandas()['train_device'].iloc[0]}`; versions: "
        + ", ".join(f"{k} {v}" for k, v in sorted(m.versions.items())) + ".",
        "",
        "## Accuracy",
        "",
        f"![accuracy histogram, seed agreement, accuracy vs latency]({FIGURE_NAME})",
        "",
        f"Final test accuracy (mean over seeds) over all {len(present):,} cells: min {q['min']:.2f}, "
        f"10th percentile {q['p10']:.2f}, quartiles {q['p25']:.2f} / {q['median']:.2f} / {q['p75']:.2f}, "
        f"90th percentile {q['p90']:.2f}, max {q['max']:.2f}.",
        "",
        "Seed-to-seed agreement of the final validation accuracy over the unique trainings:",
        "",
        "| seeds | Spearman | Kendall tau | cells |",
        "|---|---|---|---|",
        *[f"| {a.seeds[0]} vs {a.seeds[1]} | {a.spearman:.3f} | {a.kendall:.3f} | {a.n:,} |"
          for a in figures.seed_agreement],
        "",
        f"Seed noise (mean over cells of the std over seeds) {figures.seed_noise:.2f} points against a "
        f"spread across architectures (std of the seed means) of {figures.arch_spread:.2f} points: "
        f"ratio {figures.arch_spread / figures.seed_noise:.1f}." if np.isfinite(figures.seed_noise) else "",
        "",
        "Best architectures by mean final validation accuracy (unique trainings):",
        "",
        *_best_rows(table, figures, 10),
        "",
    ]
    lines += _resolution_section(table)
    lines += proxy_lines(table.path, table.sha256, table.space.name)
    lines += predictor_lines(table.path, table.sha256)
    if figures.latency:
        lines += ["## Latency", "", "Median inference latency per architecture (one thread, ms):", "",
                  "| device column | min | median | max |", "|---|---|---|---|"]
        lines += [f"| `{d}` | {v['min']:.4g} | {v['median']:.4g} | {v['max']:.4g} |" for d, v in figures.latency.items()]
        if figures.latency_spearman:
            lines += ["", "Spearman correlation between the columns, over all architectures:", "",
                      "| column | column | Spearman |", "|---|---|---|"]
            lines += [f"| `{a}` | `{b}` | {rho:.3f} |" for (a, b), rho in figures.latency_spearman.items()]
        lines += ["", *_latency_protocol_lines(gen.get("latency") or {}, table.latency_devices)]
        lines.append("")
    hours = figures.train_seconds / 3600
    lines += [
        "## Generation cost",
        "",
        f"{figures.trainings:,} trainings, {figures.train_seconds:,.0f} s of training in total "
        f"({hours:.2f} core-hours: one single-threaded worker process per core), "
        f"{figures.train_seconds / max(figures.trainings, 1):.2f} s per training.",
        "",
        *_cost_lines(gen.get("costs") or {}),
    ]
    if notes:
        lines += ["## Notes", "", notes.strip(), ""]
    return "\n".join(lines)


def write_datasheet(table: Table, notes: str = "") -> Path:
    """Write README.md and the accuracy figure into the table's folder; returns README's path."""
    figures = datasheet_stats(table)
    plot_datasheet(table, figures, table.path / FIGURE_NAME)
    readme = table.path / "README.md"
    atomic_write_text(readme, render_datasheet(table, figures, notes))
    return readme
