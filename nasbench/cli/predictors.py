"""``nasbench predictors``: list the learned accuracy predictors (``list``) and evaluate them
on a table the way the field compares them (``evaluate``: held-out cells, train sizes,
seeds, Kendall tau / Spearman / precision at top-k with intervals, fit and predict time)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser, param_arg, positive_int, seed_arg, seed_count
from nasbench.errors import NasbenchError


def add_commands(commands: Any) -> None:
    """Register the ``predictors`` command group."""
    group = commands.add_parser("predictors", help="learned accuracy predictors: list and evaluate them")
    sub = group.add_subparsers(dest="predictors_command", required=True, parser_class=Parser)
    sub.add_parser("list", help="the registered predictors, with encoding, spread and what they need")
    ev = sub.add_parser("evaluate", help="fit predictors on growing training sets, score them on held-out cells")
    ev.add_argument("--table", required=True)
    ev.add_argument("--predictors", nargs="+", default=None, help="names (default: every registered predictor)")
    ev.add_argument("--train-sizes", type=positive_int, nargs="+", default=None,
                    help="training-set sizes (default: 10 20 50 100 200 400 1000)")
    ev.add_argument("--seeds", type=seed_count, default=20, help="training sets per size (default 20)")
    ev.add_argument("--test-size", type=positive_int, default=1000, help="held-out cells (default 1000)")
    ev.add_argument("--split-seed", type=seed_arg, default=0, help="seed of the held-out draw (default 0)")
    ev.add_argument("--encoding", default=None, help="one encoding for all (default: each predictor's own)")
    ev.add_argument("--with-proxies", action="store_true",
                    help="also fit each predictor with the table's zero-cost proxy scores as extra features")
    ev.add_argument("--proxy-scores", type=Path, default=None, metavar="DIR",
                    help="with --with-proxies: the proxy table to read (default: TABLE/proxies/; e.g. TABLE/proxies-nb201/)")
    ev.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                    help="a hyperparameter for the (single) predictor evaluated, e.g. max_depth=4")
    ev.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    ev.add_argument("--out", type=Path, default=None, help="output folder (default: TABLE/predictors/)")
    ev.add_argument("--plot", type=Path, default=None,
                    help="the figure (PNG; default: kendall.png in the output folder, when matplotlib is installed)")


def run(args: argparse.Namespace) -> int:
    return {"list": list_command, "evaluate": evaluate_command}[args.predictors_command](args)


def list_command(args: argparse.Namespace) -> int:
    from predictors.registry import PREDICTORS, load_predictors

    load_predictors()
    print(f"{'predictor':<13} {'encoding':<9} {'spread':<6} {'needs':<8} model")
    for name in PREDICTORS:
        spec = PREDICTORS.get(name)
        needs = spec.requires or ("curves" if spec.curve else "")
        print(f"{name:<13} {spec.encoding:<9} {'yes' if spec.std else 'no':<6} {needs:<8} {spec.summary}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    import dataclasses

    from tqdm.auto import tqdm

    from nasbench.table import load_table
    from nasbench.versions import package_versions
    from predictors.evaluation import check_sizes
    from predictors.evaluation_report import baseline_table, detail_table, summarize, tau_table
    from predictors.evaluation_run import (
        FOLDER,
        FORMAT,
        EvaluationPlan,
        baselines,
        plan_jobs,
        require_proxies,
        run_evaluation,
        write_outputs,
    )
    from predictors.registry import PREDICTORS, load_predictors, make_predictor

    load_predictors()
    names = tuple(args.predictors or PREDICTORS.names())
    for name in names:
        PREDICTORS.get(name)  # an unknown name: one line listing the known ones
    params = dict(args.param)
    if params and len(names) != 1:
        raise NasbenchError(f"--param: applies to one predictor, got {len(names)} ({', '.join(names)})")
    table = load_table(args.table, args.tables_dir)
    if params:
        make_predictor(names[0], space=table.space, **params)  # unknown hyperparameters fail before any work
    sizes = check_sizes(args.train_sizes or (10, 20, 50, 100, 200, 400, 1000))
    proxy_folder = None if args.proxy_scores is None else str(args.proxy_scores.resolve())
    if proxy_folder and not args.with_proxies:
        raise NasbenchError("--proxy-scores: only read with --with-proxies")
    plan = EvaluationPlan(str(table.path), names, sizes, args.seeds, args.test_size, args.split_seed,
                          args.with_proxies, args.encoding, proxy_folder)
    proxy_names = require_proxies(table, proxy_folder) if args.with_proxies else []
    split, jobs = plan_jobs(table, plan, proxy_names)
    jobs = [dataclasses.replace(job, params=params) for job in jobs]
    folder = args.out or Path(table.path) / FOLDER
    print(f"{table.name}: {len(split.test):,} held-out cells, training sets drawn from {len(split.pool):,} "
          f"(unique trainings), sizes {', '.join(map(str, sizes))}, {args.seeds} seeds, "
          f"{len(jobs):,} jobs on {args.workers} worker(s)")
    with tqdm(total=len(jobs), desc="predictor fits", unit="job") as bar:
        records = run_evaluation(jobs, folder, args.workers, progress=lambda done, total: bar.update(done))
    summary = summarize(records)
    base = baselines(table, split, proxy_names, proxy_folder=proxy_folder)
    for lines in (tau_table(summary), detail_table(summary, max(sizes)), baseline_table(base)):
        print()
        print("\n".join(lines))
    manifest = {"format": FORMAT, "table": table.name, "table_sha256": table.sha256,
                "plan": dataclasses.asdict(plan) | {"table": table.name}, "params": params,
                "fit_target": "valid_acc (mean over seeds, last epoch)",
                "score_target": "test_acc (mean over seeds, last epoch)",
                "split": {"split_seed": split.split_seed, "test": len(split.test), "pool": len(split.pool)},
                "versions": package_versions("scikit-learn", "xgboost", "torch", "scipy"),
                "summary": summary, "baselines": base}
    paths = write_outputs(folder, records, base, manifest)
    print(f"\nwrote {shown(paths['records'])}, {paths['baselines'].name} and {paths['manifest'].name}")
    from nasbench.plotting import have_matplotlib

    plot = args.plot or (folder / "kendall.png" if have_matplotlib() else None)
    if plot is not None:
        from predictors.evaluation_plot import plot_tau

        title = f"{table.name}: predictors fitted on validation accuracy, {len(split.test)} held-out cells"
        print(f"wrote {shown(plot_tau(summary, base, plot, title))}")
    return 0


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else as it is."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
