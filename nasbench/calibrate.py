#!/usr/bin/env python
"""Calibrate a training preset for the nb201 table generator.

Samples ``--num-archs`` architectures from distinct isomorphism classes (numpy
``default_rng(--sample-seed)``; a few fixed strong and weak cells always included), trains
each with every ``--seeds`` seed using ``nasbench.training.train_architecture`` and
reports:

- seconds per training (process CPU time of one call, evaluation included, 1 thread per
  worker, so it is core-seconds; wall seconds are recorded too),
- the Spearman (and Kendall) correlation of the final validation accuracy between the
  first two seeds, over all sampled archs and over the better half,
- the spread (std) of the seed-mean accuracy across archs versus the mean |seed
  difference|, and the best / median / worst seed-mean accuracy.

Each class is trained through its cheapest member (fewest FLOPs, then parameters, then
non-"none" edges, then index): the cell a generator would train once per class.

``--summarise FILE...`` re-prints the table for earlier ``--out`` files.

Example::

    python python -m nasbench.calibrate --dataset mnist1d --channels 8 --cells-per-stage 1 \\
        --epochs 10 --batch-size 128 --lr 0.1 --workers 2 --out runs/c8n1e10.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

FIXED_CELLS = {  # always included: strong all-conv cells and weak pool/skip/zero cells
    "all-conv3": ("nor_conv_3x3",) * 6,
    "all-conv1": ("nor_conv_1x1",) * 6,
    "conv3-chain": ("nor_conv_3x3", "none", "nor_conv_3x3", "none", "none", "nor_conv_3x3"),
    "all-pool": ("avg_pool_3x3",) * 6,
    "all-skip": ("skip_connect",) * 6,
    "all-none": ("none",) * 6,
}


def class_representatives() -> dict[str, tuple[str, ...]]:
    """Canonical hash -> the cheapest member cell (min FLOPs, params, non-"none" edges,
    index), in hash order."""
    from nasbench.models import MacroConfig, count_costs
    from nasbench.spaces.nb201 import all_cells
    from nasbench.spaces.nb201_canonical import all_hashes

    ref = MacroConfig(channels=8, cells_per_stage=1, stages=3, input_shape=(1, 40))
    best: dict[str, tuple[tuple[int, int, int, int], tuple[str, ...]]] = {}
    for index, (cell, h) in enumerate(zip(all_cells(), all_hashes())):
        params, flops = count_costs(cell.ops, ref)
        key = (flops, params, sum(op != "none" for op in cell.ops), index)
        if h not in best or key < best[h][0]:
            best[h] = (key, cell.ops)
    return {h: best[h][1] for h in sorted(best)}


def sample_archs(num: int, sample_seed: int) -> list[tuple[str, tuple[str, ...]]]:
    """(label, ops) of the fixed cells' classes plus random distinct classes, ``num`` in all."""
    from nasbench.spaces.nb201_canonical import canonical_hash

    reps = class_representatives()
    chosen: list[tuple[str, tuple[str, ...]]] = []
    seen: set[str] = set()
    for label, ops in FIXED_CELLS.items():
        h = canonical_hash(ops)
        if h not in seen:
            seen.add(h)
            chosen.append((label, reps[h]))
    hashes = [h for h in reps if h not in seen]
    rng = np.random.default_rng(sample_seed)
    for i in rng.permutation(len(hashes))[: max(0, num - len(chosen))]:
        chosen.append((f"class-{hashes[i][:8]}", reps[hashes[i]]))
    return chosen


_DATASET = None  # the worker's dataset, loaded once by _init


def mnist1d_with_samples(num_samples: int, split_seed: int = 0):
    """MNIST-1D made exactly like ``nasbench.datasets``' loader (pooled, split 60/20/20 by
    ``split_seed``, standardised per feature on train) but from ``num_samples`` signals
    instead of the default 5,000: to measure what a larger MNIST-1D would buy."""
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    from nasbench.datasets import _make, _split

    args = get_dataset_args()
    args.num_samples = num_samples
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    x = np.concatenate([data["x"], data["x_test"]]).astype(np.float64)
    y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)
    parts = _split(len(y), split_seed, (0.6, 0.2))
    mean = x[parts[0]].mean(axis=0)
    std = np.maximum(x[parts[0]].std(axis=0), 1e-8)
    return _make("mnist1d", ((x - mean) / std)[:, None, :], y, parts, 10, split_seed)


def load(dataset: str, mnist1d_samples: int | None):
    from nasbench.datasets import load_dataset

    if mnist1d_samples is not None:
        if dataset != "mnist1d":
            raise ValueError(f"--mnist1d-samples needs --dataset mnist1d, got {dataset!r}")
        return mnist1d_with_samples(mnist1d_samples)
    return load_dataset(dataset)


def _init(threads: int, dataset: str, mnist1d_samples: int | None, cfg: dict) -> None:
    """Worker setup: threads, the dataset in memory, one short warm-up run (not timed)."""
    import dataclasses

    from nasbench.training import TrainConfig, init_worker, train_architecture

    global _DATASET
    init_worker(threads)
    _DATASET = load(dataset, mnist1d_samples)
    warm = dataclasses.replace(TrainConfig(**cfg), epochs=1)
    train_architecture(FIXED_CELLS["all-conv3"], _DATASET, warm, seed=12345)


def _train(job: tuple[int, tuple[str, ...], dict, int]) -> dict:
    from nasbench.training import TrainConfig, train_architecture

    arch_id, ops, cfg, seed = job
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rec = train_architecture(ops, _DATASET, TrainConfig(**cfg), seed)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "arch": arch_id, "seed": seed, "cpu_seconds": cpu, "wall_seconds": wall,
        "train_seconds": float(sum(rec.epoch_seconds)), "eval_seconds": float(sum(rec.eval_seconds)),
        "final_valid_acc": rec.valid_acc[-1], "final_valid_loss": rec.valid_loss[-1],
        "final_test_acc": rec.test_acc[-1],
        "final_train_acc": rec.train_acc[-1], "valid_acc": rec.valid_acc, "params": rec.params,
        "flops": rec.flops,
    }


def summarise(results: list[dict], archs: list[tuple[str, tuple[str, ...]]], seeds: list[int]) -> dict:
    from scipy.stats import kendalltau, spearmanr

    acc = np.full((len(archs), len(seeds)), np.nan)
    loss = np.full((len(archs), len(seeds)), np.nan)
    for r in results:
        acc[r["arch"], seeds.index(r["seed"])] = r["final_valid_acc"]
        loss[r["arch"], seeds.index(r["seed"])] = r["final_valid_loss"]
    cpu = np.array([r["cpu_seconds"] for r in results])
    wall = np.array([r["wall_seconds"] for r in results])
    mean = acc.mean(axis=1)
    out = {
        "num_archs": len(archs), "seeds": seeds,
        "cpu_seconds_mean": float(cpu.mean()), "cpu_seconds_max": float(cpu.max()),
        "wall_seconds_mean": float(wall.mean()),
        "acc_best": float(mean.max()), "acc_median": float(np.median(mean)),
        "acc_worst": float(mean.min()),
        "acc_std_across_archs": float(mean.std(ddof=1)),
    }
    if len(seeds) >= 2:
        a, b = acc[:, 0], acc[:, 1]
        top = mean >= np.median(mean)
        fixed = np.array([label in FIXED_CELLS for label, _ in archs])
        rng = np.random.default_rng(0)  # bootstrap over archs: how noisy is rho from ~60 archs?
        boot = []
        for _ in range(1000):
            i = rng.integers(0, len(a), len(a))
            boot.append(spearmanr(a[i], b[i]).statistic)
        out.update({
            "spearman_ci90": [float(np.nanpercentile(boot, 5)), float(np.nanpercentile(boot, 95))],
            "spearman_random_only": float(spearmanr(a[~fixed], b[~fixed]).statistic),
            "num_archs_random_only": int((~fixed).sum()),
            "spearman": float(spearmanr(a, b).statistic),
            "kendall": float(kendalltau(a, b).statistic),
            "spearman_valid_loss": float(spearmanr(loss[:, 0], loss[:, 1]).statistic),
            "spearman_top_half": float(spearmanr(a[top], b[top]).statistic),
            "num_archs_top_half": int(top.sum()),
            "mean_abs_seed_diff": float(np.abs(a - b).mean()),
        })
    return out


HEADER = (f"{'preset':56s} {'archs':>5s} {'s/train':>7s} {'rho':>5s} {'rho90%CI':>11s} {'rhoRnd':>6s} "
          f"{'rhoTop':>6s} {'rhoL':>5s} {'std':>5s} {'|d|':>5s} {'best':>5s} {'med':>5s} {'worst':>5s}")


def format_row(tag: str, s: dict) -> str:
    """One line of the table under HEADER (nan where a field is missing)."""
    nan = float("nan")
    lo, hi = s.get("spearman_ci90", (nan, nan))
    return (f"{tag:56s} {s['num_archs']:5d} {s['cpu_seconds_mean']:7.2f} {s.get('spearman', nan):5.3f} "
            f"[{lo:4.2f},{hi:4.2f}] {s.get('spearman_random_only', nan):6.3f} "
            f"{s.get('spearman_top_half', nan):6.3f} {s.get('spearman_valid_loss', nan):5.3f} "
            f"{s['acc_std_across_archs']:5.2f} {s.get('mean_abs_seed_diff', nan):5.2f} "
            f"{s['acc_best']:5.1f} {s['acc_median']:5.1f} {s['acc_worst']:5.1f}")


def resummarise(paths: list[Path]) -> None:
    """Print the table for earlier --out files (summaries recomputed from their results)."""
    print(HEADER)
    for path in paths:
        d = json.loads(path.read_text())
        archs = [(a["label"], tuple(a["ops"])) for a in d["archs"]]
        seeds = sorted({r["seed"] for r in d["results"]})
        if any("final_valid_loss" not in r for r in d["results"]):
            for r in d["results"]:
                r.setdefault("final_valid_loss", float("nan"))
        print(format_row(d["tag"].replace(" wd=0.0005", ""), summarise(d["results"], archs, seeds)))


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--summarise":
        resummarise([Path(p) for p in argv[1:]])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist1d")
    p.add_argument("--preset", default="small")
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--cells-per-stage", type=int, default=1)
    p.add_argument("--stages", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--mnist1d-samples", type=int, default=None,
                   help="generate MNIST-1D with this many signals instead of the loader's 5,000")
    p.add_argument("--num-archs", type=int, default=60)
    p.add_argument("--sample-seed", type=int, default=0)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--workers", type=int, default=1, help="processes, each with --threads threads")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, required=True, help="JSON results path")
    args = p.parse_args(argv)

    cfg = {
        "epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer,
        "lr": args.lr, "momentum": args.momentum, "weight_decay": args.weight_decay,
        "nesterov": args.optimizer == "sgd",
        "label_smoothing": args.label_smoothing, "preset": args.preset, "channels": args.channels,
        "cells_per_stage": args.cells_per_stage, "stages": args.stages,
    }
    from nasbench.training import TrainConfig

    TrainConfig(**cfg)  # validate before spawning workers
    archs = sample_archs(args.num_archs, args.sample_seed)
    jobs = [(i, ops, cfg, s) for i, (_, ops) in enumerate(archs) for s in args.seeds]
    start = time.perf_counter()
    results: list[dict] = []
    init_args = (args.threads, args.dataset, args.mnist1d_samples, cfg)
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=init_args) as pool:
        for n, r in enumerate(pool.map(_train, jobs, chunksize=1), 1):
            results.append(r)
            if n % 20 == 0 or n == len(jobs):
                elapsed = time.perf_counter() - start
                print(f"  {n}/{len(jobs)} trainings, {elapsed:.0f}s", file=sys.stderr, flush=True)
    summary = summarise(results, archs, list(args.seeds))
    summary["elapsed_seconds"] = time.perf_counter() - start
    name = args.dataset if args.mnist1d_samples is None else f"{args.dataset}-{args.mnist1d_samples}"
    tag = (f"{name} C={args.channels} N={args.cells_per_stage} S={args.stages} E={args.epochs} "
           f"bs={args.batch_size} {args.optimizer} lr={args.lr}"
           + (f" wd={args.weight_decay}" if args.weight_decay != 5e-4 else ""))
    print(HEADER)
    print(format_row(tag, summary))
    payload = {
        "tag": tag, "config": cfg, "dataset": name, "sample_seed": args.sample_seed,
        "workers": args.workers, "threads": args.threads, "cpu_count": os.cpu_count(),
        "summary": summary,
        "archs": [{"label": label, "ops": list(ops)} for label, ops in archs],
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
