"""Writes a nasbench table in NATS-Bench's topology "fast mode" layout, so nats_bench's own API reads our numbers.

A test helper for the side-by-side benchmarks (tests/bench/test_bench_vs_natsbench.py), not part
of the package. The layout is the one ``nats_bench.create(folder, "tss", fast_mode=True)`` reads,
as NATS-Bench's own collector (AutoDL-Projects, exps/NATS-Bench/tss-collect.py) writes it:

- ``meta.pickle.pbz2``: ``{"meta_archs": [15,625 strings], "total_archs": 15625,
  "arch2infos": None, "evaluated_indexes": set()}``;
- ``{index:06d}.pickle.pbz2`` per architecture: ``{hp: ArchResults.state_dict()}``, built with
  nats_bench's own ``ArchResults`` / ``ResultsCount`` and weights cleared (as in the "-simple" files):
  per (dataset, seed) a ResultsCount with per-epoch ``train_acc1es``, ``train_acc5es``,
  ``train_losses``, ``train_times`` (dicts keyed by epoch) and ``eval_acc1es``, ``eval_losses``,
  ``eval_times`` keyed ``"x-valid@<epoch>"`` / ``"ori-test@<epoch>"``, params (MB), FLOPs (M),
  a one-element latency list (seconds) and the arch config.

Both use bz2-compressed pickles (protocol 4) written by ``nats_bench.pickle_save``. Since our
index order is NAS-Bench-201's, ``meta_archs`` is the real benchmark's list and NATS-Bench's
string -> index look-ups behave exactly as on the real data.

What differs from the real files (each difference makes NATS-Bench's side *cheaper* than on its
real data, so the measured ratios are conservative):

- one training setting and one data split per architecture: hp key ``"12"`` holds our 7-epoch
  run, dataset key ``"cifar10-valid"`` (NATS-Bench's train / valid / test split) holds our
  MNIST-1D results; the real files hold hp ``"12"`` and ``"200"`` (12 and 200 epochs) on four
  datasets, with 1-3 seeds each, so they are many times larger to decompress and unpickle;
- our 2 seeds (0, 1) instead of 777 / 888 / 999;
- values our table does not record are NaN in the same places, never invented: top-5 train
  accuracy (``train_acc5es``) and evaluation times (``eval_times``); NATS-Bench's real times are
  themselves estimates (``reset_pseudo_*``), ours are measured per-epoch training seconds;
- one latency per architecture (device ``cpu-torch-b64``; NATS-Bench keeps one per dataset);
  our other latency devices, the canonical hash and ``trained_as`` have no place in the format.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from nats_bench import ArchResults, ResultsCount, pickle_save

from nasbench.spaces.nb201 import all_cells
from nasbench.table import Table

DATASET = "cifar10-valid"  # NATS-Bench's train / valid / test split: the one with x-valid and ori-test
HP = "12"  # the hp key holding our (7-epoch) training setting
LATENCY_DEVICE = "cpu-torch-b64"
EVAL_SETS = {"x-valid": "valid", "ori-test": "test"}  # NATS-Bench eval name -> our curve prefix
NAN = math.nan


def folder_name(table: Table) -> str:
    """The benchmark folder's name, after the real ``NATS-tss-v1_0-3ffb9-simple``."""
    return f"NATS-tss-{table.name}-simple"


class Columns:
    """The table's columns that the files need, with each architecture's block read on demand."""

    def __init__(self, table: Table) -> None:
        names = ("train_acc", "train_loss", "epoch_seconds", "valid_acc", "valid_loss", "test_acc", "test_loss")
        self.curves = {name: table.curve(name) for name in names}  # (size, seeds, epochs) float32
        self.params = table.scalar("params") / 1e6  # NATS-Bench: MB (millions of parameters)
        self.flops = table.scalar("flops") / 1e6  # NATS-Bench: M (millions of FLOPs)
        device = LATENCY_DEVICE if LATENCY_DEVICE in table.latency_devices else table.latency_devices[0]
        self.latency = table.latency(device).astype(np.float64) / 1e3  # NATS-Bench: seconds
        self.recorded = table.recorded
        self.seeds = table.seeds.tolist()
        self.epochs = table.epochs
        self.strings = [str(cell) for cell in all_cells()]  # index order == NAS-Bench-201's
        macro = table.manifest.generator.get("macro", {})
        self.arch_config = {"channel": macro.get("channels"), "num_cells": macro.get("cells_per_stage"),
                            "class_num": table.manifest.dataset.get("num_classes")}


def _result(cols: Columns, index: int, position: int) -> ResultsCount:
    """One (architecture, seed) trial as NATS-Bench's ResultsCount, built with its own methods."""
    epochs = range(cols.epochs)
    c = {name: values[index, position].astype(np.float64).tolist() for name, values in cols.curves.items()}
    arch_config = {**cols.arch_config, "arch_str": cols.strings[index]}
    result = ResultsCount(DATASET, None, None, None, float(cols.params[index]), float(cols.flops[index]),
                          arch_config, cols.seeds[position], cols.epochs, None)
    result.update_train_info(
        {e: c["train_acc"][e] for e in epochs},
        {e: NAN for e in epochs},  # top-5 accuracy: not recorded
        {e: c["train_loss"][e] for e in epochs},
        {e: c["epoch_seconds"][e] for e in epochs},
    )
    accs, losses, times = {}, {}, {}
    for name, prefix in EVAL_SETS.items():
        for e in epochs:
            key = f"{name}@{e}"
            accs[key], losses[key], times[key] = c[f"{prefix}_acc"][e], c[f"{prefix}_loss"][e], NAN
    result.update_eval(accs, losses, times)  # evaluation times: not recorded
    result.update_latency([float(cols.latency[index])])
    return result


def arch_state(cols: Columns, index: int) -> OrderedDict[str, Any]:
    """What the real ``{index:06d}.pickle.pbz2`` holds: ``{hp: ArchResults.state_dict()}``."""
    info = ArchResults(index, cols.strings[index])
    for position in np.flatnonzero(cols.recorded[index]).tolist():
        info.update(DATASET, cols.seeds[position], _result(cols, index, position))
    info.clear_params()
    return OrderedDict({HP: info.state_dict()})


def write_natsbench(table: Table, root: Path, indices: Any = None) -> Path:
    """Write ``table`` in NATS-Bench's topology fast-mode layout under ``root``; returns the folder.

    ``indices`` limits the per-architecture files written (all present architectures by default;
    the meta file always lists the whole space, as the real one does).
    """
    if table.space.name != "nb201":
        raise ValueError(f"table {table.name!r}: space {table.space.name!r} is not NATS-Bench's topology space")
    folder = Path(root) / folder_name(table)
    folder.mkdir(parents=True, exist_ok=True)
    cols = Columns(table)
    wanted = table.indices if indices is None else np.asarray(indices, dtype=np.int64)
    for index in wanted.tolist():
        pickle_save(arch_state(cols, index), str(folder / f"{index:06d}.pickle"))
    meta = {"meta_archs": cols.strings, "total_archs": len(cols.strings), "arch2infos": None,
            "evaluated_indexes": set()}
    pickle_save(meta, str(folder / "meta.pickle"))  # last: a folder with a meta file is complete
    return folder
