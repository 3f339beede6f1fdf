"""Which built-in strategies, proxies and predictors apply to a track, and which of them still
lack an entry: the work list of ``leaderboard/run-entries.sh`` and the check that every
built-in is on every track it applies to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nasbench.leaderboard.entries import entries_dir, open_benchmark
from nasbench.leaderboard.tracks import Track


@dataclass(frozen=True)
class Missing:
    """A built-in that applies to a track and has no entry there yet."""

    track: str
    name: str


def applicable(track: Track, tables_dir: Sequence[str] = ()) -> list[str]:
    """The built-ins that apply to ``track``, in registry order.

    A strategy applies when it models the benchmark's space (``Strategy.spaces``); a
    multi-objective strategy (it needs a latency column to trade against) only on a
    hypervolume track, where single-objective ones run as references. Every registered proxy
    applies to a proxy track and every registered predictor to a predictor track.
    """
    if track.kind == "proxy":
        from predictors.proxies import load_proxies

        return load_proxies()
    if track.kind == "predictor":
        from predictors.registry import PREDICTORS, load_predictors

        load_predictors()
        return list(PREDICTORS.names())
    import strategies

    space = open_benchmark(track, tables_dir).space.name
    names = []
    for name in strategies.STRATEGIES.names():
        cls = strategies.STRATEGIES.get(name)
        if cls.spaces is not None and space not in cls.spaces:
            continue
        if cls.multi_objective and track.objective != "hypervolume-gap":
            continue
        names.append(name)
    return names


def missing_entries(tracks: Sequence[Track], root: str | Path | None = None,
                    tables_dir: Sequence[str] = ()) -> list[Missing]:
    """Every (track, built-in) pair without an entry file ``<entries>/<track>/<name>.json``."""
    folder = entries_dir(root)
    return [Missing(track.name, name) for track in tracks for name in applicable(track, tables_dir)
            if not (folder / track.name / f"{name}.json").is_file()]
