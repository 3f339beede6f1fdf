"""Leaderboard entries of proxy tracks: a registered zero-cost proxy's rank correlation with
the table's final test accuracy, from the table's precomputed proxy scores (nasbench proxies
compute), per init seed of the track, over the connected cells with a finite score (the sign
of the proxy applied, as ``nasbench proxies correlate`` does).

Verifying re-scores a seeded sample of cells under every init seed against the stored scores
(re-scoring the whole table would take core-hours), within the proxy's ``rescore_rtol``:
float32 kernels differ across CPU models, so a score is bit-identical only on the machine
kind that stored it. It then recomputes the correlations from the stored scores, exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.leaderboard.entries import open_benchmark
from nasbench.leaderboard.tracks import Track, TrackError, load_track, parse_track

FORMAT = "nasbench.leaderboard-proxy/1"
VERIFY_CELLS = 16  # cells re-scored per init seed by verify
BOOTSTRAP_DRAWS = 200  # paired resamples of cells and init seeds (the same for every entry of a track)
BOOTSTRAP_SEED = 0


def _scores(track: Track, proxy: str) -> tuple[Any, dict[str, Any], np.ndarray]:
    """(table, proxy manifest, (init seeds of the track, size) signed scores)."""
    from predictors.proxies import PROXIES, load_proxies
    from predictors.proxies.reading import read_scores

    if track.kind != "proxy":
        raise TrackError(f"track {track.name!r} is a {track.kind} track, not a proxy track")
    builtins = load_proxies()
    if proxy not in builtins:  # a proxy track ranks the built-ins, whose scores the table stores
        raise NasbenchError(f"unknown proxy {proxy!r} (known: {', '.join(sorted(builtins))})")
    table = open_benchmark(track).table
    manifest, raw = read_scores(table)
    missing = [s for s in track.seeds if s not in manifest["init_seeds"]]
    if proxy not in raw or missing:
        raise NasbenchError(f"table {table.name!r}: its proxy scores lack {proxy!r} or init seeds {missing}; "
                            f"compute them with: nasbench proxies compute --table {table.name}")
    rows = [manifest["init_seeds"].index(s) for s in track.seeds]
    return table, manifest, raw[proxy][rows] * PROXIES.get(proxy).sign


def figures(track: Track, proxy: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per init seed: Spearman and Kendall against final test accuracy, and how many cells
    counted; and the paired bootstrap of the mean Spearman (cells and init seeds resampled)."""
    from scipy.stats import kendalltau, spearmanr

    from predictors.proxies.correlate import bootstrap_spearman, connected_cells

    table, _, scores = _scores(track, proxy)
    target = table.final("test_acc").astype(np.float64)
    keep = np.isfinite(target) & connected_cells(table.space)
    out = []
    for seed, row in zip(track.seeds, scores):
        ok = keep & np.isfinite(row)
        out.append({"init_seed": int(seed), "spearman": float(spearmanr(row[ok], target[ok]).statistic),
                    "kendall": float(kendalltau(row[ok], target[ok]).statistic), "cells": int(ok.sum()),
                    "non_finite": int((keep & ~np.isfinite(row)).sum())})
    draws = bootstrap_spearman(scores[:, keep], target[keep], np.random.default_rng(BOOTSTRAP_SEED), BOOTSTRAP_DRAWS)
    return out, {"draws": BOOTSTRAP_DRAWS, "seed": BOOTSTRAP_SEED, "resampled": "cells and init seeds",
                 "spearman": [float(v) for v in draws]}


def run_proxy_entry(track: Track, proxy: str) -> dict[str, Any]:
    """The entry's content for ``proxy`` on ``track``."""
    from nasbench.study import result_versions

    records, bootstrap = figures(track, proxy)
    return {"format": FORMAT, "proxy": proxy, "records": records, "bootstrap": bootstrap,
            "versions": result_versions(), "entry": {"name": proxy, "strategy": proxy, "track": track.to_dict()}}


def rescore_agrees(fresh: np.ndarray, stored: np.ndarray, rtol: float, typical: float) -> np.ndarray:
    """Per cell: whether a re-scored value agrees with the stored one: equal (NaN with NaN,
    infinity with the same infinity) or within ``rtol`` of the larger of their sizes and
    ``typical``, the proxy's median size (so that a signed sum near zero is judged on the
    proxy's scale, not its own)."""
    with np.errstate(invalid="ignore"):
        close = np.abs(fresh - stored) <= rtol * np.maximum(np.maximum(np.abs(fresh), np.abs(stored)), typical)
    return (fresh == stored) | close | (np.isnan(fresh) & np.isnan(stored))


def rescore_sample(track: Track, proxy: str) -> str | None:
    """Re-score ``VERIFY_CELLS`` seeded cells under each init seed; a reason when one differs by
    more than the proxy's ``rescore_rtol`` of the larger of its size and the proxy's median
    size over the table (a signed sum near zero is compared on the proxy's scale)."""
    from predictors.proxies import PROXIES
    from predictors.proxies.scoring import ProxyJob, score_chunk

    table, manifest, _ = _scores(track, proxy)
    from predictors.proxies.reading import read_scores

    _, raw = read_scores(table)
    stored = raw[proxy]
    present = np.flatnonzero(np.isfinite(stored[0]))
    typical = float(np.median(np.abs(stored[np.isfinite(stored)])))
    rtol = PROXIES.get(proxy).rescore_rtol
    cells = np.sort(np.random.default_rng(0).choice(present, size=min(VERIFY_CELLS, len(present)), replace=False))
    for seed in track.seeds:
        row = manifest["init_seeds"].index(seed)
        job = ProxyJob(f"verify-{seed}", tuple(int(c) for c in cells), int(seed), manifest["dataset"]["name"],
                       int(manifest["dataset"].get("split_seed", 0)), dict(manifest["macro"]),
                       int(manifest["batch"]["size"]), int(manifest["batch"]["seed"]), (proxy,), None,
                       manifest.get("space", "nb201"))
        fresh = np.asarray(score_chunk(job)["score"], dtype=np.float64)
        old = stored[row, cells]
        same = rescore_agrees(fresh, old, rtol, typical)
        if not same.all():
            bad = np.flatnonzero(~same)[0]
            return (f"init seed {seed}, cell {int(cells[bad])}: re-scoring gives {float(fresh[bad])!r}, the table "
                    f"stored {float(old[bad])!r} (more than {rtol:g} apart, relative)")
    return None


def verify_proxy_entry(path: str | Path, tracks_root: str | Path | None = None) -> list[str]:
    """The reasons a proxy entry is rejected (empty: verified)."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    recorded = parse_track(record["entry"]["track"], f"{path}: entry.track")
    current = load_track(recorded.name, tracks_root)
    if current != recorded:
        return [f"protocol mismatch: the entry ran under another version of track {current.name!r}"]
    problem = rescore_sample(current, record["proxy"])
    if problem:
        return [problem]
    records, bootstrap = json.loads(json.dumps(figures(current, record["proxy"])))
    if records != record["records"]:
        return ["records: the correlations recomputed from the stored scores differ from the entry's"]
    if "bootstrap" in record and bootstrap != record["bootstrap"]:
        return ["bootstrap: the resampled correlations recomputed from the stored scores differ from the entry's"]
    return []
