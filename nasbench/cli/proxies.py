"""``nasbench proxies``: score zero-cost proxies for every architecture of a table
(``compute``, resumable) and list the registered proxies (``list``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser, positive_int, seed_arg
from nasbench.errors import NasbenchError


def add_commands(commands: Any) -> None:
    """Register the ``proxies`` command group."""
    group = commands.add_parser("proxies", help="zero-cost proxies: precompute scores for a table")
    sub = group.add_subparsers(dest="proxies_command", required=True, parser_class=Parser)
    sub.add_parser("list", help="the registered proxies, with sign, data used and reference batch size")
    comp = sub.add_parser("compute", help="score every architecture of a table (resumable; writes TABLE/proxies/)")
    comp.add_argument("--table", required=True)
    comp.add_argument("--proxies", nargs="+", default=None, help="names (default: every registered proxy)")
    comp.add_argument("--seeds", type=seed_arg, nargs="+", default=[0, 1, 2], help="init seeds (default: 0 1 2)")
    comp.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    comp.add_argument("--chunk-size", type=positive_int, default=256)
    comp.add_argument("--batch-size", type=positive_int, default=64, help="training examples scored (default 64)")
    comp.add_argument("--batch-seed", type=seed_arg, default=0, help="seed of the batch's draw (default 0)")
    comp.add_argument("--archs", type=positive_int, default=None, help="only the first N recorded architectures")
    comp.add_argument("--macro", choices=["table", "nb201"], default="table",
                      help="the skeleton scored: the table's own (default), or NAS-Bench-201's C=16, N=5, 3-stage "
                           "CIFAR network (scores go to TABLE/proxies-nb201/)")
    comp.add_argument("--cifar10", type=Path, default=None, metavar="DIR",
                      help="with --macro nb201: CIFAR-10 python batches you have; without it, a documented random batch")
    comp.add_argument("--device", default="cpu",
                      help="torch device that scores: cpu (default), cuda, cuda:1 ... (recorded per row)")
    cor = sub.add_parser("correlate", help="rank correlation of each proxy with the table's accuracies, with intervals")
    cor.add_argument("--table", required=True)
    cor.add_argument("--draws", type=positive_int, default=100,
                     help="bootstrap resamples (default 100; Kendall's interval uses the first 25)")
    cor.add_argument("--seed", type=seed_arg, default=0, help="seed of the bootstrap (default 0)")
    cor.add_argument("--out", type=Path, default=None,
                     help="folder for correlation.json and .parquet (default: TABLE/proxies/)")
    cor.add_argument("--plot", type=Path, default=None,
                     help="the figure (PNG; default: correlation.png beside the files, when matplotlib is installed)")
    cor.add_argument("--user", action="append", default=[], metavar="FILE.py:FUNCTION",
                     help="your own proxy, scored on the same batch and init seeds and compared (repeatable)")
    cor.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                     help="processes scoring --user proxies (default: all cores)")


def run(args: argparse.Namespace) -> int:
    return {"list": list_command, "compute": compute_command,
            "correlate": correlate_command}[args.proxies_command](args)


def nb201_skeleton(args: argparse.Namespace) -> dict[str, Any]:
    """compute_proxy_table's arguments for NAS-Bench-201's own skeleton and a CIFAR-10 batch
    (or, without the files, a random batch, said so)."""
    import dataclasses

    from nasbench.models.config import PRESETS
    from predictors.proxies.scoring import RANDOM

    macro = dataclasses.asdict(PRESETS["nb201"])
    macro["input_shape"] = list(macro["input_shape"])
    if args.cifar10 is None:
        print("note: no --cifar10 files: scoring NAS-Bench-201's skeleton on a random batch (standard normal "
              "3x32x32 images, uniform labels; data-free proxies such as synflow are unaffected)")
    return {"macro": macro, "dataset": "cifar10" if args.cifar10 else RANDOM,
            "root": None if args.cifar10 is None else str(args.cifar10)}


def list_command(args: argparse.Namespace) -> int:
    from predictors.proxies import PROXIES, load_proxies

    names = load_proxies()
    print(f"{'proxy':<10} {'sign':>4}  {'uses':<11} {'batch':>5}  definition")
    for name in names:
        p = PROXIES.get(name)
        print(f"{name:<10} {p.sign:>+4}  {p.uses:<11} {p.batch_size:>5}  {p.definition}")
    return 0


def compute_command(args: argparse.Namespace) -> int:
    import json

    from nasbench.cli.generate import check_device
    from nasbench.table import load_table
    from predictors.proxies import PROXIES, load_proxies
    from predictors.proxies.precompute import compute_proxy_table, seconds_per_arch
    from predictors.proxies.user import is_user_spec, register_user_proxy

    names = load_proxies()
    proxies = args.proxies or names
    for name in proxies:
        register_user_proxy(name) if is_user_spec(name) else PROXIES.get(name)  # unknown: one line listing them
    if not proxies:
        raise NasbenchError("proxies: none registered")
    check_device(args.device)
    table = load_table(args.table, args.tables_dir)
    indices = None if args.archs is None else table.indices[: args.archs]
    skeleton = {**nb201_skeleton(args), "folder": table.path / "proxies-nb201"} if args.macro == "nb201" else {}
    folder = compute_proxy_table(table, proxies, args.seeds, workers=args.workers, chunk_size=args.chunk_size,
                                 batch_size=args.batch_size, batch_seed=args.batch_seed, indices=indices,
                                 device=args.device, **skeleton)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    per_arch = seconds_per_arch(manifest)
    hours = "core-hours" if set(manifest.get("devices", {"cpu": 0})) == {"cpu"} else "device-hours"
    print(f"wrote {folder}: {manifest['rows']:,} scores ({manifest['archs']:,} architectures x "
          f"{len(manifest['init_seeds'])} init seeds x {len(proxies)} proxies); {per_arch:.3f} s per architecture "
          f"for all proxies, {per_arch * len(table.indices) / 3600:.2f} {hours} per init seed for the table's "
          f"{len(table.indices):,} cells" + ("" if len(table.indices) == table.space.size else
                                             f" ({per_arch * table.space.size / 3600:.2f} for the space's "
                                             f"{table.space.size:,})"))
    for name, facts in manifest["proxies"].items():
        flags = [f"{facts['non_finite']} non-finite"] if facts["non_finite"] else []
        flags += [f"{facts['errors']} errors"] if facts["errors"] else []
        print(f"  {name:<10} {facts['seconds_per_arch_median'] * 1000:8.2f} ms/arch" + (f"  ({', '.join(flags)})" if flags else ""))
    return 0


def correlate_command(args: argparse.Namespace) -> int:
    import json

    import numpy as np
    import pandas as pd

    from nasbench.atomic import atomic_path, atomic_write_text
    from nasbench.table import load_table
    from predictors.proxies import PROXIES, load_proxies
    from predictors.proxies.correlate import (
        as_records,
        connected_cells,
        correlate,
        disconnected_group,
        vote_scores,
    )
    from predictors.proxies.reading import read_scores

    load_proxies()
    table = load_table(args.table, args.tables_dir)
    manifest, raw = read_scores(table)
    raw |= user_scores(table, manifest, args.user, args.workers)
    scores = {name: values * (PROXIES.get(name).sign if name in PROXIES else 1) for name, values in raw.items()}
    vote = vote_scores(scores)
    if vote is not None:
        scores["vote"] = vote
    present = table.present
    scored = np.isfinite(np.stack(list(scores.values()))).any(axis=(0, 1)) & present
    targets = {name: table.final(name)[scored] for name in ("valid_acc", "test_acc")}
    unique = (table.scalar("trained_as") == np.arange(table.space.size))[scored]
    is_connected = connected_cells(table.space)[scored]
    kept = {name: values[:, scored] for name, values in scores.items()}
    figures = correlate(kept, targets, unique, is_connected, draws=args.draws, seed=args.seed, progress=True)
    apart = disconnected_group(kept, targets, is_connected)
    print(report(table.name, manifest, figures, apart, int(scored.sum()), args.draws))
    out = args.out or (table.path / "proxies")
    records = as_records(figures)
    payload = {"table": table.name, "table_sha256": table.sha256, "init_seeds": manifest["init_seeds"],
               "draws": args.draws, "bootstrap_seed": args.seed, "figures": records, "disconnected": apart}
    atomic_write_text(out / "correlation.json", json.dumps(payload, indent=1) + "\n")
    with atomic_path(out / "correlation.parquet") as tmp:
        pd.DataFrame.from_records(records).to_parquet(tmp, index=False)
    print(f"\nwrote {out / 'correlation.json'} and {out / 'correlation.parquet'}")
    from nasbench.plotting import have_matplotlib

    plot = args.plot or (out / "correlation.png" if have_matplotlib() else None)
    if plot is not None:
        from predictors.proxies.plots import plot_correlation

        title = f"{table.name}: zero-cost proxies, {int(is_connected.sum()):,} connected cells"
        print(f"wrote {plot_correlation(figures, kept, targets['test_acc'], is_connected, plot, title)}")
    return 0


def user_scores(table: Any, manifest: dict[str, Any], specs: list[str], workers: int) -> dict[str, Any]:
    """Score each ``file.py:function`` on the proxy table's batch and init seeds (resumable,
    under TABLE/proxies/user/) and return its scores by spec."""
    import re

    from predictors.proxies.precompute import compute_proxy_table
    from predictors.proxies.reading import read_scores
    from predictors.proxies.user import register_user_proxy

    out = {}
    for spec in specs:
        register_user_proxy(spec)
        folder = table.path / "proxies" / "user" / re.sub(r"[^A-Za-z0-9_.-]+", "-", spec).strip("-")
        batch = manifest["batch"]
        compute_proxy_table(table, [spec], manifest["init_seeds"], workers=workers, batch_size=batch["size"],
                            batch_seed=batch["seed"], folder=folder)
        out |= read_scores(table, folder)[1]
    return out


def report(name: str, manifest: dict[str, Any], figures: list[Any], apart: dict[str, Any], archs: int,
           draws: int) -> str:
    """The printed table: per proxy, Spearman, Kendall and precision at top-k against test accuracy."""
    seeds = manifest["init_seeds"]
    lines = [(f"{name}: {archs:,} architectures scored, init seeds {seeds}, batch of {manifest['batch']['size']} "
              f"(mean over init seeds [95% bootstrap interval over architectures, {draws} draws]; "
              f"+- half the range across init seeds)")]
    for target in ("test_acc", "valid_acc"):
        for subset in ("all", "unique", "top-half"):
            rows = [f for f in figures if f.target == target and f.subset == subset]
            lines += ["", f"vs {target}, {subset} ({rows[0].archs:,} connected architectures)" if rows else "",
                      f"{'proxy':<10} {'Spearman':>24} {'Kendall':>24} {'P@10%':>8} {'P@1%':>8}  non-finite"]
            for f in sorted(rows, key=lambda f: -f.figures.get("spearman", (-2,))[0]):
                if not f.figures:
                    lines.append(f"{f.proxy:<10} {'too few finite scores':>24}  {f.non_finite}")
                    continue
                lines.append(f"{f.proxy:<10} {_interval(f.figures['spearman']):>24} {_interval(f.figures['kendall']):>24} "
                             f"{f.figures['p@10%'][0]:8.3f} {f.figures['p@1%'][0]:8.3f}  {f.non_finite}")
            if target == "valid_acc":
                break  # valid: the all-architectures view is enough on screen (the files hold every subset)
    if apart["cells"]:
        lines += ["", (f"disconnected cells (no input-output path): {apart['cells']:,}, median test accuracy "
                       f"{apart['median_test_acc']:.2f}; left out of the figures above")]
    else:
        lines += ["", "disconnected cells (no input-output path): none"]
    return "\n".join(lines)


def _interval(figure: tuple[float, float, float, float]) -> str:
    mean, low, high, spread = figure
    return f"{mean:6.3f} [{low:6.3f}, {high:6.3f}] +-{spread / 2:.3f}"
