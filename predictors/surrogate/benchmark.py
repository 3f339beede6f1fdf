"""A fitted surrogate as a benchmark: the budgeted oracle runs on it exactly as on a table.

``answer`` returns the predicted validation curve at the asked epoch: the mean curve
(``trial="mean"``), or one draw of the noise model (``trial="sample"``: a whole curve drawn
with the run's Generator, so the value at each epoch is coherent with the others), and the
predicted cumulative training seconds as the cost. Regret is scored with the predicted mean
test accuracy against the best predicted one (over the whole space where it is enumerable,
else the best recorded in the artifact). Latency comes from the source table's columns,
copied into the artifact (a free look-up, as on the table).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nasbench.benchmarks import Answer, Benchmark
from nasbench.errors import NasbenchError, UnknownNameError
from nasbench.hardware import HardwareView

SURROGATE_TRIAL = -2  # Answer.trial of a noise-model draw (a table gives the seed it drew)


class SurrogateBenchmark(Benchmark):
    """Answers from ``model`` (a :class:`~predictors.surrogate.model.SurrogateModel`)."""

    kind: ClassVar[str] = "surrogate"

    def __init__(self, model: Any, name: str, sha256: str, path: str | Path | None = None,
                 latency: Mapping[str, np.ndarray] | None = None, best_test: float | None = None,
                 synthetic: bool = False) -> None:
        self.model = model
        self.name = name
        self.sha256 = sha256
        self.path = None if path is None else Path(path)
        self.synthetic = synthetic
        self.space = model.space
        self.epochs = int(model.epochs)
        self._latency = dict(latency or {})
        self._best_test = best_test

    def __repr__(self) -> str:
        return f"SurrogateBenchmark({self.name!r})"

    @property
    def paths(self) -> tuple[Path, ...]:
        return () if self.path is None else (self.path,)

    def answer(self, arch: Any, index: int, epochs: int, rng: np.random.Generator | None) -> Answer:
        key = [index if index >= 0 else arch]
        cost = float(self.model.cumulative_seconds(key)[0, epochs - 1])
        if rng is None:
            return Answer(float(self.model.mean_curves(key)[0, epochs - 1]), cost, -1)
        return Answer(float(self.model.sample_curves(key, rng)[0, epochs - 1]), cost, SURROGATE_TRIAL)

    def test_accuracy(self, archs: Sequence[Any]) -> np.ndarray:
        return np.asarray(self.model.test_accuracy(archs), dtype=np.float64)

    def final_test(self) -> np.ndarray:
        if self.space.size is None:
            return super().final_test()  # raises: no whole-space front
        return self._final_test

    @functools.cached_property
    def _final_test(self) -> np.ndarray:
        test = self.test_accuracy(np.arange(self.space.size))
        test.flags.writeable = False
        return test

    def best_test_accuracy(self, hardware: HardwareView | None = None) -> float:
        if self.space.size is None:
            if hardware is not None and hardware.constrained:
                raise NasbenchError(f"surrogate {self.name!r}: a latency limit needs an enumerable space")
            if self._best_test is None:
                raise NasbenchError(f"surrogate {self.name!r}: records no best test accuracy to measure regret from")
            return self._best_test
        test = self.final_test()
        if hardware is not None and hardware.constrained:
            test = np.where(hardware.feasible_mask(), test, np.nan)
        return float(np.nanmax(test))

    def hardware(self, device: str, max_ms: float | None = None) -> HardwareView:
        if device not in self._latency:
            known = ", ".join(sorted(self._latency)) or "none"
            raise UnknownNameError(f"latency device {device!r}: surrogate {self.name!r} has no such column "
                                   f"(known: {known})")
        return HardwareView(device, self.space, self._latency[device], max_ms)

    @property
    def latency_devices(self) -> list[str]:
        return sorted(self._latency)


def table_latency(table: Any) -> dict[str, np.ndarray]:
    """device -> latency (ms) by index of every latency column of ``table`` (what a surrogate
    of an enumerable space carries, so latency-aware runs work on it as on the table)."""
    if table.space.size is None:
        return {}
    return {device: np.asarray(table.latency(device), dtype=np.float64) for device in table.latency_devices}


def load_surrogate_benchmark(name: str | Path, extra: Sequence[str | Path] = ()) -> SurrogateBenchmark:
    """The surrogate named ``name`` (or in folder ``name``) as a benchmark; checksums verified."""
    from nasbench.atomic import sha256_file
    from predictors.surrogate.artifact import MANIFEST, load, load_latency, read_manifest
    from predictors.surrogate.catalog import resolve_surrogate

    folder = resolve_surrogate(name, extra)
    model = load(folder)
    manifest = read_manifest(folder)
    return SurrogateBenchmark(model, folder.name, sha256_file(folder / MANIFEST), folder, load_latency(folder),
                              manifest.get("best_test"), synthetic=bool(manifest["table"].get("synthetic", False)))
