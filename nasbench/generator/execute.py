"""Runs chunks of training: in this process, in a pool of worker processes, or on a Dask
cluster. Workers return results; only the parent writes files (atomically), so a killed
run leaves whole chunk files and nothing else."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nasbench.errors import NasbenchError
from nasbench.generator.plan import Chunk, GeneratorConfig
from nasbench.generator.stopping import init_worker_process
from nasbench.table.schema import CURVE_COLUMNS


@dataclass(frozen=True)
class ChunkJob:
    """A chunk plus what a worker needs to train it (picklable, no open resources)."""

    chunk: Chunk
    dataset: str
    split_seed: int
    train: dict[str, Any]
    stack: int = 1  # 1: one architecture at a time; K > 1: nasbench.stacked, K at once
    device: str = "cpu"  # torch device the worker trains on ("cuda", "cuda:1", ...)
    space: str = "nb201"  # the search space the chunk's indices belong to


@lru_cache(maxsize=4)
def _dataset(name: str, split_seed: int):
    from nasbench.datasets import load_dataset

    return load_dataset(name, split_seed=split_seed)


def train_chunk(job: ChunkJob) -> dict[str, list]:
    """Train every representative of a chunk; returns column lists for its chunk file."""
    from nasbench.spaces import get_space
    from nasbench.training import TrainConfig, init_worker, train_architecture

    init_worker(1)
    dataset = _dataset(job.dataset, job.split_seed)
    config = TrainConfig(**job.train)
    out: dict[str, list] = {"arch_index": [], "seed": [], "train_device": [], "eval_seconds": []}
    records = _stacked_records(job, dataset, config) if job.stack != 1 else None
    for index in job.chunk.indices:
        if records is None:
            record = train_architecture(get_space(job.space).from_index(index), dataset, config,
                                        seed=job.chunk.seed, device=job.device)
        else:
            record = records[index]
        out["arch_index"].append(index)
        out["seed"].append(job.chunk.seed)
        out["train_device"].append(record.device)
        out["eval_seconds"].append(float(sum(record.eval_seconds)))
        for name in CURVE_COLUMNS:
            out.setdefault(name, []).append(list(getattr(record, name)))
    return out


# --- stacked path (nasbench.stacked) ---------------------------------------------------


def _stacked_records(job: ChunkJob, dataset: Any, config: Any) -> dict[int, Any]:
    """TrainRecords of the chunk's architectures trained ``job.stack`` at a time.

    The chunk's cells are sorted by their ops (a fixed rule, so a rerun stacks them the same
    way) so that a stack shares ops on more edges; each record is the same training as
    ``train_architecture``'s up to float rounding (see nasbench.stacked), and its
    epoch/eval seconds are the stack's divided by its size. Measured on a 2-core VM it is
    at most ~1.2x faster (3-stage "tiny" skeleton) and slower on the calibrated one-stage
    skeletons, so the default stays 1.
    """
    from nasbench.spaces.nb201 import all_cells
    from nasbench.stacked import train_stacked

    if isinstance(job.stack, bool) or not isinstance(job.stack, int) or job.stack < 1:
        raise ValueError(f"ChunkJob.stack must be a positive integer, got {job.stack!r}")
    order = sorted(job.chunk.indices, key=lambda i: (all_cells()[i].ops, i))
    records: dict[int, Any] = {}
    for start in range(0, len(order), job.stack):
        part = order[start:start + job.stack]
        trained = train_stacked([all_cells()[i].ops for i in part], [job.chunk.seed] * len(part), dataset, config,
                                device=job.device)
        records.update(zip(part, trained))
    return records


def jobs_for(config: GeneratorConfig, chunks: Sequence[Chunk], stack: int = 1, device: str = "cpu") -> list[ChunkJob]:
    """One job per chunk, trained on ``device``; ``stack`` > 1 trains that many architectures at
    once (nasbench.stacked: for GPUs, where one small network leaves the device idle)."""
    return [ChunkJob(c, config.dataset, config.split_seed, config.train, stack, device, config.space) for c in chunks]


Result = tuple[ChunkJob, dict[str, list]]


def run_serial(jobs: Sequence[ChunkJob]) -> Iterator[Result]:
    """Train chunks one after another in this process."""
    for job in jobs:
        yield job, train_chunk(job)


def run_processes(jobs: Sequence[Any], workers: int, work: Callable[[Any], Any] = train_chunk) -> Iterator[tuple[Any, Any]]:
    """Train chunks in ``workers`` spawned processes (one torch thread each); ``work`` (a
    module-level function, picklable) maps a job to its result: training by default, or
    another per-chunk job such as scoring zero-cost proxies.

    The workers die with this process (nasbench.generator.stopping); if the caller stops
    early (an exception, a signal, closing this iterator) they are stopped at once rather
    than left to finish their chunks.
    """
    context = multiprocessing.get_context("spawn")
    before = {p.pid for p in multiprocessing.active_children()}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker_process,
                               initargs=(os.getpid(),))
    try:
        futures = {pool.submit(work, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stop_children(before)
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


def stop_children(keep: set[int], grace: float = 5.0) -> None:
    """Terminate this process's multiprocessing children except those in ``keep`` (pids), then
    kill any still alive after ``grace`` seconds."""
    children = [p for p in multiprocessing.active_children() if p.pid not in keep]
    for process in children:
        process.terminate()
    for process in children:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join()


SCHEDULER_TIMEOUT = "15s"  # how long to try reaching a --scheduler before saying it cannot be reached


def run_dask(jobs: Sequence[Any], scheduler: Any, work: Callable[[Any], Any] = train_chunk) -> Iterator[tuple[Any, Any]]:
    """Train chunks on a Dask distributed cluster (an address, or a Client/LocalCluster);
    ``work`` maps a job to its result, as for :func:`run_processes`."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    try:
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, ValueError, TypeError) as exc:
        raise NasbenchError(f"--scheduler: cannot reach Dask scheduler {scheduler!r} ({exc})") from None
    try:
        futures = client.map(work, list(jobs), pure=False)
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
