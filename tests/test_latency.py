"""Latency: timing statistics, both runtimes, and drift-free latency columns in a generated table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.errors import UnknownNameError
from nasbench.generator import GeneratorConfig, generate
from nasbench.latency.measure import measure_model, time_calls
from nasbench.latency.table import measure_table
from nasbench.models import MacroConfig, build_model
from nasbench.table import read_table, verify_table

MACRO = MacroConfig(channels=4, cells_per_stage=1, stages=2, input_shape=(1, 8, 8), num_classes=10)


def test_time_calls_reports_median_and_iqr():
    stats = time_calls(lambda: sum(range(2000)), warmup=2, repeats=15)
    assert stats.repeats == 15 and stats.median_ms > 0 and stats.spread_ms >= 0


@pytest.mark.parametrize("runtime", ["torch", "ort"])
def test_both_runtimes_time_a_network(runtime):
    torch.manual_seed(0)
    model = build_model(["nor_conv_3x3"] * 6, MACRO)
    stats = measure_model(model, MACRO.input_shape, runtime, batches=(1, 16), warmup=1, repeats=5)
    assert set(stats) == {1, 16}
    assert all(s.median_ms > 0 for s in stats.values())


def test_ort_runs_the_same_function_as_torch():
    """The exported graph computes the module's logits (so the ort column times the same net)."""
    import io

    import onnxruntime as ort

    torch.manual_seed(0)
    model = build_model(["avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_3x3", "none", "skip_connect"], MACRO).eval()
    x = torch.randn(3, *MACRO.input_shape)
    buffer = io.BytesIO()
    torch.onnx.export(model, (x,), buffer, dynamo=False, opset_version=17, input_names=["x"])
    logits = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    with torch.inference_mode():
        np.testing.assert_allclose(logits, model(x).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_runtime_times_a_network_on_the_gpu():
    from nasbench.latency.measure import gpu_device_name

    torch.manual_seed(0)
    model = build_model(["nor_conv_3x3"] * 6, MACRO)
    stats = measure_model(model, MACRO.input_shape, "cuda", batches=(1, 16), warmup=1, repeats=5)
    assert set(stats) == {1, 16} and all(s.median_ms > 0 for s in stats.values())
    assert gpu_device_name() and gpu_device_name() == gpu_device_name().lower()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without a GPU")
def test_cuda_runtime_without_a_gpu_is_a_clear_error(tmp_path, capsys):
    from nasbench.cli import main
    from nasbench.errors import NasbenchError

    with pytest.raises(NasbenchError, match="no CUDA GPU"):
        measure_model(build_model(["none"] * 6, MACRO), MACRO.input_shape, "cuda")
    config = GeneratorConfig(name="nogpu", dataset="digits", seeds=(0,), train={"epochs": 1, "preset": "tiny"},
                             indices=(0, 1), chunk_size=2)
    generate(tmp_path / "nogpu", config, progress=False, workers=1, costs=None)
    assert main(["latency", "measure", str(tmp_path / "nogpu"), "--runtime", "cuda"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_unknown_runtime():
    with pytest.raises(UnknownNameError, match="tensorrt"):
        measure_model(build_model(["none"] * 6, MACRO), MACRO.input_shape, "tensorrt")


def test_latency_columns_join_the_table(tmp_path, monkeypatch):
    """Drift-free protocol end to end: random order, reference re-timed, 2 passes, the
    deployed network (nn.AvgPool), a column folder replaced whole, its report in the manifest."""
    import nasbench.latency.measure as measure
    from nasbench.generator import reassemble
    from nasbench.latency.table import latency_dir
    from nasbench.timing import TimingProtocol

    out = tmp_path / "lat"
    config = GeneratorConfig(name="lat", dataset="digits", seeds=(0,), train={"epochs": 1, "preset": "tiny"},
                             indices=tuple(range(6)), chunk_size=3)
    generate(out, config, progress=False, costs=None)
    legacy = latency_dir(out, "cpu-torch-b1")
    legacy.mkdir(parents=True)
    for name in ("00000.parquet", "00001.parquet"):  # a v1 column, measured in index-order chunks
        (legacy / name).write_bytes(b"stale")
    timed = []
    real = measure.measure_model
    monkeypatch.setattr(measure, "measure_model", lambda model, *a, **k: timed.append(model) or real(model, *a, **k))
    measure_table(out, "torch", batches=(1, 8), protocol=TimingProtocol(every=4), warmup=1, repeats=3, progress=False)
    assert len(timed) == 1 + 2 * (6 + 3)  # a warm-up, then 2 passes of 6 cells and 3 reference timings
    pools = [m for m in timed if any(isinstance(x, (torch.nn.AvgPool1d, torch.nn.AvgPool2d)) for x in m.modules())]
    assert pools and not any(type(x).__name__ == "_ShiftAvgPool3" for m in timed for x in m.modules())
    assert sorted(p.name for p in legacy.iterdir()) == ["00000.parquet", "protocol.json"]
    manifest = reassemble(out)
    assert manifest.latency_devices == ["cpu-torch-b1", "cpu-torch-b8"]
    meta = manifest.generator["latency"]["cpu-torch-b1"]
    assert meta["deployed_network"] is True and "nn.AvgPool" in meta["network"]
    assert meta["drift"]["passes"] == 2 and meta["drift"]["every"] == 4 and meta["drift"]["items"] == 6
    assert meta["method"].startswith("measured: random order")
    table = read_table(out)
    assert verify_table(table) == []
    assert np.all(table.latency("cpu-torch-b1")[table.indices] > 0)
    assert np.all(table.to_pandas()["latency_cpu-torch-b8_spread_ms"] >= 0)


def test_lut_profile_estimates_and_round_trips(tmp_path):
    from nasbench.latency.lut import LatencyLUT, profile
    from nasbench.spaces import get_space

    lut = profile(MACRO, "testbox", batch=1, warmup=1, repeats=5)
    assert len(lut.op_ms) == MACRO.stages and lut.base_ms > 0
    assert all(stage["none"] == 0 and stage["nor_conv_3x3"] > 0 for stage in lut.op_ms)
    space = get_space("nb201")
    all_none = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").index
    all_conv = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|").index
    estimate = lut.estimate(np.array([all_none, all_conv]))
    assert estimate[0] == pytest.approx(lut.base_ms) and estimate[1] > estimate[0]
    lut.save(tmp_path / "lut.json")
    assert LatencyLUT.load(tmp_path / "lut.json") == lut


def test_cli_profile_and_fill_add_an_estimated_column(tmp_path, capsys):
    from nasbench.cli import main

    out = tmp_path / "lutted"
    config = GeneratorConfig(name="lutted", dataset="digits", seeds=(0,), train={"epochs": 1, "preset": "tiny"},
                             indices=tuple(range(5)), chunk_size=5)
    generate(out, config, progress=False)
    lut_file = tmp_path / "lut.json"
    assert main(["--tables-dir", str(tmp_path), "latency", "profile", "--device", "box", "--table", "lutted", "--out", str(lut_file)]) == 0
    assert main(["--tables-dir", str(tmp_path), "latency", "fill", "--device", "box", "--table", "lutted", "--lut", str(lut_file)]) == 0
    assert "filled box-torch-b1-lut" in capsys.readouterr().out
    table = read_table(out)
    assert table.latency_devices == ["box-torch-b1-lut"] and verify_table(table) == []
    assert main(["latency", "profile", "--device", "Bad Name", "--table", "x"]) == 2
