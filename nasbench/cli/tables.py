"""``nasbench tables``: list, info, verify, top, stamp, resolution, datasheet and synth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser, positive_int, seed_arg
from nasbench.errors import NasbenchError, OutOfDomainError, TableError
from nasbench.table.manifest import MANIFEST_NAME, SYNTHETIC_WARNING, Manifest


def add_commands(commands: Any) -> None:
    """Register the ``tables`` command group."""
    tables = commands.add_parser("tables", help="list, inspect, verify or build tables")
    tables_cmd = tables.add_subparsers(dest="tables_command", required=True, parser_class=Parser)
    tables_cmd.add_parser("list", help="list the tables found")
    info = tables_cmd.add_parser("info", help="describe one table")
    info.add_argument("name")
    verify = tables_cmd.add_parser("verify", help="check checksums, schema and consistency")
    verify.add_argument("name", nargs="?", help="table name or folder (default: every table found)")
    top = tables_cmd.add_parser("top", help="the best architectures with their metrics and costs")
    top.add_argument("name", help="table name or folder")
    top.add_argument("-k", type=positive_int, default=10, help="how many (default 10)")
    top.add_argument("--by", choices=("valid", "test"), default="valid",
                     help="rank by seed-mean final validation (default) or test accuracy")
    stamp = tables_cmd.add_parser(
        "stamp", help="write the table's name and units into its Parquet files' metadata (identity unchanged)")
    stamp.add_argument("names", nargs="+", metavar="NAME", help="table name or folder")
    res = tables_cmd.add_parser("resolution", help="seed agreement at the top, noise vs spread, convergence")
    res.add_argument("name", help="table name or folder")
    res.add_argument("--write", action="store_true", help="store the figures as resolution.json in the table folder")
    sheet = tables_cmd.add_parser("datasheet", help="write a generated table's datasheet (README.md + accuracy.png)")
    sheet.add_argument("name", help="table name or folder")
    sheet.add_argument("--notes", type=Path, default=None, help="Markdown file appended as the Notes section")
    synth = tables_cmd.add_parser("synth", help="write a SYNTHETIC nb201 table (fixture data for tests/demos)")
    synth.add_argument("out", type=Path, help="folder to create; its name is the table name")
    synth.add_argument("--seeds", type=seed_arg, nargs="+", default=[0, 1])
    synth.add_argument("--epochs", type=positive_int, default=20)
    synth.add_argument("--archs", type=positive_int, default=None, help="only the first N indices (default: all)")
    synth.add_argument("--force", action="store_true", help="replace a table already in the folder")


def run(args: argparse.Namespace) -> int:
    """Run the ``tables`` subcommand in ``args``."""
    return {"list": list_, "info": info, "verify": verify, "synth": synth, "datasheet": datasheet,
            "resolution": resolution, "stamp": stamp, "top": top}[args.tables_command](args)


def list_(args: argparse.Namespace) -> int:
    from nasbench.table import list_tables

    found = list_tables(args.tables_dir)
    if not found:
        print("no tables found (add folders with --tables-dir or $NASBENCH_TABLES)")
        return 0
    print(f"{'name':<28} {'space':<6} {'archs':>6} {'seeds':>5} {'epochs':>6}  notes")
    for name, folder in found.items():
        try:
            m = Manifest.read(folder)
            if m.name != name:
                raise TableError(f"its manifest names it {m.name!r}: rename one to match the other")
        except TableError as exc:
            print(f"{name:<28} broken: {exc}")
            continue
        notes = SYNTHETIC_WARNING if m.synthetic else m.dataset.get("name", "")
        figures = None if m.synthetic else _stored_resolution(folder, m.sha256)
        if figures is not None:
            notes += f"; {figures}"
        print(f"{name:<28} {m.space:<6} {m.num_archs:>6} {len(m.seeds):>5} {m.epochs:>6}  {notes}")
    return 0


def _stored_resolution(folder: Path, sha256: str) -> str | None:
    """The verdict of a table's resolution.json, if it has one for this data."""
    if not (folder / "resolution.json").is_file():
        return None
    from nasbench.resolution_record import read_resolution, verdict

    figures = read_resolution(folder, sha256)
    return None if figures is None else verdict(figures)


def resolution(args: argparse.Namespace) -> int:
    from nasbench.resolution import (
        resolution_lines,
        table_resolution,
        verdict,
        write_resolution,
    )
    from nasbench.table import load_table

    table = load_table(args.name, args.tables_dir)
    figures = table_resolution(table)
    print(f"{table.name}: {figures.archs} unique trainings x {figures.seeds} seeds (sha256 {table.sha256[:16]})")
    print("\n".join(resolution_lines(figures)))
    print(verdict(figures))
    if args.write:
        print(f"wrote {write_resolution(table.path, figures, table.sha256)}")
    return 0


def info(args: argparse.Namespace) -> int:
    import numpy as np

    from nasbench.table import load_table

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


def verify(args: argparse.Namespace) -> int:
    from nasbench.table import list_tables, read_table, resolve_table, verify_table

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


def top(args: argparse.Namespace) -> int:
    import numpy as np

    from nasbench.table import load_table
    from nasbench.table.views import top_architectures

    table = load_table(args.name, args.tables_dir)
    frame = top_architectures(table, args.k, args.by)
    what = {"valid": "validation", "test": "test"}[args.by]
    seeds = ", ".join(str(s) for s in table.manifest.seeds)
    print(f"{table.name}: best {len(frame)} of {len(table.indices)} architectures by {what} accuracy "
          f"(final epoch, mean over seeds {seeds}; +- is the std over seeds)")
    devices = table.latency_devices
    header = (f"{'rank':>4} {'index':>6}  {'valid mean +- std':>17} {'test':>6} {'params':>9} {'FLOPs':>11} "
              f"{'epoch s':>8}" + "".join(f" {d + ' ms':>{max(9, len(d) + 3)}}" for d in devices) + "  architecture")
    print(header)
    for row in frame.to_dict("records"):
        latency = "".join(f" {row[f'latency_{d}_ms']:>{max(9, len(d) + 3)}.3f}" for d in devices)
        shared = "" if row["trained_as"] == row["arch_index"] else f"  (training run of {row['trained_as']})"
        std = f"{row['valid_std']:<5.2f}" if np.isfinite(row["valid_std"]) else "n/a  "  # one seed
        print(f"{row['rank']:>4} {row['arch_index']:>6}  {row['valid_mean']:>8.2f} +- {std} "
              f"{row['test_mean']:>6.2f} {row['params']:>9,} {row['flops']:>11,} {row['epoch_seconds']:>8.3f}"
              f"{latency}  {row['arch_str']}{shared}")
    if args.by == "test":
        print("note: ranked on test accuracy, for analysis; a search chooses on validation accuracy")
    if table.manifest.synthetic:
        print(f"note: table {table.name!r} is {SYNTHETIC_WARNING}")
    return 0


def stamp(args: argparse.Namespace) -> int:
    from nasbench.table import resolve_table
    from nasbench.table.stamp import stamp_table

    for name in args.names:
        manifest, rewritten = stamp_table(resolve_table(name, args.tables_dir))
        print(f"stamped {manifest.name}: rewrote {len(rewritten)} of {len(manifest.files)} files; identity "
              f"{manifest.sha256[:16]} and manifest sha256 {manifest.legacy_sha256[:16]} unchanged")
    return 0


def datasheet(args: argparse.Namespace) -> int:
    from nasbench.table import load_table
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


def synth(args: argparse.Namespace) -> int:
    from nasbench.spaces.nb201 import NUM_CELLS
    from nasbench.table.synthetic import build_synthetic_table

    if args.archs and args.archs > NUM_CELLS:
        raise OutOfDomainError(f"--archs: {args.archs} exceeds the {NUM_CELLS} architectures of nb201")
    indices = range(args.archs) if args.archs else None
    if (Path(args.out) / MANIFEST_NAME).exists() and not args.force:
        raise NasbenchError(f"{args.out}: holds a table already; pass --force to replace it")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise NasbenchError(f"{args.out}: is a file; give a folder for the table")
    manifest = build_synthetic_table(args.out, seeds=args.seeds, epochs=args.epochs, indices=indices)
    print(f"wrote {manifest.name} ({SYNTHETIC_WARNING}): {manifest.rows} rows to {args.out}")
    return 0
