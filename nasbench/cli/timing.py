"""The CLI's timing command groups: ``latency`` (measure, profile, fill) and ``costs``
(measure). Both work on a finished generator folder and never train: an unfinished table is
refused with one line before anything is timed; afterwards the table is re-assembled."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser, positive_int, refuse_overwrite, seed_arg
from nasbench.errors import NasbenchError

LATENCY_DEVICE = re.compile(r"[a-z0-9][a-z0-9-]*")


def add_commands(commands: Any) -> None:
    """Add the ``latency`` and ``costs`` command groups to ``commands`` (argparse subparsers)."""
    parser_class, seed = Parser, seed_arg
    latency = commands.add_parser("latency", help="measure latency columns of a generated table")
    latency_cmd = latency.add_subparsers(dest="latency_command", required=True, parser_class=parser_class)
    measure = latency_cmd.add_parser("measure", help="time every architecture on a runtime, then update the table")
    measure.add_argument("table_dir", type=Path, help="folder of a generator run (nasbench generate --out)")
    measure.add_argument("--runtime", choices=["torch", "ort", "cuda"], required=True,
                         help="torch eager or ONNX Runtime on this CPU, or torch eager on the CUDA GPU")
    measure.add_argument("--device", default=None,
                         help="name of the device in the column name (default: cpu; for cuda the GPU's name)")
    measure.add_argument("--batches", type=positive_int, nargs="+", default=[1, 64])
    measure.add_argument("--repeats", type=positive_int, default=25)
    measure.add_argument("--every", type=positive_int, default=8,
                         help="re-time the reference cell every N cells (smaller: follows faster load changes)")
    measure.add_argument("--passes", type=positive_int, default=2, help="passes in different random orders (>= 2)")
    measure.add_argument("--order-seed", type=seed, default=0, help="seed of the random measurement orders")
    measure.add_argument("--reference", type=seed, default=None, metavar="INDEX",
                         help="reference cell (default: the table's cell with the median FLOPs)")
    prof = latency_cmd.add_parser("profile", help="time the ops of a table's networks on this machine (a LUT)")
    prof.add_argument("--device", required=True, help="name for this machine, e.g. laptop")
    prof.add_argument("--table", required=True, help="a generated table (its skeleton is profiled)")
    prof.add_argument("--batch", type=positive_int, default=1)
    prof.add_argument("--out", type=Path, default=None, help="default: lut-DEVICE-TABLE-bBATCH.json")
    prof.add_argument("--force", action="store_true", help="overwrite the --out file if it exists")
    fill = latency_cmd.add_parser("fill", help="estimate a device's latency column from its LUT")
    fill.add_argument("--device", required=True)
    fill.add_argument("--table", required=True, help="a generator folder (it gains the estimated column)")
    fill.add_argument("--lut", type=Path, default=None, help="default: lut-DEVICE-TABLE-b1.json")
    costs = commands.add_parser("costs", help="per-cell training costs of a generated table")
    costs_cmd = costs.add_subparsers(dest="costs_command", required=True, parser_class=parser_class)
    cmeasure = costs_cmd.add_parser("measure", help="time every cell's training step, validate, then update the table")
    cmeasure.add_argument("table_dir", type=Path, help="folder of a finished generator run (nasbench generate --out)")
    cmeasure.add_argument("--steps", type=positive_int, default=None, help="timed training steps per cell and pass")
    cmeasure.add_argument("--every", type=positive_int, default=None, help="re-time the reference cell every N cells")
    cmeasure.add_argument("--passes", type=positive_int, default=None)
    cmeasure.add_argument("--validate", type=seed, default=None, help="cells trained for real to check (0: none)")


def run_timing_command(args: argparse.Namespace) -> int:
    """Run a ``latency`` or ``costs`` subcommand."""
    if args.command == "costs":
        return _costs_measure(args)
    if not LATENCY_DEVICE.fullmatch(getattr(args, "device", None) or "cpu"):
        raise NasbenchError(f"--device: {args.device!r} must be lowercase letters, digits and '-'")
    if args.latency_command == "profile":
        return _latency_profile(args)
    if args.latency_command == "fill":
        return _latency_fill(args)
    return _latency_measure(args)


def _latency_profile(args: argparse.Namespace) -> int:
    from nasbench.latency.lut import profile
    from nasbench.table import load_table

    table = load_table(args.table, args.tables_dir)
    out = args.out or Path(f"lut-{args.device}-{table.name}-b{args.batch}.json")
    refuse_overwrite({"--out": out}, args.force)  # before minutes of timing
    macro = table.manifest.generator.get("macro")
    if macro is None:
        raise NasbenchError(
            f"table {table.name!r} records no network skeleton (generator.macro); profile a generated table")
    lut = profile(macro, args.device, batch=args.batch)
    lut.save(out)
    print(f"base network {lut.base_ms:.3f} ms; per-op ms by stage:")
    for stage, costs in enumerate(lut.op_ms):
        print(f"  stage {stage}: " + ", ".join(f"{op} {ms:.3f}" for op, ms in costs.items() if op != "none"))
    print(f"wrote {out}")
    return 0


def _latency_fill(args: argparse.Namespace) -> int:
    import numpy as np
    from scipy.stats import spearmanr

    from nasbench.generator import reassemble, require_finished
    from nasbench.latency.lut import LatencyLUT
    from nasbench.latency.table import write_estimates
    from nasbench.table import read_table, resolve_table

    folder = Path(args.table)
    if not (folder / "work" / "config.json").is_file():  # a generator folder is taken as it is
        folder = resolve_table(args.table, args.tables_dir)
    require_finished(folder)  # refuse before writing anything: fill never trains
    lut = LatencyLUT.load(args.lut or Path(f"lut-{args.device}-{folder.name}-b1.json"))
    column = write_estimates(folder, lut)
    manifest = reassemble(folder)
    table = read_table(folder)
    estimate = table.latency(column)[table.indices]
    print(f"filled {column} for {len(estimate)} architectures (median {np.median(estimate):.3f} ms)")
    measured = f"{lut.device}-torch-b{lut.batch}"
    if measured in manifest.latency_devices:
        rho = spearmanr(estimate, table.latency(measured)[table.indices])[0]
        print(f"Spearman vs measured {measured} over {len(estimate)} architectures: {rho:.3f}")
    return 0


def _latency_measure(args: argparse.Namespace) -> int:
    from nasbench.generator import reassemble, require_finished
    from nasbench.latency.table import measure_table
    from nasbench.timing import TimingProtocol

    require_finished(args.table_dir)  # refuse before timing anything: measure never trains
    protocol = TimingProtocol(every=args.every, passes=args.passes, seed=args.order_seed)
    device = args.device
    if device is None:
        from nasbench.latency.measure import gpu_device_name

        device = gpu_device_name() if args.runtime == "cuda" else "cpu"
    columns = measure_table(args.table_dir, args.runtime, device, tuple(args.batches), protocol=protocol,
                            reference=args.reference, repeats=args.repeats)
    manifest = reassemble(args.table_dir)
    for column in columns:
        drift = manifest.generator["latency"][column]["drift"]
        print(f"{column}: measurement order explains {_pct(drift['order_share_before'])} of the log-latency variance "
              f"before drift correction, {_pct(drift['order_share_after'])} after "
              f"({_pct(drift['order_share_column'])} in the column, the median of {drift['passes']} passes); "
              f"pass-to-pass Spearman "
              f"{_num(drift['spearman_before'])} -> {_num(drift['spearman_after'])}")
    print(f"measured {', '.join(columns)}; table {manifest.name} now has latency columns {manifest.latency_devices}")
    return 0


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _costs_measure(args: argparse.Namespace) -> int:
    from nasbench.datasets import load_dataset
    from nasbench.generator import CostSettings, reassemble, require_finished
    from nasbench.generator.costs import measure_costs

    config, plan = require_finished(args.table_dir)
    given = {k: getattr(args, k) for k in ("steps", "every", "passes", "validate") if getattr(args, k) is not None}
    settings = CostSettings(**given)  # defaults: nasbench.generator.costs.CostSettings
    dataset = load_dataset(config.dataset, split_seed=config.split_seed)
    measure_costs(args.table_dir, config, plan, dataset, settings)
    manifest = reassemble(args.table_dir)
    print(costs_line(manifest.generator["costs"]))
    return 0


def costs_line(costs: dict) -> str:
    """One line on how a table's per-cell costs were measured and how well they validate."""
    drift, check = costs.get("drift") or {}, costs.get("validation")
    line = (f"per-cell costs: step times of every cell in {costs.get('timing_cpu_seconds', 0) / 60:.1f} CPU-minutes; "
            f"order explains {_pct(drift.get('order_share_before'))} -> {_pct(drift.get('order_share_after'))} "
            f"of the log step-time variance")
    if check:
        line += (f"; predicted vs measured epoch seconds on {check['n']} validated cells: median abs error "
                 f"{check['median_abs_pct_error']:.1f}% (copying the representative's: "
                 f"{check['copied_median_abs_pct_error']:.1f}%)")
    return line
