"""Leaderboard entries of predictor tracks: a registered predictor evaluated under the
track's protocol (predictors.evaluation: one held-out split drawn with the track's split seed,
nested training sets per seed, Kendall tau of predicted against recorded test accuracy), run
in worker processes, written append-only, verified by re-running every fit (the metrics must
agree to the predictor's ``verify_tolerance``: float kernels differ across CPU models, so a
re-fit is bit-identical only on the kind of machine that recorded it; fit and predict seconds
are timings and are not compared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nasbench.errors import NasbenchError
from nasbench.leaderboard.entries import open_benchmark
from nasbench.leaderboard.tracks import Track, TrackError, load_track, parse_track

FORMAT = "nasbench.leaderboard-predictor/1"
TIMINGS = ("fit_seconds", "predict_seconds")


def _jobs(track: Track, predictor: str) -> list[Any]:
    from nasbench.table import load_table
    from predictors.evaluation_run import EvaluationPlan, plan_jobs

    if track.kind != "predictor":
        raise TrackError(f"track {track.name!r} is a {track.kind} track, not a predictor track")
    table = load_table(track.benchmark_name)
    plan = EvaluationPlan(table=track.benchmark_name, predictors=(predictor,), train_sizes=track.train_sizes,
                          seeds=len(track.seeds), test_size=int(track.extra.get("test_size", 1000)),
                          split_seed=int(track.extra.get("split_seed", 0)))
    _, jobs = plan_jobs(table, plan)
    return jobs


def run_predictor_entry(track: Track, predictor: str, workers: int = 1) -> dict[str, Any]:
    """Evaluate ``predictor`` on every seed and train size of ``track``: the entry's content
    (records sorted by seed, then train size)."""
    from nasbench.generator.execute import run_processes
    from nasbench.study import result_versions
    from predictors.evaluation import fit_and_score
    from predictors.registry import PREDICTORS, load_predictors

    load_predictors()
    if predictor not in PREDICTORS:
        raise NasbenchError(f"unknown predictor {predictor!r} (known: {', '.join(sorted(PREDICTORS.names()))})")
    open_benchmark(track)  # a protocol mismatch fails before any fit
    jobs = _jobs(track, predictor)
    if workers > 1:
        parts = [records for _, records in run_processes(jobs, min(workers, len(jobs)), work=fit_and_score)]
    else:
        parts = [fit_and_score(job) for job in jobs]
    records = sorted((r for part in parts for r in part), key=lambda r: (r["seed"], r["train_size"]))
    return {"format": FORMAT, "predictor": predictor, "records": records, "versions": result_versions(),
            "entry": {"name": predictor, "strategy": predictor, "track": track.to_dict()}}


def verify_predictor_entry(path: str | Path, workers: int = 1, tracks_root: str | Path | None = None) -> list[str]:
    """Re-run a predictor entry: the reasons it is rejected (empty: verified)."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    recorded = parse_track(record["entry"]["track"], f"{path}: entry.track")
    current = load_track(recorded.name, tracks_root)
    if current != recorded:
        return [f"protocol mismatch: the entry ran under another version of track {current.name!r}"]
    from predictors.registry import PREDICTORS, VERIFY_ATOL

    fresh = run_predictor_entry(current, record["predictor"], workers)["records"]
    fresh = json.loads(json.dumps(fresh))
    if len(fresh) != len(record["records"]):
        return [f"records: the entry holds {len(record['records'])}, the protocol makes {len(fresh)}"]
    tolerance = PREDICTORS.get(record["predictor"]).verify_tolerance
    for old, new in zip(record["records"], fresh):
        for key in old:
            if key in TIMINGS or old[key] == new.get(key) or _both_nan(old[key], new.get(key)):
                continue
            allowed = tolerance.get(key, VERIFY_ATOL)
            if not (_number(old[key]) and _number(new.get(key)) and abs(old[key] - new[key]) <= allowed):
                return [f"seed {old['seed']}, {old['train_size']} cells: the re-run differs ({key}: "
                        f"{old[key]!r} recorded, {new.get(key)!r} now; allowed {allowed:g})"]
    return []


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _both_nan(a: Any, b: Any) -> bool:
    return _number(a) and _number(b) and a != a and b != b
