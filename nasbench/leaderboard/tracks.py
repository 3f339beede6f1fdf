"""Leaderboard tracks: one protocol file each (``leaderboard/tracks/NAME.json``), fixed before
any entry is run, so every entry of a track answers the same question on the same benchmark.

A track names its kind (strategy, proxy or predictor), the benchmark it runs on (a table or
a surrogate, with the identity hash entries must match), the objective, the budget in queries
and/or simulated seconds, and the fixed list of seeds (at least 25 for strategies). Loading
checks every field and names the bad one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nasbench.errors import NasbenchError

KINDS = ("strategy", "proxy", "predictor")
OBJECTIVES = {
    "strategy": ("regret", "constrained-regret", "hypervolume-gap"),
    "proxy": ("proxy-spearman",),
    "predictor": ("predictor-kendall",),
}
BENCHMARKS = ("table", "surrogate")
MIN_STRATEGY_SEEDS = 25
FORMAT = "nasbench.track/1"


class TrackError(NasbenchError):
    """A track file is missing, malformed, or names something that does not exist."""


@dataclass(frozen=True)
class Track:
    """One leaderboard track (see the module docstring)."""

    name: str
    kind: str
    benchmark: str  # "table" or "surrogate"
    benchmark_name: str
    benchmark_sha256: str
    objective: str
    seeds: tuple[int, ...]
    queries: int | None = None
    seconds: float | None = None
    trial: str = "sample"
    latency_device: str | None = None
    max_latency_ms: float | None = None
    train_sizes: tuple[int, ...] = ()  # predictor tracks: training-set sizes
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {"format": FORMAT, **asdict(self)}
        data["seeds"], data["train_sizes"] = list(self.seeds), list(self.train_sizes)
        return data


def _need(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise TrackError(f"{where}: missing field {key!r}")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TrackError(f"{where}: field {key!r} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _seeds(values: Any, where: str, key: str) -> tuple[int, ...]:
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
        raise TrackError(f"{where}: field {key!r} must be a list of non-negative integers, got {values!r}")
    if len(set(values)) != len(values):
        raise TrackError(f"{where}: field {key!r} repeats a value: {values!r}")
    return tuple(values)


def parse_track(data: Any, where: str) -> Track:
    """A Track from a parsed protocol file, every field checked (TrackError naming it)."""
    if not isinstance(data, dict):
        raise TrackError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise TrackError(f"{where}: field 'format' must be {FORMAT!r}, got {data.get('format')!r}")
    name = _need(data, "name", str, where)
    if Path(where).stem != name and where.endswith(".json"):
        raise TrackError(f"{where}: field 'name' is {name!r}; a track file is named after its track")
    kind = _need(data, "kind", str, where)
    if kind not in KINDS:
        raise TrackError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    benchmark = _need(data, "benchmark", str, where)
    if benchmark not in BENCHMARKS:
        raise TrackError(f"{where}: field 'benchmark' must be one of {', '.join(BENCHMARKS)}, got {benchmark!r}")
    objective = _need(data, "objective", str, where)
    if objective not in OBJECTIVES[kind]:
        raise TrackError(f"{where}: field 'objective' of a {kind} track must be one of "
                         f"{', '.join(OBJECTIVES[kind])}, got {objective!r}")
    seeds = _seeds(data.get("seeds"), where, "seeds")
    if kind == "strategy" and len(seeds) < MIN_STRATEGY_SEEDS:
        raise TrackError(f"{where}: field 'seeds' lists {len(seeds)} seeds; a strategy track needs at least "
                         f"{MIN_STRATEGY_SEEDS}")
    queries, seconds = data.get("queries"), data.get("seconds")
    if queries is not None and (isinstance(queries, bool) or not isinstance(queries, int) or queries < 1):
        raise TrackError(f"{where}: field 'queries' must be a positive integer or null, got {queries!r}")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0):
        raise TrackError(f"{where}: field 'seconds' must be a positive number or null, got {seconds!r}")
    if kind == "strategy" and queries is None and seconds is None:
        raise TrackError(f"{where}: a strategy track needs a budget: field 'queries' and/or 'seconds'")
    device, limit = data.get("latency_device"), data.get("max_latency_ms")
    if objective in ("constrained-regret", "hypervolume-gap") and not device:
        raise TrackError(f"{where}: objective {objective!r} needs field 'latency_device'")
    if objective == "constrained-regret" and not isinstance(limit, (int, float)):
        raise TrackError(f"{where}: objective 'constrained-regret' needs a number in field 'max_latency_ms'")
    sizes = _seeds(data.get("train_sizes", []), where, "train_sizes")
    if kind == "predictor" and not sizes:
        raise TrackError(f"{where}: a predictor track needs field 'train_sizes'")
    sha = _need(data, "benchmark_sha256", str, where)
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise TrackError(f"{where}: field 'benchmark_sha256' must be 64 hex digits, got {sha!r}")
    return Track(name=name, kind=kind, benchmark=benchmark, benchmark_name=_need(data, "benchmark_name", str, where),
                 benchmark_sha256=sha, objective=objective, seeds=seeds, queries=queries,
                 seconds=None if seconds is None else float(seconds), trial=str(data.get("trial", "sample")),
                 latency_device=device, max_latency_ms=None if limit is None else float(limit),
                 train_sizes=sizes, description=str(data.get("description", "")),
                 extra=dict(data.get("extra") or {}))


def tracks_dir(root: str | Path | None = None) -> Path:
    """The folder of track files (default: the repository's leaderboard/tracks)."""
    return Path(root) if root is not None else Path(__file__).resolve().parents[2] / "leaderboard" / "tracks"


def load_track(name: str, root: str | Path | None = None) -> Track:
    """The track ``name`` (a name in the tracks folder, or a path to a .json file)."""
    path = Path(name) if name.endswith(".json") else tracks_dir(root) / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in tracks_dir(root).glob("*.json"))) or "none"
        raise TrackError(f"unknown track {name!r} (known: {known})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrackError(f"{path}: not valid JSON ({exc})") from None
    return parse_track(data, str(path))


def list_tracks(root: str | Path | None = None) -> list[Track]:
    """Every track in the folder, by name."""
    return [load_track(str(p)) for p in sorted(tracks_dir(root).glob("*.json"))]
