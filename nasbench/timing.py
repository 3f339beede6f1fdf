"""Drift-free timing of many items (networks) on a shared machine; torch-free.

A machine's speed drifts while thousands of networks are timed one after another (other
processes, thermal state, frequency scaling), so a column timed in index order ranks
neighbours in time, not architectures. :func:`run_protocol` times the items this way:

- **Random order.** Each pass times every item once, in an order drawn from
  ``numpy.random.default_rng([seed, pass])``: drift cannot line up with the index.
- **Reference re-timing.** A fixed reference item is timed before the first item, after
  every ``every`` items and after the last, so every item lies between two reference
  timings. An item's *drift factor* is the reference's time interpolated (in log space,
  linearly in measurement position) between its two neighbouring reference timings,
  divided by the median of all reference timings of all passes; the item's time is
  divided by it. Drift slower than ``every`` items is removed; faster jitter stays as noise.
- **Passes.** ``passes`` >= 2 passes in different seeded orders; the value reported for an
  item is the median over passes of its corrected times.
- **Sessions.** A resumed run interpolates only between reference timings of the session
  (process) that timed the item: the reference closing a stored segment's last block is
  timed after the resume, under other load, so those items hold their block's opening
  reference instead.

The :class:`DriftReport` says how well that worked, per timed column:

- ``order_share_before`` / ``order_share_after``: the share of the variance of log-time
  (across items, within a pass) explained by measurement order, raw and corrected. The
  estimator: an item's architecture effect is estimated from the *other* passes (mean of
  their log-times, so it carries no drift of this pass: their orders are independent); the
  residual log-time of the pass is cut into ``bins`` contiguous blocks of measurement
  positions (``every`` items wide, at least 25: the estimate sees drift at the scale the
  correction works on, whatever the table's size), and the between-block variance
  component of a one-way random-effects ANOVA,
  ``(MS_between - MS_within) / m0`` (clipped at 0; ``m0`` the usual unbalanced block
  size), is the variance due to order. Subtracting ``MS_within`` removes the part that
  block means of pure noise would show, so a drift-free column scores about 0, not
  ``bins / n``. The share is that variance over the pass's total log-time variance,
  averaged over passes. The issue's target: < 5% after correction.
- ``order_share_column``: the same for the reported column, the median over passes. The
  passes' orders are independent, so what drift is left after correction averages over
  them: the column's order variance is the passes' mean order variance / ``passes``
  (exact for the mean; the median of 2 is the mean; for 3+ passes the median's is up to
  about 1.35x that), over the column's log variance.
- ``lag1_before`` / ``lag1_after``: lag-1 autocorrelation of the same residuals in
  measurement order (fast drift that the blocks average out shows here).
- ``spearman_before`` / ``spearman_after``: Spearman correlation between passes (mean
  over pairs of passes), raw and corrected.

Timings are stored, if ``store`` is given, as atomically written segment files, so an
interrupted run resumes where it stopped; a stored segment whose items are not the ones
the schedule puts there (other items, another order) is refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats
from tqdm.auto import tqdm

from nasbench.atomic import atomic_path, atomic_write_text
from nasbench.errors import NasbenchError

TimeOne = Callable[[int], "float | Sequence[float] | np.ndarray"]
RUN_FILE = "protocol.json"


@dataclass(frozen=True)
class TimingProtocol:
    """How a set of items is timed: reference every ``every`` items, ``passes`` seeded orders."""

    every: int = 16
    passes: int = 2
    seed: int = 0
    segment: int = 512  # items per stored segment (the unit of resumption)

    def __post_init__(self) -> None:
        for name, low in (("every", 1), ("passes", 2), ("seed", 0), ("segment", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise NasbenchError(f"timing protocol: {name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class DriftReport:
    """How much measurement order explains of one timed column, before and after correction."""

    order_share_before: float
    order_share_after: float
    order_share_column: float  # in the reported column (median over passes), see the module doc
    lag1_before: float
    lag1_after: float
    spearman_before: float
    spearman_after: float
    drift_low: float  # smallest reference timing / the reference's median
    drift_high: float  # largest reference timing / the reference's median
    passes: int
    every: int
    reference: int
    items: int
    seed: int
    bins: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (NaN as None)."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        return cls(**{k: (float("nan") if v is None else v) for k, v in data.items()})


@dataclass
class ProtocolResult:
    """Corrected timings of every item, the raw ones, and a drift report per timed column."""

    items: np.ndarray  # (n,) the items, in the order given
    values: np.ndarray  # (n, k) median over passes of the corrected timings
    raw: np.ndarray  # (passes, n, k) as timed
    corrected: np.ndarray  # (passes, n, k) divided by the drift factor
    positions: np.ndarray  # (passes, n) measurement position of each item in each pass
    reports: dict[int, DriftReport] = field(default_factory=dict)  # timed column -> report
    cpu_seconds: float = 0.0  # process CPU time of all timed calls, resumed sessions included


def schedule(
    items: np.ndarray, reference: int, every: int, seed: int, pass_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """(item timed at each step, whether that step times the reference) for one pass."""
    order = np.random.default_rng([seed, pass_index]).permutation(np.asarray(items, dtype=np.int64))
    starts = np.arange(0, len(order), every)
    sequence = np.append(np.insert(order, starts, reference), reference)
    is_reference = np.append(np.insert(np.zeros(len(order), dtype=bool), starts, True), True)
    return sequence, is_reference


def _segments(length: int, protocol: TimingProtocol) -> list[slice]:
    """Step ranges of a pass's stored segments (whole reference blocks each)."""
    size = max(1, protocol.segment // protocol.every) * (protocol.every + 1)
    return [slice(s, min(s + size, length)) for s in range(0, length, size)]


def _segment_path(store: Path, pass_index: int, k: int) -> Path:
    return store / f"pass-{pass_index}-{k:05d}.parquet"


def _check_store(store: Path, identity: dict[str, Any]) -> None:
    """Refuse to resume a stored run made with other items or settings."""
    path = store / RUN_FILE
    if path.is_file():
        previous = json.loads(path.read_text())
        for key, value in identity.items():
            if previous.get(key) != value:
                raise NasbenchError(
                    f"{store}: holds a timing run with {key}={json.dumps(previous.get(key))}, not {json.dumps(value)}; "
                    "remove that folder to start again")
    else:
        atomic_write_text(path, json.dumps(identity, indent=1, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Segment:
    """Timings of consecutive schedule steps of one pass, all from one session."""

    steps: np.ndarray
    is_reference: np.ndarray
    values: np.ndarray  # (steps, k)
    cpu_seconds: np.ndarray
    session: str


def _load_segment(path: Path, sequence: np.ndarray, part: slice) -> Segment:
    """A stored segment, checked against the schedule: the same steps timing the same items."""
    data = pq.read_table(path)
    steps = data["step"].to_numpy()
    if not (np.array_equal(steps, np.arange(part.start, part.stop))
            and np.array_equal(data["item"].to_numpy(), sequence[part])):
        raise NasbenchError(f"{path}: its timings are of other items or another order than this run schedules; "
                            f"remove {path.parent} to start again")
    values = np.column_stack([data[c].to_numpy() for c in data.column_names if c.startswith("value_")])
    session = data["session"][0].as_py() if "session" in data.column_names else "stored"
    return Segment(steps, data["reference"].to_numpy(), values, data["cpu_seconds"].to_numpy(), str(session))


def _as_vector(value: Any) -> np.ndarray:
    vector = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if vector.ndim != 1 or not np.all(np.isfinite(vector)) or np.any(vector < 0):
        raise NasbenchError(f"timing: the timed call returned {value!r}, expected non-negative finite numbers")
    return vector


def run_protocol(
    items: Sequence[int] | np.ndarray,
    time_one: TimeOne,
    reference: int,
    protocol: TimingProtocol = TimingProtocol(),
    store: str | Path | None = None,
    drift_source: Sequence[int] | None = None,
    progress: bool = False,
    desc: str = "timing",
    identity: dict[str, Any] | None = None,
) -> ProtocolResult:
    """Time every item with ``time_one(item)`` under ``protocol`` and correct for drift.

    ``time_one`` returns one number or a vector of k numbers (e.g. one per batch size).
    Column j is corrected by the drift of column ``drift_source[j]`` (default: itself);
    a column whose source is another (e.g. a spread next to its median) is only rescaled
    and gets no report. ``store``: folder for resumable segment files; ``identity``: what
    else the timings depend on (JSON-able), so a store made otherwise is refused.
    """
    items = np.asarray(items, dtype=np.int64)
    if items.ndim != 1 or len(items) == 0 or len(np.unique(items)) != len(items):
        raise NasbenchError("timing: items must be a non-empty list of distinct integers")
    reference = int(reference)
    plans = [schedule(items, reference, protocol.every, protocol.seed, p) for p in range(protocol.passes)]
    records: list[list[Segment]] = [[] for _ in plans]
    session = f"{time.time_ns():x}"  # this process's timings; only an id, no random choice
    todo: list[tuple[int, int, slice]] = []
    if store is not None:
        store = Path(store)
        _check_store(store, {"items": len(items), "first_items": items[:8].tolist(), "items_sum": int(items.sum()),
                             "reference": reference, **asdict(protocol), **(identity or {})})
    for p, (sequence, _) in enumerate(plans):
        for k, part in enumerate(_segments(len(sequence), protocol)):
            path = None if store is None else _segment_path(store, p, k)
            if path is not None and path.is_file():
                records[p].append(_load_segment(path, sequence, part))
            else:
                todo.append((p, k, part))
    if todo:
        time_one(reference)  # untimed: one-off costs (allocator, kernel caches) are not drift
    with tqdm(total=sum(s.stop - s.start for *_, s in todo), desc=desc, unit="timing", disable=not progress) as bar:
        for p, k, part in todo:
            sequence, is_reference = plans[p]
            values, cpu = [], []
            for item in sequence[part]:
                start = time.process_time()
                values.append(_as_vector(time_one(int(item))))
                cpu.append(time.process_time() - start)
                bar.update(1)
            values = np.vstack(values)
            steps = np.arange(part.start, part.stop)
            records[p].append(Segment(steps, is_reference[part], values, np.asarray(cpu), session))
            if store is not None:
                columns = {"step": steps, "item": sequence[part], "reference": is_reference[part], "cpu_seconds": cpu,
                           "session": [session] * len(steps)}
                columns.update({f"value_{j}": values[:, j] for j in range(values.shape[1])})
                with atomic_path(_segment_path(store, p, k)) as tmp:
                    pq.write_table(pa.table(columns), tmp)
    return analyse(items, plans, records, reference, protocol, drift_source)


def analyse(
    items: np.ndarray,
    plans: list[tuple[np.ndarray, np.ndarray]],
    records: list[list[Segment]],
    reference: int,
    protocol: TimingProtocol,
    drift_source: Sequence[int] | None = None,
) -> ProtocolResult:
    """Correct each pass's timings by the reference's drift; report order variance."""
    widths = {r.values.shape[1] for recs in records for r in recs}
    if len(widths) != 1:
        raise NasbenchError(f"timing: the timed call returned vectors of different lengths {sorted(widths)}")
    k = widths.pop()
    source = list(range(k)) if drift_source is None else [int(s) for s in drift_source]
    if len(source) != k or any(not 0 <= s < k or source[s] != s for s in source):
        raise NasbenchError(f"timing: drift_source {source} does not fit {k} timed columns")
    where = {int(item): i for i, item in enumerate(items)}
    passes, n = len(plans), len(items)
    raw, positions = np.empty((passes, n, k)), np.empty((passes, n))
    sessions = np.empty((passes, n), dtype=object)
    ref_steps, ref_values, ref_sessions = [], [], []
    for p, recs in enumerate(records):
        steps = np.concatenate([r.steps for r in recs])
        is_ref = np.concatenate([r.is_reference for r in recs]).astype(bool)
        values = np.concatenate([r.values for r in recs])
        session = np.concatenate([np.full(len(r.steps), r.session, dtype=object) for r in recs])
        rows = np.asarray([where[int(i)] for i in plans[p][0][steps[~is_ref]]])
        raw[p, rows], positions[p, rows], sessions[p, rows] = values[~is_ref], steps[~is_ref], session[~is_ref]
        order = np.argsort(steps[is_ref])
        ref_steps.append(steps[is_ref][order])
        ref_values.append(values[is_ref][order])
        ref_sessions.append(session[is_ref][order])
    corrected = raw.copy()
    reports, drift_range = {}, {}
    for s in sorted(set(source)):
        all_refs = np.concatenate([r[:, s] for r in ref_values])
        if np.any(all_refs <= 0):
            raise NasbenchError(f"timing: the reference {reference} timed at 0 in column {s}; cannot correct drift")
        level = float(np.median(all_refs))
        drift_range[s] = (float(all_refs.min() / level), float(all_refs.max() / level))
        for p in range(passes):
            factor = np.empty(n)
            for run in np.unique(sessions[p]):  # interpolate within the session that timed the items
                mine, refs = sessions[p] == run, ref_sessions[p] == run
                factor[mine] = np.exp(np.interp(positions[p][mine], ref_steps[p][refs],
                                                np.log(ref_values[p][refs, s]))) / level
            for j in (j for j in range(k) if source[j] == s):
                corrected[p, :, j] = raw[p, :, j] / factor
    for s in sorted(set(source)):
        reports[s] = drift_report(raw[:, :, s], corrected[:, :, s], positions, reference, protocol, drift_range[s])
    cpu = float(sum(np.sum(r.cpu_seconds) for recs in records for r in recs))
    return ProtocolResult(items, np.median(corrected, axis=0), raw, corrected, positions, reports, cpu)


def default_bins(n: int, every: int = 25) -> int:
    """Blocks of measurement positions for the order estimate: ``max(every, 25)`` items each
    (at least 2 blocks). A fixed width, not a fixed count: with a capped count, blocks of a
    large table average out drift faster than the reference re-timing, which the correction
    does not remove either, and the figure would depend on the table's size."""
    return int(max(2, n // max(every, 25)))


def _residuals(log_values: np.ndarray) -> np.ndarray:
    """Log-time minus the item's mean log-time over the other passes."""
    passes = log_values.shape[0]
    return log_values - (log_values.sum(axis=0) - log_values) / (passes - 1)


def order_variance(log_values: np.ndarray, positions: np.ndarray, bins: int | None = None) -> np.ndarray:
    """Per pass: variance of log-time due to measurement order (the ANOVA estimate of the module doc)."""
    passes, n = log_values.shape
    bins = default_bins(n) if bins is None else bins
    if passes < 2 or n < 2 * bins or bins < 2:
        return np.full(passes, np.nan)
    out = np.empty(passes)
    for p, resid in enumerate(_residuals(log_values)):
        groups = np.array_split(resid[np.argsort(positions[p], kind="stable")], bins)
        sizes = np.asarray([len(g) for g in groups], dtype=np.float64)
        means = np.asarray([g.mean() for g in groups])
        ms_between = np.sum(sizes * (means - resid.mean()) ** 2) / (bins - 1)
        ms_within = sum(float(np.sum((g - g.mean()) ** 2)) for g in groups) / (n - bins)
        m0 = (n - np.sum(sizes**2) / n) / (bins - 1)
        out[p] = max(0.0, (ms_between - ms_within) / m0)
    return out


def order_share(log_values: np.ndarray, positions: np.ndarray, bins: int | None = None) -> np.ndarray:
    """Per pass: share of the log-time variance explained by measurement order (module doc)."""
    total = np.var(log_values, axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, order_variance(log_values, positions, bins) / total, np.nan)


def lag1(log_values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Per pass: lag-1 autocorrelation of the residual log-time in measurement order."""
    passes, n = log_values.shape
    if passes < 2 or n < 3:
        return np.full(passes, np.nan)
    out = np.empty(passes)
    for p, resid in enumerate(_residuals(log_values)):
        r = resid[np.argsort(positions[p], kind="stable")]
        out[p] = np.corrcoef(r[:-1], r[1:])[0, 1] if np.std(r) > 0 else np.nan
    return out


def pass_spearman(values: np.ndarray) -> float:
    """Mean Spearman correlation between the passes' timings of the items."""
    passes, n = values.shape
    if n < 3:
        return float("nan")
    rhos = [stats.spearmanr(values[a], values[b]).statistic for a in range(passes) for b in range(a + 1, passes)]
    return float(np.mean(rhos))


def drift_report(
    raw: np.ndarray, corrected: np.ndarray, positions: np.ndarray, reference: int,
    protocol: TimingProtocol, drift_range: tuple[float, float] = (float("nan"), float("nan")),
) -> DriftReport:
    """Order variance, lag-1 autocorrelation and pass-to-pass Spearman, raw and corrected."""
    with np.errstate(divide="ignore"):
        before, after = np.log(raw), np.log(corrected)
    finite = np.all(np.isfinite(before), axis=0)  # a 0 timing (below clock resolution) has no log
    before, after, pos = before[:, finite], after[:, finite], positions[:, finite]
    mean = lambda a: float(np.nanmean(a)) if np.any(np.isfinite(a)) else float("nan")  # noqa: E731
    bins = default_bins(int(finite.sum()), protocol.every)
    final = np.var(np.median(after, axis=0), ddof=1) if after.shape[1] > 1 else float("nan")
    column = mean(order_variance(after, pos, bins)) / protocol.passes / final if final > 0 else float("nan")
    return DriftReport(
        order_share_before=mean(order_share(before, pos, bins)), order_share_after=mean(order_share(after, pos, bins)),
        order_share_column=column,
        lag1_before=mean(lag1(before, pos)), lag1_after=mean(lag1(after, pos)),
        spearman_before=pass_spearman(raw), spearman_after=pass_spearman(corrected),
        drift_low=drift_range[0], drift_high=drift_range[1], passes=protocol.passes, every=protocol.every,
        reference=int(reference), items=int(raw.shape[1]), seed=protocol.seed, bins=bins,
    )
