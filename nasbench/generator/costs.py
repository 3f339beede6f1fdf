"""Per-cell training costs: every row's ``epoch_seconds`` is what its own cell costs to train.

Isomorphic cells share one training run (the cheapest member trains for the class), but
not a cost: a member whose dead edges hold 3x3 convs still computes them. This stage
times a few training steps (forward, backward, optimiser step: the trainer's batch size,
optimiser, macro skeleton and shifted-sum pooling, one thread) of EVERY architecture of
the table with the drift-free protocol of :mod:`nasbench.timing`, pools the measurements
across similar cells (:mod:`nasbench.generator.cost_model`: a measurement alone is too
noisy for the small differences inside a class), then the assembly scales each member's
``epoch_seconds`` curve by (member step time / representative step time). Files, all
written atomically, so an interrupted stage resumes:

- ``work/costs/timing/``: the protocol's segment files;
- ``work/costs/step_seconds.parquet``: ``arch_index``, ``step_seconds`` (pooled estimate),
  ``measured_step_seconds`` (drift-corrected median over passes);
- ``work/costs/costs.json``: settings, drift report and validation.

Validation (:func:`validate_costs`): for a sample of members that are not their class's
representative, spread over the range of predicted cost ratios, really train the member
and its representative back to back for ``validate_epochs`` epochs; the predicted epoch
seconds (the representative's measured epoch x the step-time ratio) are compared with
the member's measured epoch. Its median absolute % error goes into the manifest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nasbench.atomic import atomic_path, atomic_write_text
from nasbench.errors import NasbenchError
from nasbench.generator.cost_model import pooled_step_times
from nasbench.generator.plan import GeneratorConfig, Plan
from nasbench.timing import TimingProtocol, run_protocol

COSTS_DIR = "costs"
STEPS_FILE = "step_seconds.parquet"
INFO_FILE = "costs.json"
METHOD = ("per-cell: the representative's measured epoch_seconds x (the cell's training-step time / the "
          "representative's); step times measured for every cell with nasbench.timing's drift-free protocol, "
          "pooled across similar cells (nasbench.generator.cost_model)")


@dataclass(frozen=True)
class CostSettings:
    """How the cost stage times training steps and how many cells it validates on."""

    steps: int = 2  # timed steps per architecture and pass (the fastest is kept)
    warmup: int = 0  # untimed steps first (oneDNN's kernel cache is shared: the first step is not slow)
    every: int = 16  # the reference cell is re-timed every this many cells
    passes: int = 2
    seed: int = 0
    validate: int = 12  # members trained for real to check the prediction (0: none)
    validate_epochs: int = 2
    validate_repeats: int = 3

    def __post_init__(self) -> None:
        minimum = {"steps": 1, "warmup": 0, "validate": 0, "validate_epochs": 1, "validate_repeats": 1}
        for name, low in minimum.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise NasbenchError(f"cost settings: {name} must be an integer >= {low}, got {value!r}")
        self.protocol()  # checks every, passes, seed

    def protocol(self) -> TimingProtocol:
        return TimingProtocol(every=self.every, passes=self.passes, seed=self.seed)


def costs_dir(out: Path) -> Path:
    from nasbench.generator.assemble import WORK_DIR

    return Path(out) / WORK_DIR / COSTS_DIR


def median_flops_cell(members: np.ndarray, macro: Any, space: str = "nb201") -> int:
    """The member with the median FLOPs (lowest index among ties): a typical reference cell."""
    from nasbench.models.family import network_costs
    from nasbench.spaces import get_space

    cells = get_space(space)
    flops = np.asarray([network_costs(cells.from_index(int(i)), macro)[1] for i in members])
    target = np.sort(flops)[(len(flops) - 1) // 2]
    return int(members[np.flatnonzero(flops == target)[0]])


def step_timer(train: dict[str, Any], dataset: Any, steps: int, warmup: int) -> Callable[[int], float]:
    """``time_one(arch_index)``: seconds of a training step of that cell, as trained.

    Mirrors one step of ``nasbench.training.train_architecture``: per-step cosine learning
    rate, a gathered mini-batch, forward, cross-entropy, zero_grad, backward, optimiser
    step and the running loss/accuracy sums, on the network with shifted-sum pooling, one
    torch thread. A step is read from the calling thread's CPU clock (``time.thread_time``;
    with one intra-op thread the whole step, backward included, runs on it), and the
    fastest of ``steps`` is kept: on a shared machine the noise is time spent waiting for
    other processes and cache interference, which only ever add time. Measured on the
    shared 2-core VM (load 4), 200 random cells, fastest of 3 steps: pass-to-pass Spearman
    0.94 this way, 0.64-0.83 on the wall clock; all of nb201-mnist1d, fastest of 2 (the
    default): 0.68 raw, 0.875 drift-corrected. Only the ratio of two cells' times is used.
    """
    import math

    import torch
    import torch.nn.functional as F

    from nasbench.models import build_model
    from nasbench.spaces.nb201 import all_cells
    from nasbench.training import TrainConfig, speed_up

    config = TrainConfig(**train)
    macro = config.macro(dataset.input_shape, dataset.num_classes)
    x_train, y_train = torch.from_numpy(dataset.x_train), torch.from_numpy(dataset.y_train)
    bs = config.batch_size
    if len(y_train) < bs:
        raise NasbenchError(f"train.batch_size={bs} exceeds the {len(y_train)} training examples")
    perm = torch.randperm(len(y_train), generator=torch.Generator().manual_seed(0))
    per_epoch = len(y_train) // bs

    def time_one(index: int) -> float:
        torch.manual_seed(0)
        model = speed_up(build_model(all_cells()[index].ops, macro), macro.ndim).train()
        if config.optimizer == "sgd":
            optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                        nesterov=config.nesterov, weight_decay=config.weight_decay, foreach=True)
        else:
            optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                         foreach=True)
        group = optimizer.param_groups[0]
        loss_sum, correct = torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.int64)
        times = []
        for step in range(warmup + steps):
            start = time.thread_time()
            if config.schedule == "cosine":
                group["lr"] = config.lr * 0.5 * (1.0 + math.cos(math.pi * step / (config.epochs * per_epoch)))
            idx = perm[(step % per_epoch) * bs:(step % per_epoch + 1) * bs]
            xb, yb = x_train[idx], y_train[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                loss_sum += loss.detach().double()
                correct += (logits.detach().argmax(1) == yb).sum()
            times.append(time.thread_time() - start)
        return float(min(times[warmup:]))

    return time_one


def measure_costs(
    out: str | Path, config: GeneratorConfig, plan: Plan, dataset: Any,
    settings: CostSettings = CostSettings(), progress: bool = True,
) -> dict[str, Any]:
    """Time every member's training step (resumably), validate, and write the cost files."""
    from nasbench.generator.assemble import chunk_path
    from nasbench.spaces.nb201 import all_cells
    from nasbench.training import init_worker

    trained_on = {device for c in plan.chunks if chunk_path(Path(out), c.id).is_file()
                  for device in pq.read_table(chunk_path(Path(out), c.id), columns=["train_device"])
                  ["train_device"].to_pylist()}
    if trained_on - {"cpu"}:
        raise NasbenchError(f"{out}: trained on {', '.join(sorted(trained_on))}; the cost stage times training steps "
                            "on one CPU thread and scales CPU-trained seconds only")
    folder = costs_dir(Path(out))
    info_path = folder / INFO_FILE
    if info_path.is_file() and (folder / STEPS_FILE).is_file():
        info = json.loads(info_path.read_text())
        if info.get("settings") == asdict(settings):
            return info
    info_path.unlink(missing_ok=True)  # never leave new step times beside an older costs.json
    init_worker(1)
    reference = median_flops_cell(plan.members, _macro(config, dataset), config.space)
    result = run_protocol(plan.members, step_timer(config.train, dataset, settings.steps, settings.warmup),
                          reference, settings.protocol(), store=folder / "timing", progress=progress,
                          desc=f"step times {config.name}",
                          identity={"steps": settings.steps, "warmup": settings.warmup, "train": config.train})
    cells = all_cells()
    step, pooled = pooled_step_times([cells[int(i)].ops for i in plan.members], result.corrected[:, :, 0],
                                     seed=settings.seed)
    with atomic_path(folder / STEPS_FILE) as tmp:
        pq.write_table(pa.table({"arch_index": plan.members, "step_seconds": step,
                                 "measured_step_seconds": result.values[:, 0]}), tmp)
    validation = validate_costs(plan, step, config, dataset, settings, table_epoch_seconds(Path(out), plan),
                                measured_step=result.values[:, 0])
    info = {
        "method": METHOD, "settings": asdict(settings), "reference": reference, "device": "cpu", "threads": 1,
        "drift": result.reports[0].to_dict(), "pooling": pooled.to_dict(),
        "timing_cpu_seconds": round(result.cpu_seconds, 1), "validation": validation,
    }
    atomic_write_text(info_path, json.dumps(info, indent=1, sort_keys=True) + "\n")
    return info


def _macro(config: GeneratorConfig, dataset: Any) -> Any:
    from nasbench.training import TrainConfig

    return TrainConfig(**config.train).macro(dataset.input_shape, dataset.num_classes)


def table_epoch_seconds(out: Path, plan: Plan) -> dict[int, float] | None:
    """Mean epoch seconds of each trained representative over its chunk files (all seeds)."""
    from nasbench.generator.assemble import chunk_path

    sums: dict[int, list[float]] = {}
    for chunk in plan.chunks:
        path = chunk_path(out, chunk.id)
        if not path.is_file():
            return None
        data = pq.read_table(path, columns=["arch_index", "epoch_seconds"])
        for index, curve in zip(data["arch_index"].to_pylist(), data["epoch_seconds"].to_pylist()):
            sums.setdefault(int(index), []).append(float(np.mean(curve)))
    return {k: float(np.mean(v)) for k, v in sums.items()}


def validation_sample(plan: Plan, step: np.ndarray, size: int) -> np.ndarray:
    """Positions (into plan.members) of ``size`` non-representative members spread evenly
    over the range of predicted cost ratios (sorted by ratio, evenly spaced ranks)."""
    rows = {int(m): k for k, m in enumerate(plan.members)}
    candidates = np.flatnonzero(plan.members != plan.representative)
    if size == 0 or len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    ratio = step[candidates] / step[[rows[int(r)] for r in plan.representative[candidates]]]
    ranked = candidates[np.argsort(ratio, kind="stable")]
    picks = np.unique(np.linspace(0, len(ranked) - 1, min(size, len(ranked))).round().astype(int))
    return ranked[picks]


def validate_costs(
    plan: Plan, step: np.ndarray, config: GeneratorConfig, dataset: Any, settings: CostSettings,
    table_seconds: dict[int, float] | None = None, measured_step: np.ndarray | None = None,
) -> dict[str, Any] | None:
    """Train sampled members and their representatives for real; error of the prediction.

    Each sampled member and its representative are trained ``validate_repeats`` times
    (alternating, back to back) for ``validate_epochs`` epochs; a cell's measured epoch
    seconds are the median over repeats of its mean epoch. Reported: the median and max
    absolute % error of predicted (representative's measured x step-time ratio) against
    the member's measured epoch seconds; the same for copying the representative's
    seconds (the v1 rule); with ``measured_step``, the same for the unpooled measured step
    times (does pooling help?); the run-to-run variation of single runs (median |repeat 1 /
    repeat 2 - 1| of the same cell: the error compares medians of ``validate_repeats`` runs,
    so its noise floor is lower, about 0.65x this for 3); and, given the table's own
    representative timings, the error of the table's new values.
    """
    from nasbench.spaces.nb201 import all_cells
    from nasbench.training import TrainConfig, train_architecture

    sample = validation_sample(plan, step, settings.validate)
    if len(sample) == 0:
        return None
    rows = {int(m): k for k, m in enumerate(plan.members)}
    epochs = min(settings.validate_epochs, int(config.train.get("epochs", settings.validate_epochs)))
    train = TrainConfig(**{**config.train, "epochs": epochs})
    cells, noise = [], []
    train_architecture(all_cells()[int(plan.representative[sample[0]])].ops, dataset, train, seed=0)  # untimed warm-up
    for k, position in enumerate(sample):
        member, rep = int(plan.members[position]), int(plan.representative[position])
        runs: dict[int, list[float]] = {member: [], rep: []}
        for r in range(settings.validate_repeats):
            for i in ((member, rep) if (k + r) % 2 == 0 else (rep, member)):  # alternate who goes first
                record = train_architecture(all_cells()[i].ops, dataset, train, seed=0)
                runs[i].append(float(np.mean(record.epoch_seconds)))
        if len(runs[member]) > 1:
            noise.append(abs(runs[member][0] / runs[member][1] - 1))
        measured, rep_measured = float(np.median(runs[member])), float(np.median(runs[rep]))
        ratio = float(step[position] / step[rows[rep]])
        unpooled = (None if measured_step is None
                    else rep_measured * float(measured_step[position] / measured_step[rows[rep]]))
        cells.append({"member": member, "representative": rep, "ratio": ratio, "measured": measured,
                      "unpooled_predicted": unpooled,
                      "representative_measured": rep_measured, "predicted": rep_measured * ratio,
                      "table_predicted": None if table_seconds is None else table_seconds.get(rep, np.nan) * ratio})
    pct = lambda values: round(100 * float(np.nanmedian(values)), 2)  # noqa: E731
    error = [abs(c["predicted"] / c["measured"] - 1) for c in cells]
    out = {"n": len(cells), "epochs": epochs, "repeats": settings.validate_repeats, "cells": cells,
           "median_abs_pct_error": pct(error), "max_abs_pct_error": round(100 * float(np.max(error)), 2),
           "copied_median_abs_pct_error": pct([abs(c["representative_measured"] / c["measured"] - 1) for c in cells]),
           "run_to_run_pct": pct(noise) if noise else None}
    if measured_step is not None:
        out["unpooled_median_abs_pct_error"] = pct([abs(c["unpooled_predicted"] / c["measured"] - 1) for c in cells])
    if table_seconds is not None:
        out["table_median_abs_pct_error"] = pct([abs(c["table_predicted"] / c["measured"] - 1) for c in cells])
    return out


def cost_scale(out: Path, plan: Plan) -> tuple[np.ndarray | None, dict[str, Any]]:
    """(member step time / representative step time per member, or None; the manifest's
    ``costs`` entry). None when the cost stage has not run (each row then copies its
    representative's seconds, as v1 tables do)."""
    folder = costs_dir(out)
    if np.array_equal(plan.members, plan.representative):
        return None, {"method": "own: every architecture is its own isomorphism class and trained itself: "
                                "each row's epoch_seconds are its own training's"}
    if not (folder / STEPS_FILE).is_file() or not (folder / INFO_FILE).is_file():
        return None, {"method": "copied: each row carries the epoch_seconds of its isomorphism class's "
                                "trained representative (per-cell costs not measured)"}
    data = pq.read_table(folder / STEPS_FILE)
    step = dict(zip(data["arch_index"].to_pylist(), data["step_seconds"].to_pylist()))
    missing = [int(m) for m in plan.members if int(m) not in step]
    if missing:
        raise NasbenchError(f"{folder / STEPS_FILE}: no step time for architecture {missing[0]}; "
                            "remove work/costs and rerun the cost stage")
    member = np.asarray([step[int(m)] for m in plan.members])
    rep = np.asarray([step[int(r)] for r in plan.representative])
    info = json.loads((folder / INFO_FILE).read_text())
    validation = info.get("validation") or {}
    summary = {k: info[k] for k in ("method", "settings", "reference", "device", "threads", "drift", "pooling",
                                    "timing_cpu_seconds")}
    summary["validation"] = {k: v for k, v in validation.items() if k != "cells"} or None
    return member / rep, summary

