"""Inference latency of one network on one runtime: warm-up, repeats, median and IQR.

Runtimes (one thread each, so a measurement is not disturbed by its own parallelism):

- ``torch``: the eager module under ``torch.inference_mode``;
- ``ort``: the module exported to ONNX (opset 17, dynamic batch) and run by ONNX Runtime's
  CPU execution provider;
- ``cuda``: the eager module on the first CUDA GPU, each call followed by
  ``torch.cuda.synchronize()`` so the time covers the kernels, not just their launch.

A device column is named ``<device>-<runtime>-b<batch>``, e.g. ``cpu-torch-b1``.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nasbench.errors import NasbenchError, UnknownNameError

RUNTIMES = ("torch", "ort", "cuda")


@dataclass(frozen=True)
class LatencyStats:
    """Milliseconds per call: median and interquartile range over the timed repeats."""

    median_ms: float
    spread_ms: float
    repeats: int


def time_calls(call: Callable[[], object], warmup: int, repeats: int) -> LatencyStats:
    """Run ``call`` ``warmup`` times untimed, then ``repeats`` timed times."""
    for _ in range(warmup):
        call()
    samples = np.empty(repeats)
    for k in range(repeats):
        start = time.perf_counter()
        call()
        samples[k] = time.perf_counter() - start
    q25, q50, q75 = np.percentile(samples * 1e3, [25, 50, 75])
    return LatencyStats(float(q50), float(q75 - q25), repeats)


def _torch_runner(model: nn.Module, example: torch.Tensor) -> Callable[[torch.Tensor], object]:
    def run(x: torch.Tensor) -> object:
        with torch.inference_mode():
            return model(x)

    return run


def _ort_runner(model: nn.Module, example: torch.Tensor) -> Callable[[torch.Tensor], object]:
    import warnings

    import onnxruntime as ort

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation chatter
        torch.onnx.export(
            model, (example,), buffer, dynamo=False, opset_version=17,
            input_names=["x"], output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])

    def run(x: torch.Tensor) -> object:
        return session.run(None, {"x": x.numpy()})

    return run


def _require_cuda() -> None:
    if not torch.cuda.is_available():
        raise NasbenchError("runtime 'cuda': no CUDA GPU is visible to torch on this machine")


def _cuda_runner(model: nn.Module, example: torch.Tensor) -> Callable[[torch.Tensor], object]:
    _require_cuda()
    device = torch.device("cuda")
    model = model.to(device)
    inputs: dict[tuple[int, ...], torch.Tensor] = {}

    def run(x: torch.Tensor) -> object:
        gpu_x = inputs.get(tuple(x.shape))
        if gpu_x is None:  # one copy per batch size, made in the first (warm-up) call
            gpu_x = inputs[tuple(x.shape)] = x.to(device)
        with torch.inference_mode():
            out = model(gpu_x)
        torch.cuda.synchronize(device)
        return out

    return run


def gpu_device_name() -> str:
    """A column-name slug of the first CUDA GPU's name, e.g. ``nvidia-h100-80gb-hbm3``."""
    _require_cuda()
    return re.sub(r"[^a-z0-9]+", "-", torch.cuda.get_device_name(0).lower()).strip("-")


_RUNNERS = {"torch": _torch_runner, "ort": _ort_runner, "cuda": _cuda_runner}


def measure_model(
    model: nn.Module,
    input_shape: tuple[int, ...],
    runtime: str,
    batches: tuple[int, ...] = (1, 64),
    warmup: int = 5,
    repeats: int = 25,
    seed: int = 0,
) -> dict[int, LatencyStats]:
    """Latency of ``model`` (in eval mode) on ``runtime`` for each batch size."""
    if runtime not in _RUNNERS:
        raise UnknownNameError(f"unknown runtime {runtime!r} (known: {', '.join(RUNTIMES)})")
    model = model.eval()
    generator = torch.Generator().manual_seed(seed)
    example = torch.randn((1, *input_shape), generator=generator)
    run = _RUNNERS[runtime](model, example)
    out = {}
    for batch in batches:
        x = torch.randn((batch, *input_shape), generator=generator)
        out[batch] = time_calls(lambda: run(x), warmup, repeats)
    return out
