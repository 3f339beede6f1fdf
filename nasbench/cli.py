"""The ``nasbench`` command line. User errors print one line and exit with status 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nasbench import __version__
from nasbench.errors import InvalidBudgetError, NasbenchError, OutOfDomainError, TableError
from nasbench.oracle import TRIAL_MODES, Budget
from nasbench.report import SYNTHETIC_WARNING
from nasbench.resolution import read_resolution, verdict
from nasbench.table import cited_identity, list_tables, load_table, read_table, resolve_table, verify_table
from nasbench.cli_timing import add_timing_commands, costs_line, run_timing_command


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seeds must be non-negative, got {value}")
    return value


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _param(text: str) -> tuple[str, object]:
    """``name=value`` with value parsed as JSON (numbers, true/false, lists), else kept as text."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with a Python identifier as NAME, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus a pointer to --help), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nasbench", description="Tabular NAS benchmarks: tables, oracle, strategies.")
    parser.add_argument("--version", action="version", version=f"nasbench {__version__}")
    parser.add_argument(
        "--tables-dir", action="append", default=[], metavar="DIR",
        help="extra folder to search for tables (repeatable; also $NASBENCH_TABLES)",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    tables = commands.add_parser("tables", help="list, inspect, verify or build tables")
    tables_cmd = tables.add_subparsers(dest="tables_command", required=True, parser_class=_Parser)
    tables_cmd.add_parser("list", help="list the tables found")
    info = tables_cmd.add_parser("info", help="describe one table")
    info.add_argument("name")
    verify = tables_cmd.add_parser("verify", help="check checksums, schema and consistency")
    verify.add_argument("name", nargs="?", help="table name or folder (default: every table found)")
    res = tables_cmd.add_parser("resolution", help="seed agreement at the top, noise vs spread, convergence")
    res.add_argument("name", help="table name or folder")
    res.add_argument("--write", action="store_true", help="store the figures as resolution.json in the table folder")
    sheet = tables_cmd.add_parser("datasheet", help="write a generated table's datasheet (README.md + accuracy.png)")
    sheet.add_argument("name", help="table name or folder")
    sheet.add_argument("--notes", type=Path, default=None, help="Markdown file appended as the Notes section")
    synth = tables_cmd.add_parser("synth", help="write a SYNTHETIC nb201 table (fixture data for tests/demos)")
    synth.add_argument("out", type=Path, help="folder to create; its name is the table name")
    synth.add_argument("--seeds", type=_seed, nargs="+", default=[0, 1])
    synth.add_argument("--epochs", type=_positive_int, default=20)
    synth.add_argument("--archs", type=_positive_int, default=None, help="only the first N indices (default: all)")

    query = commands.add_parser("query", help="look up one architecture in a table")
    query.add_argument("arch", help="NAS-Bench-201 string or integer index")
    query.add_argument("--table", required=True)

    run = commands.add_parser("run", help="run a search strategy over many seeds and report regret")
    run.add_argument("strategy", help="registered name (e.g. random) or path/to/file.py:ClassName")
    run.add_argument("--table", required=True)
    run.add_argument("--budget", type=int, default=None, help="queries per run")
    run.add_argument("--seconds", type=_float, default=None, help="simulated seconds per run")
    run.add_argument("--seeds", type=_positive_int, default=10, help="number of seeds (first-seed .. first-seed+K-1)")
    run.add_argument("--first-seed", type=_seed, default=0)
    run.add_argument("--trial", choices=TRIAL_MODES, default="sample",
                     help="answer each query with one sampled training seed (default) or the seed mean")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", type=_param,
                     help="strategy hyperparameter (repeatable; VALUE is JSON or a bare string)")
    run.add_argument("--latency-device", default=None, metavar="DEVICE",
                     help="latency column strategies may look up for free (e.g. cpu-torch-b1)")
    run.add_argument("--max-latency", type=_float, default=None, metavar="MS",
                     help="latency-constrained search: only architectures at most this fast count")
    run.add_argument("--objective", choices=("regret", "hypervolume"), default=None,
                     help="score runs by regret or by the hypervolume gap to the accuracy-latency front "
                          "(default: hypervolume for multi-objective strategies, else regret)")
    run.add_argument("--out", type=Path, default=None,
                     help="write the full result (JSON) here, and the anytime plot beside it (.png)")
    run.add_argument("--plot", type=Path, default=None, help="write the anytime plot (PNG) here")
    compare = commands.add_parser("compare", help="compare saved results (nasbench run --out) in a table and a plot")
    compare.add_argument("results", type=Path, nargs="+", help="result JSON files")
    compare.add_argument("--labels", nargs="+", default=None, help="one label per result (default: strategy names)")
    compare.add_argument("--plot", type=Path, default=None, help="write the overlaid anytime curves (PNG) here")
    gen = commands.add_parser("generate", help="train every architecture of a space into a table (resumable)")
    gen.add_argument("--space", default="nb201", choices=["nb201"])
    gen.add_argument("--dataset", required=True, help="mnist1d, digits or cifar10")
    gen.add_argument("--seeds", type=_seed, nargs="+", default=[0, 1, 2])
    gen.add_argument("--out", type=Path, required=True, help="table folder; its name is the table name")
    gen.add_argument("--split-seed", type=_seed, default=0)
    gen.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    gen.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    gen.add_argument("--archs", type=_positive_int, default=None, help="only indices 0..N-1 (default: all)")
    gen.add_argument("--chunk-size", type=_positive_int, default=32)
    gen.add_argument("--device", default="cpu", help="torch device to train on: cpu, cuda, cuda:1 ...")
    gen.add_argument("--stack", type=_positive_int, default=1,
                     help="train K cells at once as one batched network (pays on a GPU; default 1)")
    gen.add_argument("--preset", default=None,
                     help="macro skeleton preset (nasbench.models.config.PRESETS); default: the dataset's calibrated config")
    gen.add_argument("--epochs", type=_positive_int, default=None)
    gen.add_argument("--batch-size", type=_positive_int, default=None)
    gen.add_argument("--lr", type=_float, default=None)
    gen.add_argument("--channels", type=_positive_int, default=None)
    gen.add_argument("--cells-per-stage", type=_positive_int, default=None)
    gen.add_argument("--no-costs", action="store_true",
                     help="skip the cost stage (rows then copy their representative's epoch_seconds)")
    add_timing_commands(commands, _Parser, _positive_int, _seed)
    from nasbench.calibration.command import add_parser as add_calibrate

    add_calibrate(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 verification failed, 2 user error)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return _dispatch(args)
    except NasbenchError as exc:
        print(f"nasbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "tables":
        return {"list": _tables_list, "info": _tables_info, "verify": _tables_verify, "synth": _tables_synth,
                "datasheet": _tables_datasheet, "resolution": _tables_resolution}[
            args.tables_command
        ](args)
    if args.command == "query":
        return _query(args)
    if args.command == "generate":
        return _generate(args)
    if args.command in ("latency", "costs"):
        return run_timing_command(args)
    if args.command == "compare":
        return _compare(args)
    if args.command == "calibrate":
        from nasbench.calibration.command import run as calibrate

        return calibrate(args)
    return _run(args)


def _generate(args: argparse.Namespace) -> int:
    from nasbench.generator import GeneratorConfig, generate

    try:
        from nasbench.training import CALIBRATED, TrainConfig
    except ImportError as exc:
        raise NasbenchError(f"generate needs torch: pip install 'nasbench[train]' ({exc})") from None
    if args.preset is None and args.dataset in CALIBRATED:
        train = CALIBRATED[args.dataset].to_dict()
    else:
        train = {"preset": args.preset or "small"}
    for name in ("epochs", "batch_size", "lr", "channels", "cells_per_stage"):
        if getattr(args, name) is not None:
            train[name] = getattr(args, name)
    try:
        train = TrainConfig(**train).to_dict()
    except ValueError as exc:
        raise NasbenchError(str(exc)) from None
    config = GeneratorConfig(
        name=args.out.name, dataset=args.dataset, seeds=tuple(args.seeds), train=train,
        split_seed=args.split_seed, space=args.space,
        indices=tuple(range(args.archs)) if args.archs else None, chunk_size=args.chunk_size,
    )
    _check_device(args.device)
    from nasbench.generator import CostSettings

    manifest = generate(args.out, config, workers=args.workers, scheduler=args.scheduler, device=args.device,
                        stack=args.stack, costs=None if args.no_costs else CostSettings())
    hours = manifest.generator["train_seconds"] / 3600
    print(f"wrote {manifest.name}: {manifest.rows} rows ({manifest.num_archs} architectures x {len(manifest.seeds)} seeds, "
          f"{manifest.generator['trainings']} trainings, {hours:.2f} core-hours of training) to {args.out}")
    if not args.no_costs:
        print(costs_line(manifest.generator["costs"]))
    return 0


def _check_device(device: str) -> None:
    """Refuse a device torch cannot use here, in one line, before any worker starts."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise NasbenchError(f"--device: {device!r} is not a torch device ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise NasbenchError(f"--device: {device!r} asked for, but torch finds no CUDA device here")
    if dev.type not in ("cpu", "cuda"):
        raise NasbenchError(f"--device: {device!r}: only cpu and cuda devices are supported")


def _tables_list(args: argparse.Namespace) -> int:
    found = list_tables(args.tables_dir)
    if not found:
        print("no tables found (add folders with --tables-dir or $NASBENCH_TABLES)")
        return 0
    print(f"{'name':<28} {'space':<6} {'archs':>6} {'seeds':>5} {'epochs':>6}  notes")
    for name, folder in found.items():
        try:
            m = read_table(folder, verify=False).manifest
        except TableError as exc:
            print(f"{name:<28} unreadable: {exc}")
            continue
        notes = SYNTHETIC_WARNING if m.synthetic else m.dataset.get("name", "")
        figures = None if m.synthetic else read_resolution(folder, m.sha256)
        if figures is not None:
            notes += f"; {verdict(figures)}"
        print(f"{name:<28} {m.space:<6} {m.num_archs:>6} {len(m.seeds):>5} {m.epochs:>6}  {notes}")
    return 0


def _tables_resolution(args: argparse.Namespace) -> int:
    from nasbench.resolution import resolution_lines, table_resolution, write_resolution

    table = load_table(args.name, args.tables_dir)
    figures = table_resolution(table)
    print(f"{table.name}: {figures.archs} unique trainings x {figures.seeds} seeds (sha256 {table.sha256[:16]})")
    print("\n".join(resolution_lines(figures)))
    print(verdict(figures))
    if args.write:
        print(f"wrote {write_resolution(table.path, figures, table.sha256)}")
    return 0


def _tables_info(args: argparse.Namespace) -> int:
    table = load_table(args.name, args.tables_dir)
    m = table.manifest
    test = table.final("test_acc")[table.indices]
    lines = [
        f"name          {m.name}" + (f"   ({SYNTHETIC_WARNING})" if m.synthetic else ""),
        f"folder        {table.path}",
        f"description   {m.description}",
        f"space         {m.space} ({m.num_archs} of {table.space.size} architectures)",
        f"rows          {m.rows} (architecture x seed), seeds {m.seeds}, {m.epochs} epochs",
        f"dataset       {json.dumps(m.dataset)}",
        f"generator     {m.generator.get('name')} v{m.generator.get('version')}",
        f"latency       {', '.join(m.latency_devices) or 'none'}",
        f"test acc      best {np.nanmax(test):.2f}  median {np.nanmedian(test):.2f}  worst {np.nanmin(test):.2f}",
        f"schema        v{m.schema_version}; sha256 {m.sha256} (data identity); manifest sha256 {m.legacy_sha256} (cited by earlier results)",
        f"files         {len(m.files)} ({', '.join(f.path for f in m.files)})",
    ]
    print("\n".join(lines))
    return 0


def _tables_verify(args: argparse.Namespace) -> int:
    folders = [resolve_table(args.name, args.tables_dir)] if args.name else list(list_tables(args.tables_dir).values())
    if not folders:
        print("no tables found")
        return 1
    failed = 0
    for folder in folders:
        try:
            table = read_table(folder, verify=True)
            problems = verify_table(table)
        except TableError as exc:
            problems = [str(exc)]
        if problems:
            failed += 1
            for problem in problems:
                print(f"FAIL {folder.name}: {problem}")
        else:
            print(f"ok   {table.name}: {table.num_rows} rows, {len(table.manifest.files)} files, sha256 {table.sha256[:16]}")
    return 1 if failed else 0


def _tables_datasheet(args: argparse.Namespace) -> int:
    from nasbench.table.datasheet import write_datasheet

    table = load_table(args.name, args.tables_dir)
    if table.manifest.synthetic:
        raise NasbenchError(f"table {table.name!r} is {SYNTHETIC_WARNING}: its datasheet is written by hand")
    notes = ""
    if args.notes is not None:
        try:
            notes = args.notes.read_text(encoding="utf-8")
        except OSError as exc:
            raise NasbenchError(f"--notes: cannot read {args.notes} ({exc.strerror})") from None
    path = write_datasheet(table, notes)
    print(f"wrote {path} and {path.parent / 'accuracy.png'}")
    return 0


def _tables_synth(args: argparse.Namespace) -> int:
    from nasbench.table.synthetic import build_synthetic_table

    from nasbench.spaces.nb201 import NUM_CELLS

    if args.archs and args.archs > NUM_CELLS:
        raise OutOfDomainError(f"--archs: {args.archs} exceeds the {NUM_CELLS} architectures of nb201")
    indices = range(args.archs) if args.archs else None
    manifest = build_synthetic_table(args.out, seeds=args.seeds, epochs=args.epochs, indices=indices)
    print(f"wrote {manifest.name} ({SYNTHETIC_WARNING}): {manifest.rows} rows to {args.out}")
    return 0


def _query(args: argparse.Namespace) -> int:
    table = load_table(args.table, args.tables_dir)
    record = table.record(args.arch)
    seeds = record["seeds"]
    print(f"{record['arch_str']}  (index {record['arch_index']}, hash {record['arch_hash']})")
    if record["trained_as"] != record["arch_index"]:
        print(f"isomorphic to index {record['trained_as']}, whose training run is shared")
    print(f"params {record['params']:,}   flops {record['flops']:,}")
    for name in ("valid_acc", "test_acc", "train_seconds"):
        values = ", ".join(f"{v:.2f}" for v in record[name])
        print(f"{name:<14} mean {np.mean(record[name]):7.2f}   seeds {seeds}: {values}")
    for device, ms in record["latency_ms"].items():
        print(f"latency {device:<20} {ms:.3f} ms")
    if table.manifest.synthetic:
        print(f"note: table {table.name!r} is {SYNTHETIC_WARNING}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from nasbench.report import anytime_report, plot_anytime
    from nasbench.study import StudyFailed, run_study
    from strategies import get_strategy

    budget = Budget(queries=args.budget, seconds=args.seconds)
    strategy_cls = get_strategy(args.strategy)
    table = load_table(args.table, args.tables_dir)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    params = dict(args.param)
    try:
        result = run_study(strategy_cls, table, budget, seeds, params=params, trial=args.trial, progress=True,
                           latency_device=args.latency_device, max_latency=args.max_latency,
                           objective=args.objective)
    except StudyFailed as exc:
        if args.out and exc.result.runs:
            exc.result.save(args.out)
            raise NasbenchError(f"{exc} (in {args.out})") from None
        raise
    empty = [run.seed for run in result.runs if len(run.trajectory) == 0]
    if empty:
        raise InvalidBudgetError(
            f"budget: {budget.seconds:g} simulated seconds does not cover a single query (seed {empty[0]})"
            if budget.seconds is not None else f"budget: seed {empty[0]} made no query"
        )
    plot = args.plot or (args.out.with_suffix(".png") if args.out else None)
    if args.out:
        result.save(args.out)
    if plot:
        plot_anytime([result], [result.strategy], plot)
    print(anytime_report(result))
    if result.multi_objective:
        print()
        print(_front_report(table, result))
    if args.out or plot:
        print()
    for path in (args.out, plot):
        if path:
            print(f"wrote {path}")
    return 0


def _front_report(table, result) -> str:
    """The Pareto front found by the first seed (validation-chosen, scored on test)."""
    from nasbench.pareto import front_of

    run = result.runs[0]
    front = front_of(table, run.trajectory, result.latency_device)
    lines = [f"Pareto front found by seed {run.seed} ({len(front)} architectures; test accuracy, "
             f"{result.latency_device} latency)"]
    for row in front:
        lines.append(f"  {row['test_acc']:6.2f}%  {row['latency_ms']:8.3f} ms  {row['arch_str']}  (index {row['arch_index']})")
    return "\n".join(lines)


def _compare(args: argparse.Namespace) -> int:
    from nasbench.report import compare_report, plot_anytime
    from nasbench.study import StudyResult

    results = [StudyResult.load(path) for path in args.results]
    labels = args.labels or [r.strategy for r in results]
    if len(labels) != len(results):
        raise NasbenchError(f"--labels: {len(labels)} labels for {len(results)} result files")
    repeated = {label for label in labels if labels.count(label) > 1}
    labels = [f"{label} ({path.stem})" if label in repeated else label for label, path in zip(labels, args.results)]
    kinds = {r.objective for r in results}
    if len(kinds) > 1:
        raise NasbenchError(f"results: cannot overlay different measures ({', '.join(sorted(kinds))})")
    identities = [cited_identity(r.table, r.table_sha256, args.tables_dir) for r in results]
    print(compare_report(results, labels, identities))
    if args.plot:
        plot_anytime(results, labels, args.plot)
        print(f"\nwrote {args.plot}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
