"""``nasbench query``, ``run`` and ``compare``: look up, search and compare on a table."""

from __future__ import annotations

import argparse
import importlib.util
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.cli.args import float_arg, param_arg, seed_arg, seed_count
from nasbench.cli.outputs import PLOT_SUFFIXES, RESULT_SUFFIXES, Output, check_outputs
from nasbench.errors import (
    InvalidBudgetError,
    NasbenchError,
)
from nasbench.table.manifest import SYNTHETIC_WARNING

if TYPE_CHECKING:
    import pandas as pd

    from nasbench.study import StudyResult
    from nasbench.table import Table


def add_commands(commands: Any) -> None:
    """Register the ``query``, ``run`` and ``compare`` commands."""
    query = commands.add_parser("query", help="look up one architecture in a table")
    query.add_argument("arch", help="NAS-Bench-201 string or integer index")
    query.add_argument("--table", required=True)
    query.add_argument("--curve", action="store_true",
                       help="also print the learning curve (train/valid/test accuracy per epoch)")
    query.add_argument("--plot", type=Path, default=None, metavar="PNG",
                       help="with --curve: plot the learning curve (accuracy and loss) to this PNG")

    run = commands.add_parser("run", help="run a search strategy over many seeds and report regret",
                              epilog_from=strategies_epilog)
    run.add_argument("strategy", help="registered name (listed below) or path/to/file.py:ClassName")
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument("--table", help="run on this table (name or folder)")
    where.add_argument("--surrogate", metavar="NAME", help="run on this surrogate (nasbench surrogate list)")
    run.add_argument("--budget", type=int, default=None, help="queries per run (give --budget and/or --seconds)")
    run.add_argument("--seconds", type=float_arg, default=None, help="simulated training seconds per run")
    run.add_argument("--seeds", type=seed_count, default=10, help="number of seeds (first-seed .. first-seed+K-1)")
    run.add_argument("--first-seed", type=seed_arg, default=0)
    run.add_argument("--trial", default="sample", metavar="{sample,mean}",  # checked by the oracle
                     help="answer each query with one sampled training seed (default) or the seed mean")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", type=param_arg,
                     help="strategy hyperparameter (repeatable; VALUE is JSON or a bare string)")
    run.add_argument("--latency-device", default=None, metavar="DEVICE",
                     help="latency column strategies may look up for free (e.g. cpu-torch-b1)")
    run.add_argument("--max-latency", type=float_arg, default=None, metavar="MS",
                     help="latency-constrained search: only architectures with latency at most this many ms count "
                          "(needs --latency-device)")
    run.add_argument("--objective", choices=("regret", "hypervolume"), default=None,
                     help="score runs by regret or by the hypervolume gap to the accuracy-latency front "
                          "(default: hypervolume for multi-objective strategies, else regret)")
    run.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=None,
                     help="run the strategy in its own process, which holds no table and (with Landlock) cannot "
                          "read table files; the default for path/to/file.py:ClassName, off for registered names")
    run.add_argument("--timeout", type=float_arg, default=None, metavar="SECONDS",
                     help="stop a seed that runs longer than this (wall clock); the finished seeds are kept")
    run.add_argument("--out", type=Path, default=None,
                     help="write the full result (JSON) here, and the anytime plot beside it (.png)")
    run.add_argument("--plot", type=Path, default=None, help="write the anytime plot (PNG) here")
    run.add_argument("--force", action="store_true", help="overwrite the --out and plot files if they exist")
    compare = commands.add_parser("compare", help="compare saved results (nasbench run --out) in a table and a plot")
    compare.add_argument("results", type=Path, nargs="+", help="result JSON files")
    compare.add_argument("--labels", nargs="+", default=None, help="one label per result (default: strategy names)")
    compare.add_argument("--plot", type=Path, default=None, help="write the overlaid anytime curves (PNG) here")
    compare.add_argument("--force", action="store_true", help="overwrite the --plot file if it exists")


REGISTER = re.compile(r"""^@register\(\s*["']([^"']+)["']\s*\)""", re.MULTILINE)


def strategy_names() -> list[str]:
    """The registered strategy names, read from the ``@register("...")`` lines of the
    strategies package's modules without importing them (they import scipy and scikit-learn)."""
    spec = importlib.util.find_spec("strategies")
    if spec is None or spec.origin is None:
        return []
    folder = Path(spec.origin).parent
    return sorted(name for path in folder.glob("*.py") for name in REGISTER.findall(path.read_text(encoding="utf-8")))


def strategies_epilog() -> str:
    return (f"strategies: {', '.join(strategy_names())} (strategies/README.md); or your own Strategy "
            "subclass as path/to/file.py:ClassName")


def query_command(args: argparse.Namespace) -> int:
    from statistics import fmean

    from nasbench.table import load_table

    if args.plot and not args.curve:
        raise NasbenchError("--plot: draws the learning curve, so it needs --curve")
    check_outputs([Output("--plot", args.plot, PLOT_SUFFIXES)], force=True)  # a figure, redrawn at will
    table = load_table(args.table, args.tables_dir)
    record = table.record(args.arch)
    seeds = record["seeds"]
    print(f"{record['arch_str']}  (index {record['arch_index']}, hash {record['arch_hash']})")
    if record["trained_as"] != record["arch_index"]:
        print(f"isomorphic to index {record['trained_as']}, whose training run is shared")
    print(f"params {record['params']:,}   flops {record['flops']:,}")
    for name in ("valid_acc", "test_acc", "train_seconds"):
        values = ", ".join(f"{v:.2f}" for v in record[name])
        print(f"{name:<14} mean {fmean(record[name]):7.2f}   seeds {seeds}: {values}")
    for device, ms in record["latency_ms"].items():
        print(f"latency {device:<20} {ms:.3f} ms")
    curve = print_curve(table, record) if args.curve else None
    if table.manifest.synthetic:
        print(f"note: table {table.name!r} is {SYNTHETIC_WARNING}")
    if args.plot:
        from nasbench.table.views import plot_learning_curve

        title = f"{table.name}: {record['arch_str']} (index {record['arch_index']})"
        print(f"wrote {plot_learning_curve(curve, args.plot, title)}")
    return 0


MAX_SEED_COLUMNS = 4  # per-seed columns of the printed curve, beyond which only means are shown


def print_curve(table: Table, record: dict[str, Any]) -> pd.DataFrame:
    """Print an architecture's learning curve: per epoch, seed means (and each seed when few)."""
    from nasbench.table.views import learning_curve

    curve = learning_curve(table, record["arch_index"])
    mean = curve.groupby("epoch").mean(numeric_only=True)
    seeds = sorted(curve["seed"].unique().tolist())
    each = len(seeds) <= MAX_SEED_COLUMNS
    print()
    print(f"Learning curve (accuracy in %, mean over seeds {', '.join(map(str, seeds))}; seconds: training "
          "time to the end of the epoch" + ("; then valid and test accuracy of each seed)" if each else ")"))
    header = f"{'epoch':>5} {'train':>7} {'valid':>7} {'test':>7} {'seconds':>8}"
    if each:
        header += "".join(f" {f'valid s{s}':>9}" for s in seeds) + "".join(f" {f'test s{s}':>8}" for s in seeds)
    print(header)
    by_seed = curve.set_index(["epoch", "seed"])
    for epoch, row in mean.iterrows():
        line = (f"{epoch:>5} {row['train_acc']:>7.2f} {row['valid_acc']:>7.2f} {row['test_acc']:>7.2f} "
                f"{row['seconds']:>8.2f}")
        if each:
            line += "".join(f" {by_seed.loc[(epoch, s), 'valid_acc']:>9.2f}" for s in seeds)
            line += "".join(f" {by_seed.loc[(epoch, s), 'test_acc']:>8.2f}" for s in seeds)
        print(line)
    return curve


def run_command(args: argparse.Namespace) -> int:
    from nasbench.generator.stopping import Stopped, stop_on_signals
    from nasbench.oracle import Budget
    from nasbench.report import anytime_report, plot_anytime
    from nasbench.study import StudyFailed, check_params, run_study

    if args.budget is None and args.seconds is None:
        raise InvalidBudgetError("run: no budget; give --budget N (queries per run) and/or --seconds S "
                                 "(simulated training seconds per run)")
    budget = Budget(queries=args.budget, seconds=args.seconds)
    from nasbench.plotting import INSTALL_HINT, have_matplotlib

    plot = args.plot or (args.out.with_suffix(".png") if args.out and have_matplotlib() else None)
    check_outputs([Output("--out", args.out, RESULT_SUFFIXES),
                   Output("--plot" if args.plot else "the plot beside --out", plot, PLOT_SUFFIXES)], args.force)
    strategy_cls = open_strategy(args)
    params = dict(args.param)
    check_params(strategy_cls, params)
    benchmark = open_benchmark(args)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    saved = ResultKeeper(args.out)
    try:
        with stop_on_signals():  # SIGTERM and SIGHUP unwind like Ctrl-C
            result = run_study(strategy_cls, benchmark, budget, seeds, params=params, trial=args.trial, progress=True,
                               latency_device=args.latency_device, max_latency=args.max_latency,
                               objective=args.objective, on_seed=saved.keep,
                               timeout=args.timeout)
    except StudyFailed as exc:
        raise NasbenchError(f"{exc}{saved.where(len(seeds))}") from exc
    except (KeyboardInterrupt, Stopped) as exc:
        print(f"nasbench: interrupted{saved.where(len(seeds))}", file=sys.stderr)
        return 128 + getattr(exc, "signum", signal.SIGINT)
    empty = [run.seed for run in result.runs if len(run.trajectory) == 0]
    if empty:
        raise InvalidBudgetError(
            f"budget: {budget.seconds:g} simulated seconds does not cover a single query (seed {empty[0]})"
            if budget.seconds is not None else f"budget: seed {empty[0]} made no query"
        )
    if args.out and not plot:
        print(f"(no anytime plot beside {args.out}: matplotlib is not installed; {INSTALL_HINT})")
    if plot:
        plot_anytime([result], [result.strategy], plot)
    print(anytime_report(result))
    if result.multi_objective:
        print()
        print(front_report(benchmark, result))
    if args.out or plot:
        print()
    for path in (args.out, plot):
        if path:
            print(f"wrote {path}")
    return 0


class ResultKeeper:
    """Writes the result file after every finished seed (atomically), so that a failed or
    interrupted run keeps what it finished, and says where it is."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.finished = 0

    def keep(self, result: StudyResult) -> None:
        if self.path is not None:
            try:
                result.save(self.path)  # atomic: an interrupt here leaves the previous file whole
            except OSError as exc:
                raise NasbenchError(f"--out: cannot write {self.path} ({exc.strerror or exc})") from None
        self.finished = len(result.runs)  # counted once written, so the message matches the file

    def where(self, planned: int) -> str:
        """Where the finished seeds are, as the end of a message."""
        if not self.finished:
            return " (no seed had finished)"
        if self.path is None:
            return f" ({self.finished} of {planned} seeds had finished; pass --out to keep finished seeds)"
        return f" (the {self.finished} of {planned} seeds that finished are in {self.path})"


def open_benchmark(args: argparse.Namespace) -> Any:
    """The benchmark of ``nasbench run``: the table of ``--table`` or the surrogate of ``--surrogate``."""
    if args.surrogate is not None:
        from predictors.surrogate.benchmark import load_surrogate_benchmark

        return load_surrogate_benchmark(args.surrogate, args.tables_dir)
    from nasbench.table import load_table

    return load_table(args.table, args.tables_dir)


def benchmark_paths(args: argparse.Namespace) -> list[Path]:
    """The folders an isolated strategy is denied: the table's or the surrogate's."""
    if args.surrogate is not None:
        from predictors.surrogate.catalog import resolve_surrogate

        return [resolve_surrogate(args.surrogate, args.tables_dir)]
    table = Path(args.table)
    return [table] if table.is_dir() else []


def open_strategy(args: argparse.Namespace) -> Any:
    """The strategy class, or, isolated (the default for a strategy file), a handle on the
    process that runs it: nasbench's process then never imports the file."""
    from nasbench.isolation import IsolatedStrategy
    from nasbench.strategy_calls import check_timeout
    from strategies import STRATEGIES, get_strategy

    check_timeout(args.timeout)  # before anything starts
    user_file = ":" in args.strategy and args.strategy not in STRATEGIES
    isolate = user_file if args.isolate is None else args.isolate
    if not isolate:
        if user_file:
            print(f"note: --no-isolate: {args.strategy} runs inside nasbench's process, where it could read the "
                  "table; the result records that it was not isolated")
        return get_strategy(args.strategy)
    return IsolatedStrategy.from_spec(args.strategy, args.tables_dir, benchmark_paths(args))


def front_report(benchmark: Any, result: Any) -> str:
    """The Pareto front found by the first seed: chosen on validation accuracy (what the
    search saw), shown with test accuracy beside it (what it is scored on)."""
    from nasbench.pareto import front_of

    run = result.runs[0]
    front = front_of(benchmark, run.trajectory, result.latency_device)
    lines = [(f"Pareto front found by seed {run.seed} ({len(front)} architectures, chosen on validation accuracy "
              f"and {result.latency_device} latency; test accuracy beside it)"),
             f"  {'valid':>7}  {'test':>7}  {'latency':>11}  architecture"]
    for row in front:
        lines.append(f"  {row['valid_acc']:6.2f}%  {row['test_acc']:6.2f}%  {row['latency_ms']:8.3f} ms  "
                     f"{row['arch_str']}  (index {row['arch_index']})")
    return "\n".join(lines)


def compare_command(args: argparse.Namespace) -> int:
    from nasbench.report import compare_report, plot_anytime
    from nasbench.study import StudyResult
    from nasbench.table import cited_identity

    check_outputs([Output("--plot", args.plot, PLOT_SUFFIXES)], args.force)
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
    if len(results) > 1 and all(len(r.runs) > 1 for r in results):
        from nasbench.significance import significance_report

        at = min(max(len(c.regret) for c in r.curves) for r in results)
        print()
        print(significance_report(results, labels, at))
    if args.plot:
        plot_anytime(results, labels, args.plot)
        print(f"\nwrote {args.plot}")
    return 0

