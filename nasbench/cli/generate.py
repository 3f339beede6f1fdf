"""``nasbench generate``: train every architecture of a space into a table (resumable)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from nasbench.cli.args import float_arg, positive_int, seed_arg
from nasbench.cli.timing import costs_line
from nasbench.errors import NasbenchError


def add_commands(commands: Any) -> None:
    """Register the ``generate`` command."""
    gen = commands.add_parser("generate", help="train every architecture of a space into a table (resumable)")
    gen.add_argument("--space", default="nb201", choices=["nb201", "nb101"])
    gen.add_argument("--dataset", required=True, help="mnist1d, digits or cifar10")
    gen.add_argument("--seeds", type=seed_arg, nargs="+", default=[0, 1, 2])
    gen.add_argument("--out", type=Path, required=True, help="table folder; its name is the table name")
    gen.add_argument("--split-seed", type=seed_arg, default=0)
    gen.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    gen.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    gen.add_argument("--archs", type=positive_int, default=None, help="only indices 0..N-1 (default: all)")
    gen.add_argument("--sample", type=positive_int, default=None, metavar="N",
                     help="N architectures drawn uniformly without replacement (seeded by --sample-seed); "
                          "the way to tabulate a space too large to train whole, such as nb101")
    gen.add_argument("--sample-seed", type=seed_arg, default=0, help="seed of the --sample draw (default 0)")
    gen.add_argument("--chunk-size", type=positive_int, default=32)
    gen.add_argument("--device", default="cpu", help="torch device to train on: cpu, cuda, cuda:1 ...")
    gen.add_argument("--stack", type=positive_int, default=1,
                     help="train K cells at once as one batched network (pays on a GPU; default 1)")
    gen.add_argument("--preset", default=None,
                     help="macro skeleton preset (nasbench.models.family.preset_names()); default: the dataset's "
                          "calibrated config for the space")
    gen.add_argument("--epochs", type=positive_int, default=None)
    gen.add_argument("--batch-size", type=positive_int, default=None)
    gen.add_argument("--lr", type=float_arg, default=None)
    gen.add_argument("--channels", type=positive_int, default=None)
    gen.add_argument("--cells-per-stage", type=positive_int, default=None)
    gen.add_argument("--no-costs", action="store_true",
                     help="skip the cost stage (rows then copy their representative's epoch_seconds)")


def generate_command(args: argparse.Namespace) -> int:
    """Run ``nasbench generate``; a stop signal or Ctrl-C ends it with one line saying what is kept
    (exit 128 + the signal's number, as a shell reports a process it killed)."""
    from nasbench.generator import GenerationStopped, GeneratorConfig, check_out_folder, generate

    check_out_folder(args.out)

    try:
        from nasbench.training import CALIBRATED, CALIBRATED_NB101, TrainConfig
    except ImportError as exc:
        raise NasbenchError(f"generate needs torch: pip install 'nasbench[train]' ({exc})") from None
    calibrated = CALIBRATED_NB101 if args.space == "nb101" else CALIBRATED
    if args.preset is None and args.dataset in calibrated:
        train = calibrated[args.dataset].to_dict()
    else:
        train = {"preset": args.preset or ("nb101-small" if args.space == "nb101" else "small")}
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
        indices=chosen_indices(args), chunk_size=args.chunk_size,
    )
    check_device(args.device)
    from nasbench.generator import CostSettings

    try:
        manifest = generate(args.out, config, workers=args.workers, scheduler=args.scheduler, device=args.device,
                            stack=args.stack, costs=None if args.no_costs else CostSettings())
    except GenerationStopped as exc:
        print(f"nasbench: {exc}", file=sys.stderr)
        return 128 + exc.signum
    hours = manifest.generator["train_seconds"] / 3600
    print(f"wrote {manifest.name}: {manifest.rows} rows ({manifest.num_archs} architectures x {len(manifest.seeds)} seeds, "
          f"{manifest.generator['trainings']} trainings, {hours:.2f} core-hours of training) to {args.out}")
    if not args.no_costs and manifest.generator["costs"].get("settings"):
        print(costs_line(manifest.generator["costs"]))
    return 0


def chosen_indices(args: argparse.Namespace) -> tuple[int, ...] | None:
    """The architecture indices to train: --archs N (0..N-1), --sample N (uniform, seeded) or all."""
    if args.archs and args.sample:
        raise NasbenchError("--archs and --sample: give one of them, not both")
    if args.archs:
        return tuple(range(args.archs))
    if not args.sample:
        return None
    from nasbench.generator.plan import sampled_indices
    from nasbench.spaces import get_space

    return sampled_indices(get_space(args.space).size, args.sample, args.sample_seed)


def check_device(device: str) -> None:
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
