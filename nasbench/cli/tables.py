"""``nasbench tables``: list, info, verify, resolution, datasheet and synth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser, positive_int, seed_arg
from nasbench.errors import NasbenchError, OutOfDomainError, TableError
from nasbench.table.manifest import SYNTHETIC_WARNING, Manifest


def add_commands(commands: Any) -> None:
    """Register the ``tables`` command group."""
    tables = commands.add_parser("tables", help="list, inspect, verify or build tables")
    tables_cmd = tables.add_subparsers(dest="tables_command", required=True, parser_class=Parser)
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
    synth.add_argument("--seeds", type=seed_arg, nargs="+", default=[0, 1])
    synth.add_argument("--epochs", type=positive_int, default=20)
    synth.add_argument("--archs", type=positive_int, default=None, help="only the first N indices (default: all)")


def run(args: argparse.Namespace) -> int:
    """Run the ``tables`` subcommand in ``args``."""
    return {"list": list_, "info": info, "verify": verify, "synth": synth, "datasheet": datasheet,
            "resolution": resolution}[args.tables_command](args)


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
        except TableError as exc:
            print(f"{name:<28} unreadable: {exc}")
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
    from nasbench.resolution import read_resolution, verdict

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
    manifest = build_synthetic_table(args.out, seeds=args.seeds, epochs=args.epochs, indices=indices)
    print(f"wrote {manifest.name} ({SYNTHETIC_WARNING}): {manifest.rows} rows to {args.out}")
    return 0
