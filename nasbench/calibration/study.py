"""Runs a calibration study: every config of a study file trains the same stratified sample
of architectures with the same seeds; results are kept per config and resume after a kill.

A study file (JSON) names the sample, the seeds and the configs::

    {"sample": {"reference": "nb201-mnist1d", "seed": 0},   # optional "strata": [[0.02, 70], ...]
     "seeds": [0, 1, 2],
     "configs": [{"name": "m1d-18k-e8",
                  "dataset": {"num_samples": 18000, "valid": 5000, "test": 5000},
                  "train": {"epochs": 8, "batch_size": 128, "preset": "small"}}, ...]}

``dataset`` is a registered dataset name or the fields of an MNIST-1D variant
(:class:`nasbench.datasets.MNIST1DSpec`); ``train`` holds :class:`nasbench.training.TrainConfig`
fields. Each config's results go to ``OUT/<name>.json`` (rewritten atomically every few
trainings): rerunning the command skips the trainings already there.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_write_text
from nasbench.calibration.sample import STRATA
from nasbench.errors import NasbenchError

SAVE_EVERY = 10


@dataclass(frozen=True)
class StudyConfig:
    """One training config of a study: a dataset (name or MNIST-1D spec) and TrainConfig fields."""

    name: str
    dataset: str | dict[str, Any]
    train: dict[str, Any]
    note: str = ""

    def check(self) -> None:
        """Raise NasbenchError naming the config and field if the dataset or train fields are bad."""
        from nasbench.datasets import DATASETS, MNIST1DSpec
        from nasbench.training import TrainConfig

        try:
            if isinstance(self.dataset, str):
                DATASETS.get(self.dataset)
            else:
                MNIST1DSpec(**self.dataset)
            TrainConfig(**self.train)
        except (TypeError, ValueError, NasbenchError) as exc:
            raise NasbenchError(f"study config {self.name!r}: {exc}") from None


@dataclass(frozen=True)
class Study:
    """A study file's contents."""

    configs: tuple[StudyConfig, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    reference: str = "nb201-mnist1d"
    sample_seed: int = 0
    strata: tuple[tuple[float, int], ...] = STRATA
    source: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> Study:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise NasbenchError(f"study file {path}: cannot be read ({exc})") from None
        try:
            configs = tuple(StudyConfig(**c) for c in data["configs"])
            sample = data.get("sample", {})
            strata = tuple((float(q), int(n)) for q, n in sample.get("strata", STRATA))
            study = cls(configs, tuple(data.get("seeds", (0, 1, 2))), sample.get("reference", "nb201-mnist1d"),
                        int(sample.get("seed", 0)), strata, data)
        except (KeyError, TypeError) as exc:
            raise NasbenchError(f"study file {path}: bad layout ({exc!r})") from None
        names = [c.name for c in configs]
        if len(set(names)) != len(names):
            raise NasbenchError(f"study file {path}: config names repeat: {names}")
        if len(study.seeds) < 2:
            raise NasbenchError(f"study file {path}: seeds: need at least 2, got {list(study.seeds)}")
        for config in configs:
            config.check()
        return study

    def config(self, name: str) -> StudyConfig:
        for c in self.configs:
            if c.name == name:
                return c
        raise NasbenchError(f"no config {name!r} in the study (known: {', '.join(c.name for c in self.configs)})")


# --- worker side ---------------------------------------------------------------------

_DATA: Any = None


def load_study_dataset(dataset: str | dict[str, Any]):  # noqa: ANN201 (a Dataset)
    """The Dataset of a study config (a registered name, or an MNIST-1D variant)."""
    from nasbench.datasets import MNIST1DSpec, load_dataset, make_mnist1d

    if isinstance(dataset, str):
        return load_dataset(dataset)
    return make_mnist1d(MNIST1DSpec(**dataset))


def _init(dataset: str | dict[str, Any]) -> None:
    from nasbench.training import init_worker

    global _DATA
    init_worker(1)
    _DATA = load_study_dataset(dataset)


def _train(job: tuple[int, int, dict[str, Any]]) -> dict[str, Any]:
    from nasbench.spaces.nb201 import all_cells
    from nasbench.training import TrainConfig, train_architecture

    index, seed, train = job
    cpu = time.process_time()
    record = train_architecture(all_cells()[index].ops, _DATA, TrainConfig(**train), seed)
    return {
        "index": index, "seed": seed, "cpu_seconds": time.process_time() - cpu,
        "train_seconds": float(sum(record.epoch_seconds)), "eval_seconds": float(sum(record.eval_seconds)),
        "valid_acc": record.valid_acc, "test_acc": record.test_acc, "train_acc": record.train_acc,
        "params": record.params, "flops": record.flops,
    }


# --- parent side ---------------------------------------------------------------------


def results_path(out: Path, name: str) -> Path:
    return Path(out) / f"{name}.json"


def load_results(out: Path, name: str) -> list[dict[str, Any]]:
    """The finished trainings of config ``name`` (empty if none yet)."""
    path = results_path(out, name)
    if not path.is_file():
        return []
    return json.loads(path.read_text())["results"]


def _save(out: Path, config: StudyConfig, study: Study, indices: np.ndarray, results: list[dict]) -> None:
    payload = {
        "config": {"name": config.name, "dataset": config.dataset, "train": config.train, "note": config.note},
        "seeds": list(study.seeds), "sample": {"reference": study.reference, "seed": study.sample_seed,
                                                "indices": indices.tolist()},
        "cpu_count": os.cpu_count(), "results": results,
    }
    atomic_write_text(results_path(out, config.name), json.dumps(payload) + "\n")


def run_config(study: Study, config: StudyConfig, indices: np.ndarray, out: Path, workers: int = 1,
               progress: bool = True) -> list[dict[str, Any]]:
    """Train what is missing of ``config`` on the sample; returns all its results."""
    from tqdm.auto import tqdm

    results = load_results(out, config.name)
    done = {(r["index"], r["seed"]) for r in results}
    jobs = [(int(i), s, config.train) for s in study.seeds for i in indices if (int(i), s) not in done]
    if not jobs:
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=(config.dataset,)) as pool, \
            tqdm(total=len(jobs), desc=f"calibrating {config.name}", unit="train", disable=not progress) as bar:
        for n, result in enumerate(_completed(pool, jobs), 1):
            results.append(result)
            bar.update()
            if n % SAVE_EVERY == 0:
                _save(out, config, study, indices, results)
    _save(out, config, study, indices, results)
    return results


def _completed(pool: ProcessPoolExecutor, jobs: Sequence[tuple]) -> Iterator[dict[str, Any]]:
    futures = [pool.submit(_train, job) for job in jobs]
    try:
        for future in as_completed(futures):
            yield future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def result_arrays(results: list[dict[str, Any]], indices: np.ndarray, seeds: Sequence[int]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(valid acc, test acc, valid curves, cpu seconds) arrays (sample x seeds [x epochs]) from
    results, NaN where a training is missing."""
    row = {int(i): k for k, i in enumerate(indices)}
    col = {int(s): k for k, s in enumerate(seeds)}
    epochs = max((len(r["valid_acc"]) for r in results), default=1)
    curves = np.full((len(indices), len(seeds), epochs), np.nan)
    test = np.full((len(indices), len(seeds)), np.nan)
    cpu = np.full((len(indices), len(seeds)), np.nan)
    for r in results:
        k, s = row.get(r["index"]), col.get(r["seed"])
        if k is None or s is None:
            continue
        curves[k, s] = r["valid_acc"]
        test[k, s] = r["test_acc"][-1]
        cpu[k, s] = r["cpu_seconds"]
    return curves[:, :, -1], test, curves, cpu
