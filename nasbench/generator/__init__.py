"""The table generator: train every architecture of a space on a dataset, resumably.

``generate(out, config)`` plans one training per isomorphism class and seed, skips the
chunks already on disk under ``out/work/chunks`` (after checking them: a damaged one is
moved aside and trained again, nasbench.generator.chunks), trains the rest (in this
process, in worker processes or on a Dask cluster), refuses to go on if a training
diverged, then runs the cost stage (every cell's own training-step time,
:mod:`nasbench.generator.costs`) and assembles the table in ``out``. One generator at a
time holds a folder (nasbench.generator.lock); a stop signal or Ctrl-C stops the workers
and keeps every finished chunk (nasbench.generator.stopping).
:func:`reassemble` rewrites a finished table from its work files without training or
timing anything (``nasbench latency measure``/``fill`` and ``nasbench costs measure``).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from nasbench.atomic import atomic_write_text
from nasbench.errors import NasbenchError
from nasbench.generator.assemble import WORK_DIR, assemble, chunk_path, write_chunk
from nasbench.generator.chunks import (
    chunk_metadata,
    damaged_chunks,
    diverged_in,
    move_aside,
    refuse_diverged,
    set_aside_damaged,
)
from nasbench.generator.costs import CostSettings
from nasbench.generator.execute import executor, jobs_for
from nasbench.generator.lock import output_lock
from nasbench.generator.plan import GeneratorConfig, Plan, make_plan
from nasbench.generator.stopping import GenerationStopped, Stopped, signal_name, stop_on_signals
from nasbench.table.manifest import Manifest

CONFIG_NAME = "config.json"

__all__ = ["CostSettings", "GenerationStopped", "GeneratorConfig", "check_out_folder", "generate", "load_config",
           "make_plan", "reassemble", "require_finished"]

Note = Callable[[str], None]


def say_note(line: str) -> None:
    """Print a note of the generator on stderr (above a progress bar, if one is shown)."""
    tqdm.write(f"nasbench: note: {line}", file=sys.stderr)


def read_config(path: Path) -> GeneratorConfig:
    """The generator config stored at ``path``; NasbenchError naming the file if it is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("train"), dict):
            raise TypeError("not a JSON object with a train object")
        for key in ("name", "dataset", "space"):
            if key in data and not isinstance(data[key], str):
                raise TypeError(f"{key} is not a string")
        config = GeneratorConfig.from_dict(data)
        json.dumps(config.to_dict())
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, NasbenchError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0][:120]
        raise NasbenchError(f"{path} is damaged ({reason or type(exc).__name__})") from None
    return config


def _check_config(out: Path, config: GeneratorConfig, note: Note) -> None:
    """Refuse to mix runs of different configs in one folder (seeds may be added); a damaged
    config file is moved aside (the chunks are then checked against this run's config)."""
    path = out / WORK_DIR / CONFIG_NAME
    if path.is_file():
        try:
            previous = read_config(path)
        except NasbenchError as exc:
            target = move_aside(out, path)
            note(f"{exc}: moved to {target}; the chunks are checked against this run's config")
        else:
            changed = previous.differences(config)
            if changed:
                field, before, now = changed[0]
                raise NasbenchError(
                    f"{out}: holds a run with {field}={json.dumps(before)}, not {json.dumps(now)}; "
                    "use another --out folder"
                )
    atomic_write_text(path, json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")


def load_config(out: str | Path) -> GeneratorConfig:
    """The config of the generator run in ``out``."""
    path = Path(out) / WORK_DIR / CONFIG_NAME
    if not path.is_file():
        raise NasbenchError(f"{out}: not a generator folder (no {WORK_DIR}/{CONFIG_NAME})")
    return read_config(path)


def pending_chunks(out: Path, plan: Plan) -> list:
    return [c for c in plan.chunks if not chunk_path(out, c.id).is_file()]


def require_finished(out: str | Path) -> tuple[GeneratorConfig, Plan]:
    """The config and plan of the generator run in ``out``; refuses one with untrained or damaged chunks."""
    config = load_config(out)
    plan = make_plan(config)
    todo = pending_chunks(Path(out), plan)
    if todo:
        raise NasbenchError(
            f"table {config.name!r} in {out} is not finished: {len(todo)} of {len(plan.chunks)} training chunks "
            f"are not trained (first: {todo[0].id}); finish it with `nasbench generate` (this command never trains)")
    damaged = damaged_chunks(Path(out), plan, config)
    if damaged:
        chunk, problem = damaged[0]
        raise NasbenchError(
            f"table {config.name!r} in {out}: {len(damaged)} chunk(s) are damaged (first: {chunk.id}.parquet, "
            f"{problem}); `nasbench generate` with the table's config moves them aside and trains them again")
    return config, plan


def _dataset_info(config: GeneratorConfig, dataset: Any) -> dict[str, Any]:
    return {
        "name": config.dataset,
        "split_seed": config.split_seed,
        "checksum": dataset.checksum,
        "sizes": {"train": len(dataset.y_train), "valid": len(dataset.y_valid), "test": len(dataset.y_test)},
        "input_shape": dataset.input_shape,
        "num_classes": dataset.num_classes,
    }


def _description(config: GeneratorConfig) -> str:
    if config.space == "nb101":
        return (f"NB101-style cells (NAS-Bench-101's space, a uniform sample of its unique cells) trained on "
                f"{config.dataset} by nasbench's generator; arch_hash is NAS-Bench-101's module hash.")
    return (
        f"NB201-style cells trained on {config.dataset} by nasbench's generator; "
        f"isomorphic cells share one training run per seed (column trained_as)."
    )


def reassemble(out: str | Path) -> Manifest:
    """Write a finished table again from its work files (chunks, costs, latency); trains nothing."""
    from nasbench.datasets import load_dataset

    config, plan = require_finished(out)
    refuse_diverged(Path(out), plan, config)
    dataset = load_dataset(config.dataset, split_seed=config.split_seed)
    return assemble(Path(out), config, plan, _dataset_info(config, dataset), _description(config))


def check_out_folder(out: Path) -> None:
    """Refuse an output path that is not (or cannot become) a folder, before any work."""
    for path in (out, *out.parents):
        if path.exists():
            if not path.is_dir():
                what = "--out" if path == out else f"--out {out}: its parent"
                raise NasbenchError(f"{what} {path} is a file, not a folder")
            return


def generate(
    out: str | Path,
    config: GeneratorConfig,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = True,
    assemble_table: bool = True,
    device: str = "cpu",
    stack: int = 1,
    costs: CostSettings | None = CostSettings(),
    note: Note = say_note,
) -> Manifest | None:
    """Train what is missing, time every cell's training step (``costs``, in this process on
    one thread, resumable; None skips it and rows copy their representative's seconds), then
    write the table in ``out``.

    ``device`` is the torch device the workers train on (each row records it in
    ``train_device``); ``stack`` > 1 trains that many cells at once as one batched network
    (nasbench.stacked), which pays on a GPU, not on one CPU thread. ``note`` is told, one
    line each, about chunks set aside and stale locks taken over. SIGTERM, SIGHUP and
    Ctrl-C stop the workers and raise :class:`GenerationStopped` (finished chunks stay on
    disk); a run whose curves hold NaN or inf is refused before the cost stage.
    """
    out = Path(out)
    check_out_folder(out)
    if stack != 1 and config.space != "nb201":
        raise NasbenchError(f"stack={stack}: stacked training builds NB201 networks only, not {config.space} cells")
    if config.space != "nb201":  # one member per class: each row's epoch_seconds is its own training time
        costs = None
    if costs is not None and (device != "cpu" or stack != 1):
        note(f"cost stage skipped: it times training steps on one CPU thread, which says nothing of a cell's "
             f"cost on {device} with stack {stack}; rows carry their representative's epoch_seconds")
        costs = None
    if config.name != out.name:  # a table is found, loaded and cited by its folder's name
        raise NasbenchError(f"table name {config.name!r} differs from its folder {out.name!r}: name the folder "
                            f"after the table (loads refuse a table whose folder has another name)")
    plan: Plan | None = None
    try:
        with stop_on_signals():
            from nasbench.datasets import load_dataset

            dataset = load_dataset(config.dataset, split_seed=config.split_seed)  # fail fast on a bad name
            with output_lock(out, note):
                _check_config(out, config, note)
                plan = make_plan(config)
                _train(out, config, plan, workers, scheduler, progress, device, stack, note)
                if not assemble_table:
                    return None
                refuse_diverged(out, plan, config)
                if costs is not None:
                    from nasbench.generator.costs import measure_costs

                    measure_costs(out, config, plan, dataset, costs, progress=progress)
                return assemble(out, config, plan, _dataset_info(config, dataset), _description(config))
    except (Stopped, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Stopped) else int(signal.SIGINT)
        raise GenerationStopped(signum, _stopped_message(out, plan, signum)) from None


def _train(out: Path, config: GeneratorConfig, plan: Plan, workers: int, scheduler: Any, progress: bool,
           device: str, stack: int, note: Note) -> None:
    """Check the chunks on disk, then train the missing ones; each is written as it lands."""
    set_aside_damaged(out, plan, config, note)
    todo = pending_chunks(out, plan)
    total = sum(len(c.indices) for c in todo)
    run = executor(workers, scheduler)
    warned = False
    bar = tqdm(total=total, unit="arch", desc=f"training {config.name}", disable=not progress, smoothing=0.05)
    # closing: a stop (signal, Ctrl-C, error) stops the workers at once, not when collected
    with bar, contextlib.closing(run(jobs_for(config, todo, stack=stack, device=device))) as results:
        for job, columns in results:
            write_chunk(out, job.chunk.id, columns, chunk_metadata(config, job.chunk))
            bar.update(len(job.chunk.indices))
            diverged = [] if warned else diverged_in(columns)
            if diverged:
                warned = True
                first = diverged[0]
                note(f"chunk {job.chunk.id}: {len(diverged)} training(s) diverged (cell {first.index}: "
                     f"{first.column} is {first.value} from epoch {first.epoch}); training goes on, but the "
                     "table will not be assembled")


def _stopped_message(out: Path, plan: Plan | None, signum: int) -> str:
    """What a stopped run says: by what, and what it keeps."""
    folder = chunk_path(out, "x").parent
    if plan is None:
        return f"generate stopped by {signal_name(signum)} before training began"
    done = sum(chunk_path(out, c.id).is_file() for c in plan.chunks)
    return (f"generate stopped by {signal_name(signum)}: {done} of {len(plan.chunks)} training chunks are "
            f"finished and kept in {folder}; run the same command to go on")
