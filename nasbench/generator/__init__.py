"""The table generator: train every architecture of a space on a dataset, resumably.

``generate(out, config)`` plans one training per isomorphism class and seed, skips the
chunks already on disk under ``out/work/chunks``, trains the rest (in this process, in
worker processes or on a Dask cluster), then runs the cost stage (every cell's own
training-step time, :mod:`nasbench.generator.costs`) and assembles the table in ``out``.
:func:`reassemble` rewrites a finished table from its work files without training or
timing anything (``nasbench latency measure``/``fill`` and ``nasbench costs measure``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from nasbench.atomic import atomic_write_text
from nasbench.errors import NasbenchError
from nasbench.generator.assemble import WORK_DIR, assemble, chunk_path, write_chunk
from nasbench.generator.costs import CostSettings
from nasbench.generator.execute import executor, jobs_for
from nasbench.generator.plan import GeneratorConfig, Plan, make_plan
from nasbench.table.manifest import Manifest

CONFIG_NAME = "config.json"

__all__ = ["CostSettings", "GeneratorConfig", "generate", "make_plan", "reassemble", "require_finished"]


def _check_config(out: Path, config: GeneratorConfig) -> None:
    """Refuse to mix runs of different configs in one folder (seeds may be added)."""
    path = out / WORK_DIR / CONFIG_NAME
    if path.is_file():
        previous = GeneratorConfig.from_dict(json.loads(path.read_text()))
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
    return GeneratorConfig.from_dict(json.loads(path.read_text()))


def pending_chunks(out: Path, plan: Plan) -> list:
    return [c for c in plan.chunks if not chunk_path(out, c.id).is_file()]


def require_finished(out: str | Path) -> tuple[GeneratorConfig, Plan]:
    """The config and plan of the generator run in ``out``; refuses one with untrained chunks."""
    config = load_config(out)
    plan = make_plan(config)
    todo = pending_chunks(Path(out), plan)
    if todo:
        raise NasbenchError(
            f"table {config.name!r} in {out} is not finished: {len(todo)} of {len(plan.chunks)} training chunks "
            f"are not trained (first: {todo[0].id}); finish it with `nasbench generate` (this command never trains)")
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
    return (
        f"NB201-style cells trained on {config.dataset} by nasbench's generator; "
        f"isomorphic cells share one training run per seed (column trained_as)."
    )


def reassemble(out: str | Path) -> Manifest:
    """Write a finished table again from its work files (chunks, costs, latency); trains nothing."""
    from nasbench.datasets import load_dataset

    config, plan = require_finished(out)
    dataset = load_dataset(config.dataset, split_seed=config.split_seed)
    return assemble(Path(out), config, plan, _dataset_info(config, dataset), _description(config))


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
) -> Manifest | None:
    """Train what is missing, time every cell's training step (``costs``, in this process on
    one thread, resumable; None skips it and rows copy their representative's seconds), then
    write the table in ``out``.

    ``device`` is the torch device the workers train on (each row records it in
    ``train_device``); ``stack`` > 1 trains that many cells at once as one batched network
    (nasbench.stacked), which pays on a GPU, not on one CPU thread.
    """
    from nasbench.datasets import load_dataset

    out = Path(out)
    dataset = load_dataset(config.dataset, split_seed=config.split_seed)  # fail fast on a bad name
    _check_config(out, config)
    plan = make_plan(config)
    todo = pending_chunks(out, plan)
    total = sum(len(c.indices) for c in todo)
    run = executor(workers, scheduler)
    with tqdm(total=total, unit="arch", desc=f"training {config.name}", disable=not progress, smoothing=0.05) as bar:
        for job, columns in run(jobs_for(config, todo, stack=stack, device=device)):
            write_chunk(out, job.chunk.id, columns)
            bar.update(len(job.chunk.indices))
    if not assemble_table:
        return None
    if costs is not None:
        from nasbench.generator.costs import measure_costs

        measure_costs(out, config, plan, dataset, costs, progress=progress)
    return assemble(out, config, plan, _dataset_info(config, dataset), _description(config))
