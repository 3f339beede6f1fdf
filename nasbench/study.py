"""The run loop: a strategy asks, the oracle answers, the strategy is told; many seeds.

Seeding: run seed ``s`` spawns two independent streams from ``numpy.random.SeedSequence(s)``:
the first for the strategy, the second for the oracle's choice of recorded training seed.
Same seed, same benchmark, same strategy version -> the same trajectory, bit for bit.
The benchmark is a table or a surrogate (nasbench.benchmarks); a loaded table may be passed
wherever a benchmark is taken.
"""

from __future__ import annotations

import functools
import inspect
import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from nasbench.atomic import atomic_write_text, sha256_file
from nasbench.benchmarks import Benchmark, as_benchmark
from nasbench.errors import (
    BudgetExhausted,
    InvalidArchitectureError,
    InvalidBudgetError,
    NasbenchError,
    StrategyError,
)
from nasbench.evaluation import RegretCurve, regret_curve
from nasbench.hardware import HardwareView
from nasbench.isolation import IsolatedStrategy
from nasbench.oracle import Budget, Oracle, Trajectory
from nasbench.params import check_keywords
from nasbench.pareto import hypervolume_curve
from nasbench.strategy_calls import STOP, InProcessStrategy, check_timeout, malformed_message
from nasbench.versions import package_versions

RESULT_FORMAT = "nasbench.study/2"  # 2: runs name architectures by string; "benchmark" says table or surrogate
LEGACY_FORMATS = ("nasbench.study/1",)  # integer indices of NB201 cells only: still read
OBJECTIVES = ("regret", "hypervolume")
REPO_ROOT = Path(__file__).resolve().parents[1]


def result_versions() -> dict[str, str]:
    """Versions a result depends on: Python, nasbench, numpy, pyarrow, scipy and scikit-learn."""
    return {"python": platform.python_version(), **package_versions("scipy", "scikit-learn")}


def strategy_source(strategy_cls: type | IsolatedStrategy) -> dict[str, str] | None:
    """The file that defines ``strategy_cls`` and its sha256, so a result names the exact code
    that produced it (paths inside the repository relative to it); None without a source file."""
    if isinstance(strategy_cls, IsolatedStrategy):
        return source_record(strategy_cls.source_file)
    try:
        return source_record(inspect.getsourcefile(strategy_cls))
    except TypeError:  # built-in or defined interactively
        return None


def source_record(path: str | None) -> dict[str, str] | None:
    """``{"file", "sha256"}`` of a strategy's source file (None when there is none)."""
    if path is None or not Path(path).is_file():
        return None
    resolved = Path(path).resolve()
    shown = resolved.relative_to(REPO_ROOT) if resolved.is_relative_to(REPO_ROOT) else resolved
    return {"file": shown.as_posix(), "sha256": sha256_file(resolved)}


def seed_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(strategy rng, oracle rng) for one run seed."""
    strategy_seq, oracle_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(strategy_seq), np.random.default_rng(oracle_seq)


def run_once(
    strategy_cls: type | IsolatedStrategy,
    benchmark: Benchmark | Any,
    budget: Budget,
    seed: int,
    params: dict[str, Any] | None = None,
    trial: str = "sample",
    hardware: HardwareView | None = None,
    timeout: float | None = None,
) -> Trajectory:
    """One seeded search; returns the oracle's trajectory. Strategy faults raise StrategyError.

    With ``hardware`` the strategy gets it as the keyword ``hardware`` (a free latency
    look-up, and the limit of a constrained search) and observations carry latency.
    ``strategy_cls`` may be an :class:`~nasbench.isolation.IsolatedStrategy` (the strategy
    in its own process); ``timeout`` (seconds) limits the seed's wall-clock time.
    """
    name = getattr(strategy_cls, "name", "") or strategy_cls.__name__
    where = f"strategy {name!r} (seed {seed})"
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise NasbenchError(f"seed: must be a non-negative integer, got {seed!r}")
    check_timeout(timeout)
    strategy_rng, oracle_rng = seed_streams(seed)
    benchmark = as_benchmark(benchmark)
    oracle = Oracle(benchmark, budget, oracle_rng, trial=trial, hardware=hardware)
    if getattr(strategy_cls, "multi_objective", False) and hardware is None:
        raise StrategyError(f"{where}: is multi-objective and needs a latency device (--latency-device)")
    if isinstance(strategy_cls, IsolatedStrategy):
        strategy = strategy_cls.seed(where, timeout)
    else:
        strategy = InProcessStrategy(strategy_cls, where, timeout)
    with strategy:
        strategy.create(benchmark.searchable_space, strategy_rng, benchmark.epochs, hardware, params or {})
        while not oracle.exhausted:
            proposal = strategy.ask()
            if proposal is STOP:
                break
            if isinstance(proposal, tuple) and len(proposal) != 2:
                raise StrategyError(f"{where}: {malformed_message(repr(proposal))}")
            arch, epochs = proposal if isinstance(proposal, tuple) else (proposal, None)
            try:
                observation = oracle.evaluate(arch, epochs)
            except BudgetExhausted:
                break
            except InvalidArchitectureError as exc:
                raise StrategyError(f"{where}: proposed an invalid architecture: {exc}") from exc
            strategy.tell(observation)
    return oracle.trajectory()


@dataclass(frozen=True)
class SeedRun:
    """One seed's trajectory and regret."""

    seed: int
    trajectory: Trajectory
    regret: RegretCurve


@dataclass
class StudyResult:
    """A strategy run over many seeds on one benchmark: everything needed to re-run and compare.

    ``table`` and ``table_sha256`` name the benchmark (a table, or a surrogate when
    ``benchmark`` is "surrogate": then its artifact's name and sha256).
    """

    strategy: str
    strategy_version: str
    params: dict[str, Any]
    table: str
    table_sha256: str
    synthetic: bool
    budget: Budget
    trial: str
    runs: list[SeedRun] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=result_versions)
    latency_device: str | None = None  # the latency column strategies could look up
    max_latency: float | None = None  # ms: the limit of a constrained search
    multi_objective: bool = False  # curves are hypervolume gaps, not regret
    strategy_source: dict[str, str] | None = None  # {"file", "sha256"} of its module; None in older results
    planned_seeds: list[int] | None = None  # the seeds the run set out to do; None in older results
    isolation: dict[str, Any] | None = None  # {"process", "filesystem", "timeout_s", ...}; None in older results
    benchmark: str = "table"  # the kind of benchmark that answered: "table" or "surrogate"

    @property
    def complete(self) -> bool:
        """False for a run interrupted or failed part-way: it holds fewer seeds than it planned."""
        return self.planned_seeds is None or self.seeds == list(self.planned_seeds)

    @property
    def seeds(self) -> list[int]:
        return [run.seed for run in self.runs]

    @property
    def curves(self) -> list[RegretCurve]:
        return [run.regret for run in self.runs]

    @property
    def objective(self) -> str:
        """What the curves measure, for reports: "hypervolume gap" or "regret"."""
        return "hypervolume gap" if self.multi_objective else "regret"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RESULT_FORMAT,
            "strategy": self.strategy,
            "strategy_version": self.strategy_version,
            "strategy_source": self.strategy_source,
            "isolation": self.isolation,
            "params": self.params,
            "benchmark": self.benchmark,
            "table": self.table,
            "table_sha256": self.table_sha256,
            "synthetic": self.synthetic,
            "budget": asdict(self.budget),
            "trial": self.trial,
            "latency_device": self.latency_device,
            "max_latency": self.max_latency,
            "multi_objective": self.multi_objective,
            "planned_seeds": self.planned_seeds,
            "seed_streams": "numpy SeedSequence(seed).spawn(2): [strategy, oracle]",
            "versions": self.versions,
            "runs": [
                {
                    "seed": run.seed,
                    "archs": list(run.trajectory.archs),
                    "indices": run.trajectory.indices.tolist(),
                    "epochs": run.trajectory.epochs.tolist(),
                    "values": run.trajectory.values.tolist(),
                    "costs": run.trajectory.costs.tolist(),
                    "trials": run.trajectory.trials.tolist(),
                    "incumbents": run.regret.incumbents.tolist(),
                    "regret": run.regret.regret.tolist(),
                }
                for run in self.runs
            ],
        }

    def save(self, path: str | Path) -> None:
        """Write the result as JSON, atomically."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> StudyResult:
        """Read a result file; a missing, binary or malformed file is one NasbenchError naming it."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise NasbenchError(f"result file {path}: cannot be read as JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") not in (RESULT_FORMAT, *LEGACY_FORMATS):
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise NasbenchError(f"result file {path}: format {found!r} is not {RESULT_FORMAT!r}")
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, ValueError, OverflowError, InvalidBudgetError) as exc:  # e.g. 2**31 epochs
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise NasbenchError(f"result file {path}: malformed ({what})") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> StudyResult:
        runs = []
        legacy = data["format"] in LEGACY_FORMATS
        for run in data["runs"]:
            costs = np.asarray(run["costs"], dtype=np.float64)
            indices = np.asarray(run["indices"], dtype=np.int64)
            archs = legacy_archs(indices) if legacy else tuple(str(a) for a in run["archs"])
            if len(archs) != len(indices):
                raise ValueError(f"seed {run['seed']}: archs and indices differ in length")
            trajectory = Trajectory(
                indices,
                np.asarray(run["epochs"], dtype=np.int32),
                np.asarray(run["values"], dtype=np.float64),
                costs,
                np.asarray(run["trials"], dtype=np.int64),
                archs,
            )
            regret = RegretCurve(
                np.cumsum(costs), np.asarray(run["incumbents"], dtype=np.int64),
                np.asarray(run["regret"], dtype=np.float64)
            )
            if not len(trajectory.indices) == len(trajectory.values) == len(costs) == len(regret.regret):
                raise ValueError(f"seed {run['seed']}: indices, values, costs and regret differ in length")
            runs.append(SeedRun(int(run["seed"]), trajectory, regret))
        if not runs:
            raise ValueError("no runs")
        return cls(
            str(data["strategy"]), str(data["strategy_version"]), dict(data["params"]), str(data["table"]),
            str(data["table_sha256"]), bool(data["synthetic"]), Budget(**data["budget"]), str(data["trial"]), runs,
            dict(data["versions"]), data.get("latency_device"), data.get("max_latency"),
            bool(data.get("multi_objective", False)), data.get("strategy_source"), data.get("planned_seeds"),
            data.get("isolation"), str(data.get("benchmark", "table")),
        )


def legacy_archs(indices: np.ndarray) -> tuple[str, ...]:
    """Canonical strings of a format-1 result's indices (format 1 knew only the NB201 space)."""
    from nasbench.spaces import NB201Space

    space = NB201Space()
    return tuple(space.to_string(space.from_index(int(i))) for i in indices)


def check_params(strategy_cls: type | IsolatedStrategy, params: dict[str, Any]) -> None:
    """Check hyperparameters against the strategy's ``__init__`` before any run: unknown
    names, missing required ones and values of the wrong type are one-line errors."""
    if isinstance(strategy_cls, IsolatedStrategy):
        strategy_cls.check_params(params)  # the class lives in the strategy's process
        return
    strategy = getattr(strategy_cls, "name", "") or strategy_cls.__name__
    check_keywords(strategy_cls.__init__, params, {"self", "space", "rng", "max_epochs", "hardware"},
                   f"strategy {strategy!r}")


class StudyFailed(StrategyError):
    """A seed of a study failed; ``result`` keeps the seeds that finished before it."""

    def __init__(self, message: str, result: StudyResult) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:  # crosses from a worker process intact
        return type(self), (str(self), self.result)


def run_study(
    strategy_cls: type,
    benchmark: Benchmark | Any,
    budget: Budget,
    seeds: Sequence[int],
    params: dict[str, Any] | None = None,
    trial: str = "sample",
    progress: bool = False,
    latency_device: str | None = None,
    max_latency: float | None = None,
    objective: str | None = None,
    on_seed: Callable[[StudyResult], None] | None = None,
    isolate: bool = False,
    timeout: float | None = None,
) -> StudyResult:
    """Run ``strategy_cls`` once per seed; the regret of each run is computed afterwards.

    ``objective`` is "regret" or "hypervolume" (the gap to the table's accuracy-latency
    front, which needs ``latency_device``); by default multi-objective strategies get
    "hypervolume" and the others "regret", and any strategy may be scored either way
    (random search as the baseline of NSGA-II, for one).
    ``latency_device`` gives strategies a free look-up of that latency column;
    ``max_latency`` (ms, needs the device) makes the search constrained: regret is then
    measured against the best feasible architecture. A failing seed raises
    :class:`StudyFailed`, whose ``result`` holds the seeds finished before it.
    ``on_seed(result)`` is called after each finished seed (the CLI writes the result file
    then, so that an interrupted run keeps what it finished).
    ``isolate`` runs the strategy in its own process (nasbench.isolation; an
    :class:`~nasbench.isolation.IsolatedStrategy` passed as ``strategy_cls`` always is);
    ``timeout`` limits each seed to that many seconds.
    """
    check_timeout(timeout)
    benchmark = as_benchmark(benchmark)
    if isolate and not isinstance(strategy_cls, IsolatedStrategy):
        with IsolatedStrategy.from_class(strategy_cls, benchmark.paths) as isolated:
            return run_study(isolated, benchmark, budget, seeds, params, trial, progress, latency_device, max_latency,
                             objective, on_seed=on_seed, timeout=timeout)
    check_params(strategy_cls, params or {})
    if objective is None:
        objective = "hypervolume" if getattr(strategy_cls, "multi_objective", False) else "regret"
    if objective not in OBJECTIVES:
        raise NasbenchError(f"objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if objective == "hypervolume" and latency_device is None:
        raise NasbenchError("objective 'hypervolume': needs a latency device (--latency-device)")
    if max_latency is not None and latency_device is None:
        raise InvalidBudgetError("max_latency: needs a latency device to measure it on")
    hardware = None if latency_device is None else benchmark.hardware(latency_device, max_latency)
    feasible = hardware.feasible_mask() if hardware is not None and hardware.constrained else None
    result = StudyResult(
        strategy=getattr(strategy_cls, "name", "") or strategy_cls.__name__,
        strategy_version=str(getattr(strategy_cls, "version", "1")),
        strategy_source=strategy_source(strategy_cls),
        params=dict(params or {}),
        table=benchmark.name,
        table_sha256=benchmark.sha256,
        synthetic=benchmark.synthetic,
        benchmark=benchmark.kind,
        budget=budget,
        trial=trial,
        latency_device=latency_device,
        max_latency=None if max_latency is None else float(max_latency),
        multi_objective=objective == "hypervolume",
        planned_seeds=[int(seed) for seed in seeds],
        isolation={**(strategy_cls.isolation if isinstance(strategy_cls, IsolatedStrategy)
                      else {"process": False, "filesystem": "none"}), "timeout_s": timeout},
    )
    for seed in tqdm(list(seeds), desc=f"{result.strategy} seeds", unit="seed", disable=None if progress else True, leave=False):
        try:
            trajectory = run_once(strategy_cls, benchmark, budget, int(seed), params, trial, hardware, timeout)
        except StrategyError as exc:
            raise StudyFailed(str(exc), result) from exc
        if result.multi_objective:
            curve = hypervolume_curve(benchmark, trajectory, latency_device, feasible)
        else:
            curve = regret_curve(benchmark, trajectory, hardware)
        result.runs.append(SeedRun(int(seed), trajectory, curve))
        if on_seed is not None:
            on_seed(result)
    return result
