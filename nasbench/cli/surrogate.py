"""``nasbench surrogate``: fit a surrogate of a table (``fit``), find and inspect the fitted
ones (``list``, ``info``), check their checksums (``verify``) and validate one the way
NAS-Bench-301 was (``validate``: held-out fit, noise model, strategy rankings)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser, float_arg, param_arg, seed_arg
from nasbench.cli.predictors import shown
from nasbench.errors import NasbenchError


def add_commands(commands: Any) -> None:
    """Register the ``surrogate`` command group."""
    group = commands.add_parser("surrogate", help="surrogate benchmarks: fit, list, inspect, verify, validate")
    sub = group.add_subparsers(dest="surrogate_command", required=True, parser_class=Parser)
    fit = sub.add_parser("fit", help="fit a surrogate (learning curve, cost, test accuracy, noise) on part of a table")
    fit.add_argument("--table", required=True)
    fit.add_argument("--train-fraction", type=float_arg, required=True, metavar="F",
                     help="share of the table's architectures to fit on, in (0, 1); the rest are held out")
    fit.add_argument("--out", required=True, metavar="NAME",
                     help="surrogate name (written to TABLE/surrogates/NAME) or a folder path")
    fit.add_argument("--sampler", choices=("uniform", "trajectories"), default="uniform",
                     help="draw the training cells uniformly, or from the cells strategies visited in --results")
    fit.add_argument("--results", type=Path, nargs="+", default=(), metavar="FILE",
                     help="with --sampler trajectories: result files (nasbench run --out) of runs on this table")
    fit.add_argument("--sample-seed", type=seed_arg, default=0, help="seed of the training-cell draw (default 0)")
    fit.add_argument("--seed", type=seed_arg, default=0, help="seed of the model's fit (default 0)")
    fit.add_argument("--encoding", default="onehot", help="the space's encoding the model reads (default onehot)")
    fit.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                     help="a model hyperparameter (repeatable), e.g. n_models=3 or max_steps=1000")
    fit.add_argument("--force", action="store_true", help="replace an existing surrogate of that name")
    val = sub.add_parser("validate", help="fit by fraction and sampler, leave one strategy out, re-run table runs "
                                          "on the surrogate; writes the quality card")
    val.add_argument("--table", required=True)
    val.add_argument("--results", type=Path, nargs="+", required=True, metavar="FILE",
                     help="table runs (nasbench run --out) to re-run on the surrogate with the same seeds, e.g. "
                          "leaderboard/entries/TABLE/*.json; their visited cells feed the 'trajectories' sampler")
    val.add_argument("--out", required=True, metavar="NAME", help="name (or folder) of the surrogate kept")
    val.add_argument("--fractions", type=float_arg, nargs="+", default=(0.01, 0.05, 0.1, 0.5))
    val.add_argument("--samplers", nargs="+", choices=("uniform", "trajectories"), default=("uniform", "trajectories"))
    val.add_argument("--ranking-fraction", type=float_arg, default=0.5,
                     help="training fraction of the surrogate kept and run (default 0.5)")
    val.add_argument("--ranking-sampler", choices=("uniform", "trajectories"), default="uniform")
    val.add_argument("--sample-seed", type=seed_arg, default=0)
    val.add_argument("--seed", type=seed_arg, default=0)
    val.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                     help="a model hyperparameter for every fit (repeatable)")
    val.add_argument("--force", action="store_true", help="replace an existing surrogate of that name")
    sizes = sub.add_parser("sizes", help="held-out ranking by training-set size (how many trained cells a surrogate "
                                         "needs); keeps the largest fit and writes its card")
    sizes.add_argument("--table", required=True)
    sizes.add_argument("--out", required=True, metavar="NAME", help="name (or folder) of the surrogate kept")
    sizes.add_argument("--sizes", type=int, nargs="+", required=True, metavar="N",
                       help="training-set sizes, e.g. 50 100 200 500 1000 1500 (at most the cells outside the split)")
    sizes.add_argument("--repeats", type=int, default=3, help="uniform draws per size (default 3)")
    sizes.add_argument("--test-fraction", type=float_arg, default=0.25,
                       help="share of the table held out to score every fit (default 0.25)")
    sizes.add_argument("--seed", type=seed_arg, default=0)
    sizes.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                       help="a model hyperparameter for every fit (repeatable)")
    sizes.add_argument("--force", action="store_true", help="replace an existing surrogate of that name")
    sub.add_parser("list", help="the surrogates found beside the tables")
    for name, text in (("info", "a surrogate's manifest: source table, training cells, held-out quality"),
                       ("card", "redraw a validated surrogate's quality card and figures from its quality.json"),
                       ("verify", "recompute a surrogate's checksums (exit 1 on a mismatch)")):
        sub.add_parser(name, help=text).add_argument("name", help="surrogate name or folder")


def run(args: argparse.Namespace) -> int:
    handlers = {"fit": fit_command, "validate": validate_command, "list": list_command, "info": info_command,
                "verify": verify_command, "card": card_command, "sizes": sizes_command}
    return handlers[args.surrogate_command](args)


def training_cells(args: argparse.Namespace, table: Any) -> Any:
    """The table indices to fit on, drawn as ``--sampler`` says."""
    from predictors.surrogate.sampling import trajectory_sample, uniform_sample, visited_indices

    if args.sampler == "uniform":
        if args.results:
            raise NasbenchError("--results: only read with --sampler trajectories")
        return uniform_sample(table.indices, args.train_fraction, args.sample_seed)
    if not args.results:
        raise NasbenchError("--sampler trajectories: give --results FILE... (runs on this table)")
    visited = visited_indices(args.results, matches=table.matches)
    return trajectory_sample(visited, table.indices, args.train_fraction, args.sample_seed)


def table_and_output(args: argparse.Namespace) -> tuple[Any, Path]:
    """The source table and the surrogate's folder, checked before any work: an existing
    folder needs --force, unknown hyperparameters are refused."""
    from nasbench.table import load_table
    from predictors.surrogate.catalog import output_folder

    table = load_table(args.table, args.tables_dir)
    folder = output_folder(Path(table.path), args.out)
    if folder.exists() and not args.force:
        raise NasbenchError(f"--out: {folder} exists (pass --force to replace it)")
    check_hyperparameters(dict(args.param))
    return table, folder


def fit_command(args: argparse.Namespace) -> int:
    import numpy as np

    from predictors.surrogate.artifact import save
    from predictors.surrogate.benchmark import table_latency
    from predictors.surrogate.metrics import held_out_metrics
    from predictors.surrogate.model import SurrogateModel
    from predictors.surrogate.sampling import unseen_cells

    table, folder = table_and_output(args)
    train = training_cells(args, table)
    held_out = unseen_cells(table.arch_hashes, train, np.setdiff1d(table.indices, train))
    print(f"{table.name}: fitting on {len(train):,} of {len(table.indices):,} architectures "
          f"({args.sampler}, sample seed {args.sample_seed}); scoring on the {len(held_out):,} others with no "
          "isomorph among them")
    model = SurrogateModel.fit(table, train, encoding=args.encoding, seed=args.seed, **dict(args.param))
    metrics = held_out_metrics(model, table, held_out)
    sampling = {"sampler": args.sampler, "train_fraction": args.train_fraction, "sample_seed": args.sample_seed,
                "results": [str(p) for p in args.results]}
    save(model, folder, sampling=sampling, metrics=metrics, latency=table_latency(table), overwrite=args.force)
    print(held_out_summary(metrics))
    print(f"wrote {shown(folder)}")
    return 0


def check_hyperparameters(params: dict[str, Any]) -> None:
    """Unknown model hyperparameters fail before any work, naming the known ones."""
    from predictors.surrogate.model import HYPER_KEYS

    unknown = sorted(set(params) - set(HYPER_KEYS))
    if unknown:
        raise NasbenchError(f"--param: unknown surrogate hyperparameter {unknown[0]!r} (known: {', '.join(HYPER_KEYS)})")


def held_out_summary(metrics: dict[str, Any]) -> str:
    """Held-out quality as a few aligned lines."""
    lines = []
    for target in ("final_valid_acc", "test_acc"):
        m = metrics.get(target)
        if m:
            lines.append(f"  {target:<15} R2 {m['r2']:.3f}  Kendall tau {m['kendall_tau']:.3f}  "
                         f"sparse Kendall tau {m['sparse_kendall_tau']:.3f}")
    noise = metrics.get("noise") or {}
    if noise.get("noise_coverage_50") is not None:
        lines.append(f"  noise model     seed values inside the 50% / 90% intervals: {noise['noise_coverage_50']:.1%} / "
                     f"{noise['noise_coverage_90']:.1%}")
    return "held out:\n" + "\n".join(lines)


def validate_command(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from predictors.surrogate.validation import ValidationPlan, validate

    table, folder = table_and_output(args)
    plan = ValidationPlan(tuple(args.fractions), tuple(args.samplers), args.ranking_fraction, args.ranking_sampler,
                          args.sample_seed, args.seed, tuple(str(p) for p in args.results), dict(args.param))
    with tqdm(desc="surrogate validation", unit="step", bar_format="{desc}: {n} steps [{elapsed}] {postfix}") as bar:
        def step(text: str) -> None:
            bar.set_postfix_str(text)
            bar.update(1)

        quality = validate(table, folder, plan, folder.name, progress=step)
    print(held_out_summary(quality["kept"]["held_out"]))
    ranking = quality.get("ranking")
    if ranking:
        low, high = ranking["kendall_tau_ci"]
        print(f"strategy ranking: Kendall tau {ranking['kendall_tau']:.2f} [{low:.2f}, {high:.2f}] after "
              f"{ranking['at']} queries; the surrogate orders {ranking['same_order']} of the "
              f"{ranking['table_significant_pairs']} pairs the table separates the same way")
    print(f"wrote {shown(folder)} and its quality card {shown(folder / 'quality' / 'QUALITY.md')}")
    return 0


def sizes_command(args: argparse.Namespace) -> int:
    import shlex

    from tqdm.auto import tqdm

    from predictors.surrogate.artifact import save
    from predictors.surrogate.benchmark import table_latency
    from predictors.surrogate.metrics import held_out_metrics
    from predictors.surrogate.sizes import size_fits, split
    from predictors.surrogate.sizes_card import write_card

    table, folder = table_and_output(args)
    _, test = split(table.indices, args.test_fraction, args.seed)

    def keep(model: Any, train: Any) -> None:
        sampling = {"sampler": "uniform", "train_count": int(len(train)), "test_fraction": args.test_fraction,
                    "sample_seed": args.seed, "results": []}
        save(model, folder, sampling=sampling, metrics=held_out_metrics(model, table, test),
             latency=table_latency(table), overwrite=args.force)

    with tqdm(desc="surrogate sizes", unit="fit", bar_format="{desc}: {n} fits [{elapsed}] {postfix}") as bar:
        def step(text: str) -> None:
            bar.set_postfix_str(text)
            bar.update(1)

        study = size_fits(table, args.sizes, args.repeats, args.test_fraction, args.seed, progress=step,
                          hyper=dict(args.param), keep=keep)
    command = " ".join(["nasbench surrogate sizes", "--table", table.name, "--out", shlex.quote(args.out), "--sizes",
                        *map(str, args.sizes), "--repeats", str(args.repeats), "--test-fraction",
                        f"{args.test_fraction:g}", "--seed", str(args.seed),
                        *(f"--param {k}={v}" for k, v in args.param)])
    card = write_card(folder, folder.name, table, study, command)
    for row in study["summary"]:
        kt, st = row["kendall_test"], row["spearman_test"]
        print(f"  {row['size']:>6,} cells: Kendall tau {kt['mean']:.3f} [{kt['min']:.3f}, {kt['max']:.3f}]  "
              f"Spearman {st['mean']:.3f} [{st['min']:.3f}, {st['max']:.3f}]  (draws: {row['draws']})")
    ceiling = study.get("ceiling")
    if ceiling:
        print(f"  seed 0 vs seed 1 on the same cells: Kendall tau {ceiling['kendall_test']:.3f}  "
              f"Spearman {ceiling['spearman_test']:.3f}")
    need = study["needed"]
    print(f"needed: {need['size']:,} trained cells reach a Kendall tau within {need['tolerance']} of "
          f"{need['largest_kendall']:.3f} ({need['largest']:,} cells)"
          + ("; the curve has not flattened: more trained cells would still help" if need["size"] == need["largest"]
             else ""))
    print(f"wrote {shown(folder)} and its card {shown(card)}")
    return 0


def list_command(args: argparse.Namespace) -> int:
    from predictors.surrogate.catalog import MANIFEST, list_surrogates

    found = list_surrogates(args.tables_dir)
    if not found:
        print("no surrogates found (fit one: nasbench surrogate fit --table T --train-fraction F --out NAME)")
        return 0
    print(f"{'surrogate':<28} {'table':<22} {'cells':>7} {'sampler':<12} {'tau (test)':>10}  folder")
    for name, folder in found.items():
        manifest = json.loads((folder / MANIFEST).read_text())
        test = (manifest.get("metrics") or {}).get("test_acc") or {}
        tau = f"{test['kendall_tau']:.3f}" if "kendall_tau" in test else "-"
        sampler = (manifest["train"].get("sampling") or {}).get("sampler", "-")
        print(f"{name:<28} {manifest['table']['name']:<22} {manifest['train']['count']:>7,} "
              f"{sampler:<12} {tau:>10}  {shown(folder)}")
    return 0


def info_command(args: argparse.Namespace) -> int:
    from predictors.surrogate.catalog import MANIFEST, resolve_surrogate

    folder = resolve_surrogate(args.name, args.tables_dir)
    print(f"{folder}:")
    print(json.dumps(json.loads((folder / MANIFEST).read_text()), indent=1))
    return 0


def card_command(args: argparse.Namespace) -> int:
    from predictors.surrogate.catalog import resolve_surrogate
    from predictors.surrogate.validation import render_card

    for path in render_card(resolve_surrogate(args.name, args.tables_dir)).values():
        print(f"wrote {shown(path)}")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from predictors.surrogate.artifact import SurrogateError, verify
    from predictors.surrogate.catalog import resolve_surrogate

    folder = resolve_surrogate(args.name, args.tables_dir)
    try:
        manifest = verify(folder)
    except SurrogateError as exc:
        print(f"FAIL {exc}")
        return 1
    print(f"{folder}: OK ({len(manifest['files'])} files match their sha256)")
    return 0
