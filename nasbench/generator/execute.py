"""Runs chunks of training: in this process, in a pool of worker processes, or on a Dask
cluster. Workers return results; only the parent writes files (atomically), so a killed
run leaves whole chunk files and nothing else."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nasbench.generator.plan import Chunk, GeneratorConfig
from nasbench.table.schema import CURVE_COLUMNS


@dataclass(frozen=True)
class ChunkJob:
    """A chunk plus what a worker needs to train it (picklable, no open resources)."""

    chunk: Chunk
    dataset: str
    split_seed: int
    train: dict[str, Any]


@lru_cache(maxsize=4)
def _dataset(name: str, split_seed: int):
    from nasbench.datasets import load_dataset

    return load_dataset(name, split_seed=split_seed)


def train_chunk(job: ChunkJob) -> dict[str, list]:
    """Train every representative of a chunk; returns column lists for its chunk file."""
    from nasbench.spaces.nb201 import all_cells
    from nasbench.training import TrainConfig, init_worker, train_architecture

    init_worker(1)
    dataset = _dataset(job.dataset, job.split_seed)
    config = TrainConfig(**job.train)
    out: dict[str, list] = {"arch_index": [], "seed": [], "train_device": [], "eval_seconds": []}
    for index in job.chunk.indices:
        record = train_architecture(all_cells()[index].ops, dataset, config, seed=job.chunk.seed)
        out["arch_index"].append(index)
        out["seed"].append(job.chunk.seed)
        out["train_device"].append(record.device)
        out["eval_seconds"].append(float(sum(record.eval_seconds)))
        for name in CURVE_COLUMNS:
            out.setdefault(name, []).append(list(getattr(record, name)))
    return out


def jobs_for(config: GeneratorConfig, chunks: Sequence[Chunk]) -> list[ChunkJob]:
    return [ChunkJob(c, config.dataset, config.split_seed, config.train) for c in chunks]


Result = tuple[ChunkJob, dict[str, list]]


def run_serial(jobs: Sequence[ChunkJob]) -> Iterator[Result]:
    """Train chunks one after another in this process."""
    for job in jobs:
        yield job, train_chunk(job)


def run_processes(jobs: Sequence[ChunkJob], workers: int) -> Iterator[Result]:
    """Train chunks in ``workers`` spawned processes (one torch thread each)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(train_chunk, job): job for job in jobs}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def run_dask(jobs: Sequence[ChunkJob], scheduler: Any) -> Iterator[Result]:
    """Train chunks on a Dask distributed cluster (an address, or a Client/LocalCluster)."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(train_chunk, list(jobs), pure=False)
        job_of = {future.key: job for future, job in zip(futures, jobs)}
        for future in dask_completed(futures):
            yield job_of[future.key], future.result()
    finally:
        if client is not scheduler:
            client.close()


def executor(workers: int, scheduler: Any = None) -> Callable[[Sequence[ChunkJob]], Iterator[Result]]:
    """The chunk runner for the requested parallelism."""
    if scheduler is not None:
        return lambda jobs: run_dask(jobs, scheduler)
    if workers <= 1:
        return run_serial
    return lambda jobs: run_processes(jobs, workers)
