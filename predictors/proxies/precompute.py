"""Precompute zero-cost proxy scores for every architecture of a table, resumably, into a
Parquet proxy table beside it (parent side; the scoring itself is :mod:`scoring`).

Layout, under ``TABLE/proxies/``: ``work/config.json`` (what is being computed, checked on
resume) and ``work/<chunk>.parquet`` (one per finished chunk, written atomically) while it
runs; then ``data/scores.parquet`` (one row per architecture, init seed and proxy: score,
seconds, error, device) and ``manifest.json`` (the table it scores and that table's sha256,
the skeleton, the batch, the init seeds, each proxy's facts, per-proxy seconds and non-finite
counts, the rows per device, versions, and the data file's sha256). Kill it at any time; the same command goes on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nasbench.atomic import atomic_path, atomic_write_text, sha256_file
from nasbench.errors import NasbenchError
from predictors.proxies.scoring import (
    COLUMNS,
    RANDOM,
    ProxyJob,
    batch_indices,
    score_chunk,
)

PROXY_DIR, MANIFEST, DATA = "proxies", "manifest.json", "data/scores.parquet"
FORMAT = "nasbench.proxies/1"
DEFAULT_BATCH, DEFAULT_BATCH_SEED = 64, 0


def plan_jobs(table: Any, proxies: Sequence[str], init_seeds: Sequence[int], chunk_size: int = 256,
              batch_size: int = DEFAULT_BATCH, batch_seed: int = DEFAULT_BATCH_SEED,
              indices: Sequence[int] | None = None, macro: dict[str, Any] | None = None,
              dataset: str | None = None, root: str | None = None, device: str = "cpu") -> list[ProxyJob]:
    """Every chunk of the computation: each recorded architecture (or ``indices``) under each
    seed; ``macro`` and ``dataset`` (a name, or ``"random"``) replace the table's skeleton and
    data, as for scoring on NAS-Bench-201's own skeleton; ``device`` is the torch device that
    scores."""
    m = table.manifest
    data, macro = dict(m.dataset), macro or m.generator.get("macro")
    if dataset is not None:
        data = {"name": dataset, "split_seed": data.get("split_seed", 0)}
    if not macro:
        raise NasbenchError(f"table {m.name!r}: its manifest records no skeleton (generator.macro); "
                            "proxy tables are computed for generated tables")
    archs = [int(i) for i in (table.indices if indices is None else indices)]
    return [ProxyJob(f"init{seed}-{archs[start]:05d}", tuple(archs[start:start + chunk_size]), int(seed),
                     data["name"], int(data.get("split_seed", 0)), dict(macro), batch_size, batch_seed,
                     tuple(proxies), root, m.space, device)
            for seed in init_seeds for start in range(0, len(archs), chunk_size)]


def compute_proxy_table(table: Any, proxies: Sequence[str], init_seeds: Sequence[int], workers: int = 1,
                        chunk_size: int = 256, batch_size: int = DEFAULT_BATCH, batch_seed: int = DEFAULT_BATCH_SEED,
                        indices: Sequence[int] | None = None, progress: bool = True,
                        folder: Path | None = None, macro: dict[str, Any] | None = None,
                        dataset: str | None = None, root: str | None = None, device: str = "cpu") -> Path:
    """Score what is not on disk yet, on ``device``, then assemble the proxy table in ``folder``
    (default ``TABLE/proxies``); returns the folder. A run may go on on another device: the
    device is recorded per row, not part of what identifies a chunk."""
    from tqdm.auto import tqdm

    from nasbench.generator.execute import run_processes

    folder = Path(folder) if folder is not None else Path(table.path) / PROXY_DIR
    jobs = plan_jobs(table, proxies, init_seeds, chunk_size, batch_size, batch_seed, indices, macro, dataset, root,
                     device)
    config = {"format": FORMAT, "table": table.name, "table_sha256": table.sha256,
              "chunks": {j.name: _describe(j) for j in jobs}}
    _check_config(folder / "work" / "config.json", config)
    todo = [job for job in jobs if not _chunk(folder, job).is_file()]
    runner = run_processes(todo, workers, score_chunk) if workers > 1 else ((job, score_chunk(job)) for job in todo)
    with tqdm(total=sum(len(j.indices) for j in jobs), initial=sum(len(j.indices) for j in jobs if j not in todo),
              unit="arch", desc=f"proxies {table.name}", disable=not progress, smoothing=0.05) as bar:
        for job, columns in runner:
            _write_chunk(_chunk(folder, job), columns)
            bar.update(len(job.indices))
    return assemble(table, jobs, folder)


def _chunk(folder: Path, job: ProxyJob) -> Path:
    return folder / "work" / f"{job.name}.parquet"


def _describe(job: ProxyJob) -> dict[str, Any]:
    """What decides a chunk's scores (its indices as first, last and count)."""
    out = {**asdict(job), "indices": [job.indices[0], job.indices[-1], len(job.indices)]}
    out.pop("name")
    out.pop("device")  # where a chunk was scored is recorded in its rows
    if out["space"] == "nb201":  # recorded only for other spaces: NB201 runs begun before it resume
        out.pop("space")
    return out


def _check_config(path: Path, config: dict[str, Any]) -> None:
    """Record the run's chunks, or refuse to mix them with another computation's.

    A chunk already recorded must be described the same way (table data, proxies, seed,
    batch, skeleton, indices); new chunks are added, so a later run may add init seeds to
    the scores of an earlier one and a run of fewer seeds reuses (and assembles) theirs.
    """
    config = json.loads(json.dumps(config))  # tuples as lists, as read back
    found = None
    if path.is_file():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found = {}
        if "jobs" in found:  # the first format listed one run's jobs
            found = {**{k: v for k, v in found.items() if k != "jobs"},
                     "chunks": {j["name"]: {k: v for k, v in j.items() if k != "name"} for j in found["jobs"]}}
        recorded = found.get("chunks", {})
        clash = [name for name, chunk in config["chunks"].items() if name in recorded and recorded[name] != chunk]
        if ({k: v for k, v in found.items() if k != "chunks"} != {k: v for k, v in config.items() if k != "chunks"}
                or clash):
            raise NasbenchError(f"{path.parent.parent}: holds proxy scores of another computation (different "
                                f"table data, proxies, seeds, batch or chunks); move {path.parent} away to start over")
        config["chunks"] = {**recorded, **config["chunks"]}
        if config == found:
            return
    atomic_write_text(path, json.dumps(config, indent=1, sort_keys=True) + "\n")


def _write_chunk(path: Path, columns: dict[str, list]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "arch_index": pa.array(columns["arch_index"], pa.int32()),
        "init_seed": pa.array(columns["init_seed"], pa.int32()),
        "proxy": pa.array(columns["proxy"], pa.string()).dictionary_encode(),
        "score": pa.array(columns["score"], pa.float64()),
        "seconds": pa.array(columns["seconds"], pa.float32()),
        "error": pa.array(columns["error"], pa.string()),
        "device": pa.array(columns["device"], pa.string()).dictionary_encode(),
    })
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _read_chunk(path: Path) -> Any:
    """A finished chunk; one written before rows recorded their device was scored on the CPU
    (the only device proxy tables were computed on then)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunk = pq.read_table(path)
    if "device" not in chunk.column_names:
        chunk = chunk.append_column("device", pa.array(["cpu"] * chunk.num_rows, pa.string()).dictionary_encode())
    return chunk


def assemble(table: Any, jobs: Sequence[ProxyJob], folder: Path) -> Path:
    """Concatenate the finished chunks into ``data/scores.parquet`` and write the manifest."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nasbench.datasets import load_dataset
    from nasbench.versions import package_versions
    from predictors.proxies import PROXIES, load_proxies
    from predictors.proxies.user import is_user_spec, register_user_proxy

    load_proxies()
    for name in jobs[0].proxies:
        if is_user_spec(name):
            register_user_proxy(name)
    data = pa.concat_tables([_read_chunk(_chunk(folder, job)) for job in jobs]).combine_chunks()
    data = data.sort_by([("init_seed", "ascending"), ("arch_index", "ascending")])
    with atomic_path(folder / DATA) as tmp:
        pq.write_table(data, tmp, compression="zstd")
    first = jobs[0]
    if first.dataset == RANDOM:
        batch = {"source": "random: standard normal inputs and uniform labels from numpy default_rng(seed)"}
    else:
        n_train = len(load_dataset(first.dataset, split_seed=first.split_seed, root=first.root).y_train)
        batch = {"source": "train split", "indices": batch_indices(n_train, first.batch_size, first.batch_seed).tolist()}
    proxy_col, score, seconds = data["proxy"].to_numpy(zero_copy_only=False), data["score"].to_numpy(), \
        data["seconds"].to_numpy()
    errors = data["error"].is_null().to_numpy(zero_copy_only=False)
    per_proxy = len(first.proxies)  # rows per (architecture, init seed)
    devices = {str(k): int(v) // per_proxy for k, v in
               zip(*np.unique(data["device"].to_numpy(zero_copy_only=False), return_counts=True))}
    facts = {}
    for name in first.proxies:
        rows = proxy_col == name
        p = PROXIES.get(name)
        facts[name] = {"sign": p.sign, "uses": p.uses, "reference_batch_size": p.batch_size,
                       "seconds_per_arch_median": float(np.median(seconds[rows])),
                       "seconds_total": float(np.sum(seconds[rows], dtype=np.float64)),
                       "non_finite": int(np.sum(~np.isfinite(score[rows]))),
                       "errors": int(np.sum(~errors[rows]))}
    manifest = {
        "format": FORMAT, "table": table.name, "table_sha256": table.sha256, "space": table.manifest.space,
        "dataset": {"name": first.dataset, "split_seed": first.split_seed},
        "macro": first.macro, "init_seeds": sorted({j.init_seed for j in jobs}),
        "archs": len({i for j in jobs for i in j.indices}),
        "batch": {"size": first.batch_size, "seed": first.batch_seed, **batch},
        "init": "torch default init under torch.manual_seed(init_seed) in torch.random.fork_rng",
        "proxies": facts, "devices": devices, "rows": data.num_rows, "columns": list(COLUMNS),
        "files": [{"path": DATA, "sha256": sha256_file(folder / DATA), "rows": data.num_rows}],
        "versions": package_versions("torch"),
    }
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return folder


def seconds_per_arch(manifest: dict[str, Any]) -> float:
    """All proxies' median seconds per architecture, summed (one init seed)."""
    return math.fsum(p["seconds_per_arch_median"] for p in manifest["proxies"].values())
