"""Leaderboard entries of strategy tracks: run a strategy under a track's protocol (seeds in
parallel worker processes, or on a Dask cluster), write the entry append-only, and verify an
entry by re-running it bit for bit.

An entry is a result file (``nasbench.study/2``: per-seed trajectories, versions, the
strategy's source sha256, the isolation it ran under) plus an ``entry`` section: its name,
the track's protocol as it was, and the strategy as given (a built-in name or ``path.py:Class``).
Seeds are independent (each draws from its own SeedSequence), so splitting them across
processes gives the same runs as one process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench.atomic import atomic_write_text
from nasbench.errors import NasbenchError
from nasbench.leaderboard.tracks import Track, TrackError, load_track, parse_track

ENTRY_FORMAT = "nasbench.leaderboard-entry/1"


def entries_dir(root: str | Path | None = None) -> Path:
    """The folder of entries (default: the repository's leaderboard/entries)."""
    return Path(root) if root is not None else Path(__file__).resolve().parents[2] / "leaderboard" / "entries"


def open_benchmark(track: Track, tables_dir: Sequence[str] = ()) -> Any:
    """The track's benchmark, refused (TrackError) when its identity differs from the protocol's."""
    if track.benchmark == "surrogate":
        from predictors.surrogate.benchmark import load_surrogate_benchmark

        benchmark = load_surrogate_benchmark(track.benchmark_name, list(tables_dir))
    else:
        from nasbench.benchmarks import as_benchmark
        from nasbench.table import load_table

        benchmark = as_benchmark(load_table(track.benchmark_name, list(tables_dir)))
    if benchmark.sha256 != track.benchmark_sha256:
        raise TrackError(f"protocol mismatch: track {track.name!r} is defined on {track.benchmark} "
                         f"{track.benchmark_name} {track.benchmark_sha256[:12]}, found {benchmark.sha256[:12]}")
    return benchmark


def study_options(track: Track) -> dict[str, Any]:
    """run_study keyword arguments that implement the track's objective and budget."""
    if track.kind != "strategy":
        raise TrackError(f"track {track.name!r} is a {track.kind} track, not a strategy track")
    options: dict[str, Any] = {"trial": track.trial, "objective": "regret"}
    if track.objective in ("constrained-regret", "hypervolume-gap"):
        options["latency_device"] = track.latency_device
    if track.objective == "constrained-regret":
        options["max_latency"] = track.max_latency_ms
    if track.objective == "hypervolume-gap":
        options["objective"] = "hypervolume"
    return options


@dataclass(frozen=True)
class SeedsJob:
    """Some seeds of an entry, for one worker (picklable: names, not objects)."""

    track: dict[str, Any]
    strategy: str
    params: dict[str, Any]
    seeds: tuple[int, ...]
    isolate: bool
    tables_dir: tuple[str, ...]


def run_seeds(job: SeedsJob) -> dict[str, Any]:
    """Run one job's seeds (in a worker process); the result as a dict."""
    from nasbench.isolation import IsolatedStrategy
    from nasbench.oracle import Budget
    from nasbench.study import run_study
    from strategies import get_strategy

    track = parse_track(job.track, f"entry track {job.track.get('name')!r}")
    benchmark = open_benchmark(track, job.tables_dir)
    budget = Budget(queries=track.queries, seconds=track.seconds)
    if job.isolate:
        with IsolatedStrategy.from_spec(job.strategy, list(job.tables_dir), list(benchmark.paths)) as isolated:
            result = run_study(isolated, benchmark, budget, job.seeds, params=job.params, **study_options(track))
    else:
        result = run_study(get_strategy(job.strategy), benchmark, budget, job.seeds, params=job.params,
                           **study_options(track))
    return result.to_dict()


def run_entry(track: Track, strategy: str, params: dict[str, Any] | None = None, workers: int = 1,
              scheduler: Any = None, isolate: bool | None = None, tables_dir: Sequence[str] = ()) -> dict[str, Any]:
    """Run ``strategy`` on every seed of ``track``; the merged result as a dict (runs in seed order).
    A user file (``path.py:Class``) runs isolated unless ``isolate`` is False."""
    from strategies import STRATEGIES

    open_benchmark(track, tables_dir)  # a protocol mismatch fails before any worker starts
    study_options(track)
    user_file = ":" in strategy and strategy not in STRATEGIES
    isolate = user_file if isolate is None else bool(isolate)
    parts = max(1, min(workers, len(track.seeds)))
    jobs = [SeedsJob(track.to_dict(), strategy, dict(params or {}), tuple(track.seeds[k::parts]), isolate,
                     tuple(tables_dir)) for k in range(parts)]
    if scheduler is not None:
        from nasbench.generator.execute import run_dask

        results = [r for _, r in run_dask(jobs, scheduler, work=run_seeds)]
    elif parts > 1:
        from nasbench.generator.execute import run_processes

        results = [r for _, r in run_processes(jobs, parts, work=run_seeds)]
    else:
        results = [run_seeds(job) for job in jobs]
    merged = dict(results[0])
    by_seed = {run["seed"]: run for result in results for run in result["runs"]}
    merged["runs"] = [by_seed[s] for s in track.seeds]
    merged["planned_seeds"] = list(track.seeds)
    return merged


def entry_record(result: dict[str, Any], track: Track, name: str, strategy: str) -> dict[str, Any]:
    """The entry file's content: the result plus its ``entry`` section."""
    return {**result, "entry": {"format": ENTRY_FORMAT, "name": name, "strategy": strategy,
                                "track": track.to_dict()}}


def write_entry(record: dict[str, Any], root: str | Path | None = None) -> Path:
    """Write an entry under ``root/TRACK/NAME.json``; an existing entry is never replaced."""
    section = record["entry"]
    path = entries_dir(root) / section["track"]["name"] / f"{section['name']}.json"
    if path.exists():
        raise NasbenchError(f"{path} exists: entries are append-only; give the new entry another name (--name)")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return path


def verify_entry(path: str | Path, workers: int = 1, tables_dir: Sequence[str] = (),
                 tracks_root: str | Path | None = None) -> list[str]:
    """Re-run an entry and compare it: the reasons it is rejected (empty: verified).

    Every choice (architectures, fidelities, incumbents) must be the same; recorded numbers
    must agree to :data:`VALUE_TOLERANCE` (a table's are bit-identical; a surrogate predicts
    in float64 BLAS, whose last bits differ across CPU models: measured 2e-14)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        section = record["entry"]
        recorded_track = parse_track(section["track"], f"{path}: entry.track")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{path}: not a leaderboard entry ({exc})"]
    current = load_track(recorded_track.name, tracks_root)
    if current != recorded_track:
        return [f"protocol mismatch: the entry ran under another version of track {current.name!r}"]
    if not record.get("complete", True) or [r["seed"] for r in record["runs"]] != list(current.seeds):
        return [f"seeds: the entry holds seeds {[r['seed'] for r in record['runs']]}, the track fixes "
                f"{list(current.seeds)} (a crashed or partial run)"]
    source = record.get("strategy_source")
    strategy = section["strategy"]
    if source and ":" in strategy:
        from nasbench.atomic import sha256_file

        file = strategy.rsplit(":", 1)[0]
        if not Path(file).is_file() or sha256_file(file) != source.get("sha256"):
            return [f"strategy source: {file} is missing or differs from the sha256 the entry recorded"]
    isolate = bool((record.get("isolation") or {}).get("process", False))
    rerun = run_entry(current, strategy, record.get("params"), workers, isolate=isolate, tables_dir=tables_dir)
    fresh = json.loads(json.dumps(rerun))  # as it would read back from a file
    for old, new in zip(record["runs"], fresh["runs"]):
        field = next((k for k in old if not same_field(old.get(k), new.get(k))), None)
        if field is not None:
            return [f"seed {old['seed']}: the re-run differs ({field})"]
    return []


VALUE_TOLERANCE = 1e-9  # absolute and relative, on recorded numbers (accuracies in points, seconds)


def same_field(old: Any, new: Any) -> bool:
    """Whether a re-run's field equals the recorded one: exactly, or for numbers (lists of
    numbers) within VALUE_TOLERANCE, NaN matching NaN."""
    if old == new:
        return True
    import numpy as np

    try:
        a, b = np.asarray(old, dtype=np.float64), np.asarray(new, dtype=np.float64)
    except (TypeError, ValueError):  # strings, ragged lists: only equality counts
        return False
    if isinstance(old, bool) or a.shape != b.shape or a.dtype.kind != "f":
        return False
    return bool(np.allclose(a, b, rtol=VALUE_TOLERANCE, atol=VALUE_TOLERANCE, equal_nan=True))
