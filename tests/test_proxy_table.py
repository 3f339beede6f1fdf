"""The proxy table: every architecture of a generated table scored under recorded init seeds,
resumable, with a manifest that says what was computed and how long it took (issue 12)."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from nasbench.errors import NasbenchError
from nasbench.generator import GeneratorConfig, generate
from nasbench.table import read_table
from predictors.proxies import PROXIES, Proxy, load_proxies
from predictors.proxies.precompute import compute_proxy_table, plan_jobs
from predictors.proxies.scoring import batch_indices

TRAIN = {"epochs": 1, "preset": "tiny", "batch_size": 64}
ARCHS = tuple(range(12))


def _count_params(model, inputs, targets, loss, generator) -> float:
    return float(sum(p.numel() for p in model.parameters()))


def _first_logit(model, inputs, targets, loss, generator) -> float:
    import torch

    with torch.no_grad():
        return float(model(inputs)[0, 0]) + float(torch.rand(1, generator=generator))


def _overflow(model, inputs, targets, loss, generator) -> float:
    return math.inf


def _broken(model, inputs, targets, loss, generator) -> float:
    raise RuntimeError("no gradient")


TEST_PROXIES = {"t-params": _count_params, "t-logit": _first_logit, "t-inf": _overflow, "t-broken": _broken}


@pytest.fixture(scope="module", autouse=True)
def test_proxies():
    """Registers the test proxies for this module only: the registry is shared by the process."""
    added = [name for name in TEST_PROXIES if name not in PROXIES]
    for name in added:
        PROXIES.add(name, Proxy(name, TEST_PROXIES[name], uses="data"))
    yield
    for name in added:
        PROXIES.remove(name)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("proxies") / "tiny-digits"
    generate(out, GeneratorConfig(name="tiny-digits", dataset="digits", seeds=(0,), train=TRAIN, indices=ARCHS,
                                  chunk_size=6), progress=False)
    return read_table(out)


def test_every_architecture_seed_and_proxy_is_scored_and_described(tiny):
    folder = compute_proxy_table(tiny, list(TEST_PROXIES), [0, 1], chunk_size=5, batch_size=16, progress=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    scores = pq.read_table(folder / "data" / "scores.parquet").to_pandas()
    assert len(scores) == len(ARCHS) * 2 * len(TEST_PROXIES) == manifest["rows"]
    assert manifest["table_sha256"] == tiny.sha256 and manifest["init_seeds"] == [0, 1]
    assert manifest["batch"]["indices"] == batch_indices(tiny.manifest.dataset["sizes"]["train"], 16, 0).tolist()
    params = scores[scores.proxy == "t-params"].set_index(["init_seed", "arch_index"])["score"]
    assert [params[(0, i)] for i in ARCHS] == [float(p) for p in tiny.scalar("params")[list(ARCHS)]]
    facts = manifest["proxies"]
    assert facts["t-inf"]["non_finite"] == 2 * len(ARCHS) and facts["t-inf"]["errors"] == 0
    assert facts["t-broken"]["errors"] == 2 * len(ARCHS) and facts["t-params"]["non_finite"] == 0
    broken = scores[scores.proxy == "t-broken"]
    assert broken.score.isna().all() and broken.error.str.contains("proxy 't-broken': RuntimeError: no gradient").all()
    logit = scores[scores.proxy == "t-logit"].pivot(index="arch_index", columns="init_seed", values="score")
    assert not np.allclose(logit[0], logit[1])  # init seeds give different networks


def test_a_rerun_scores_nothing_again_and_gives_the_same_table(tiny, monkeypatch):
    folder = compute_proxy_table(tiny, list(TEST_PROXIES), [0, 1], chunk_size=5, batch_size=16, progress=False)
    before = pq.read_table(folder / "data" / "scores.parquet")
    from predictors.proxies import precompute

    monkeypatch.setattr(precompute, "score_chunk", lambda job: pytest.fail("scored again"))
    again = compute_proxy_table(tiny, list(TEST_PROXIES), [0, 1], chunk_size=5, batch_size=16, progress=False)
    after = pq.read_table(again / "data" / "scores.parquet")
    assert after.drop(["seconds"]).to_pandas().equals(before.drop(["seconds"]).to_pandas())  # NaN == NaN here


def test_an_interrupted_run_resumes_where_it_stopped(tiny, tmp_path):
    import shutil

    from nasbench.table.manifest import Manifest

    copy = tmp_path / "tiny-digits"
    shutil.copytree(tiny.path, copy, ignore=shutil.ignore_patterns("proxies"))
    table = read_table(copy)
    jobs = plan_jobs(table, ["t-params"], [0], chunk_size=5, batch_size=16)
    assert [len(j.indices) for j in jobs] == [5, 5, 2] and Manifest.read(copy).name == "tiny-digits"
    folder = compute_proxy_table(table, ["t-params"], [0], chunk_size=5, batch_size=16, progress=False)
    (folder / "work" / f"{jobs[1].name}.parquet").unlink()  # as if killed before this chunk
    (folder / "data" / "scores.parquet").unlink()
    compute_proxy_table(table, ["t-params"], [0], chunk_size=5, batch_size=16, progress=False)
    assert pq.read_table(folder / "data" / "scores.parquet").num_rows == len(ARCHS)
    with pytest.raises(NasbenchError, match="holds proxy scores of another computation"):
        compute_proxy_table(table, ["t-params"], [0], chunk_size=5, batch_size=8, progress=False)


def test_init_seeds_can_be_added_and_a_subset_assembled(tiny, tmp_path):
    """A later run adds init seeds to the chunks of an earlier one; a run of fewer seeds
    reuses theirs and assembles only those (nothing is scored twice)."""
    import json
    import shutil

    copy = tmp_path / "tiny-digits"
    shutil.copytree(tiny.path, copy, ignore=shutil.ignore_patterns("proxies"))
    table = read_table(copy)
    folder = compute_proxy_table(table, ["t-params"], [0], chunk_size=5, batch_size=16, progress=False)
    first = {p.name: p.stat().st_mtime_ns for p in (folder / "work").glob("init0-*.parquet")}
    compute_proxy_table(table, ["t-params"], [0, 1], chunk_size=5, batch_size=16, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "work").glob("init0-*.parquet")} == first
    assert json.loads((folder / "manifest.json").read_text())["init_seeds"] == [0, 1]
    compute_proxy_table(table, ["t-params"], [1], chunk_size=5, batch_size=16, progress=False)
    assert json.loads((folder / "manifest.json").read_text())["init_seeds"] == [1]
    assert pq.read_table(folder / "data" / "scores.parquet").num_rows == len(ARCHS)


def test_a_config_of_the_first_format_is_read(tiny, tmp_path):
    """Work folders written before chunks were recorded one by one (a list of one run's jobs)."""
    import json
    import shutil

    copy = tmp_path / "tiny-digits"
    shutil.copytree(tiny.path, copy, ignore=shutil.ignore_patterns("proxies"))
    table = read_table(copy)
    folder = compute_proxy_table(table, ["t-params"], [0], chunk_size=5, batch_size=16, progress=False)
    path = folder / "work" / "config.json"
    config = json.loads(path.read_text())
    jobs = [{"name": name, **chunk} for name, chunk in config.pop("chunks").items()]
    path.write_text(json.dumps({**config, "jobs": jobs}))
    compute_proxy_table(table, ["t-params"], [0, 1], chunk_size=5, batch_size=16, progress=False)
    assert "chunks" in json.loads(path.read_text()) and len(json.loads(path.read_text())["chunks"]) == 6


def test_correlate_writes_figures_for_every_proxy_target_and_subset(tiny, capsys):
    from nasbench.cli import main

    compute_proxy_table(tiny, list(TEST_PROXIES), [0, 1], chunk_size=5, batch_size=16, progress=False)
    assert main(["proxies", "correlate", "--table", str(tiny.path), "--draws", "20"]) == 0
    out = capsys.readouterr().out
    assert "tiny-digits: 12 architectures scored, init seeds [0, 1]" in out and "disconnected cells" in out
    payload = json.loads((tiny.path / "proxies" / "correlation.json").read_text())
    rows = payload["figures"]
    assert payload["table_sha256"] == tiny.sha256 and payload["draws"] == 20
    inf_rows = [r for r in rows if r["proxy"] == "t-inf"]
    assert inf_rows == []  # no finite score at all: no figures, but counted below
    assert (tiny.path / "proxies" / "correlation.parquet").is_file()
    assert (tiny.path / "proxies" / "correlation.png").read_bytes()[:4] == b"\x89PNG"
    assert "t-inf" in out and "too few finite scores" in out
    from nasbench.table.proxy_section import proxy_lines

    section = "\n".join(proxy_lines(tiny.path, tiny.sha256))
    assert section.startswith("## Zero-cost proxies") and "| t-params |" in section and "| t-inf |" not in section
    assert proxy_lines(tiny.path, "0" * 64) == []  # figures of another version of the table are not shown


def test_a_user_proxy_is_scored_on_the_same_batch_and_compared(tiny, tmp_path, capsys):
    from nasbench.cli import main

    compute_proxy_table(tiny, ["t-params"], [0, 1], chunk_size=5, batch_size=16, progress=False,
                        folder=tmp_path / "unused")  # another folder: the table's own stays as the tests left it
    source = tmp_path / "mine.py"
    source.write_text("def width(model, inputs, targets, loss, generator):\n"
                      "    '''Minus the parameter count (so that sign=-1 gives it back).'''\n"
                      "    return -float(sum(p.numel() for p in model.parameters()))\n\n"
                      "width.sign = -1\n")
    compute_proxy_table(tiny, list(TEST_PROXIES), [0, 1], chunk_size=5, batch_size=16, progress=False)
    spec = f"{source}:width"
    assert main(["proxies", "correlate", "--table", str(tiny.path), "--draws", "10", "--user", spec,
                 "--workers", "1"]) == 0
    payload = json.loads((tiny.path / "proxies" / "correlation.json").read_text())
    mine = {(r["target"], r["subset"], r["statistic"]): r["mean"] for r in payload["figures"] if r["proxy"] == spec}
    params = {(r["target"], r["subset"], r["statistic"]): r["mean"] for r in payload["figures"]
              if r["proxy"] == "t-params"}
    assert mine and mine == pytest.approx(params)  # sign applied: the same ranking as the parameter count
    assert spec in capsys.readouterr().out
    assert spec in PROXIES and spec not in load_proxies()  # scored here, yet not a built-in on any track
    PROXIES.remove(spec)


def test_nb201_skeleton_scores_on_a_documented_random_batch_without_cifar_files(tiny, capsys):
    from nasbench.cli import main

    assert main(["proxies", "compute", "--table", str(tiny.path), "--proxies", "t-params", "--seeds", "0",
                 "--archs", "3", "--macro", "nb201", "--batch-size", "4", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "note: no --cifar10 files: scoring NAS-Bench-201's skeleton on a random batch" in out
    manifest = json.loads((tiny.path / "proxies-nb201" / "manifest.json").read_text())
    assert manifest["macro"]["input_shape"] == [3, 32, 32] and manifest["macro"]["cells_per_stage"] == 5
    assert manifest["batch"]["source"].startswith("random") and manifest["archs"] == 3
    scores = pq.read_table(tiny.path / "proxies-nb201" / "data" / "scores.parquet").to_pandas()
    from nasbench.models.config import PRESETS
    from nasbench.models.costs import count_params
    from nasbench.spaces.nb201 import all_cells

    assert scores.score.tolist() == [float(count_params(all_cells()[i].ops, PRESETS["nb201"])) for i in range(3)]


def test_each_row_records_its_device_and_older_chunks_read_as_cpu(tiny, tmp_path):
    """The device is recorded per row, not part of a chunk's identity: a run may go on on
    another device, and chunks written before rows carried a device were scored on the CPU."""
    import shutil

    copy = tmp_path / "tiny-digits"
    shutil.copytree(tiny.path, copy, ignore=shutil.ignore_patterns("proxies"))
    table = read_table(copy)
    folder = compute_proxy_table(table, ["t-params"], [0], chunk_size=5, batch_size=16, progress=False)
    assert set(pq.read_table(folder / "data" / "scores.parquet").column("device").to_pylist()) == {"cpu"}
    assert json.loads((folder / "manifest.json").read_text())["devices"] == {"cpu": len(ARCHS)}
    first = sorted((folder / "work").glob("init0-*.parquet"))[0]
    pq.write_table(pq.read_table(first).drop(["device"]), first)  # as written before the column existed
    compute_proxy_table(table, ["t-params"], [0], chunk_size=5, batch_size=16, progress=False, device="cuda")
    assert pq.read_table(folder / "data" / "scores.parquet").column("device").to_pylist() == ["cpu"] * len(ARCHS)


def test_a_device_torch_cannot_use_is_refused_before_any_work(tiny, capsys):
    from nasbench.cli import main

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")  # the refusal is for machines without it
    assert main(["proxies", "compute", "--table", str(tiny.path), "--proxies", "t-params", "--device", "cuda"]) == 2
    assert "--device: 'cuda' asked for, but torch finds no CUDA device here" in capsys.readouterr().err
    assert main(["proxies", "compute", "--table", str(tiny.path), "--proxies", "t-params", "--device", "gpu"]) == 2
    assert "is not a torch device" in capsys.readouterr().err


def test_cuda_scores_match_the_cpu_and_say_where_they_ran(tiny, tmp_path):
    """Where CUDA exists: the same initial weights (built on the CPU, then moved), the same
    batch, so every proxy's score agrees with the CPU's up to float32 arithmetic (reduction
    order, cuDNN's TF32 convolutions): within 1% of the proxy's largest score."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    names = [n for n in load_proxies() if n != "jacob_cov"]  # jacob_cov: log of near-zero eigenvalues, see README
    runs = {}
    for device in ("cpu", "cuda"):
        folder = compute_proxy_table(tiny, names, [0], chunk_size=6, batch_size=16, progress=False, indices=ARCHS[:6],
                                     folder=tmp_path / device, device=device)
        runs[device] = pq.read_table(folder / "data" / "scores.parquet").to_pandas()
    assert runs["cuda"].device.str.startswith("cuda:0 (").all()
    cpu, gpu = (runs[d].set_index(["arch_index", "proxy"]).score for d in ("cpu", "cuda"))
    gpu = gpu.reindex(cpu.index)
    assert (np.isfinite(gpu) == np.isfinite(cpu)).all()
    for name in names:
        c, g = cpu.xs(name, level="proxy").to_numpy(), gpu.xs(name, level="proxy").to_numpy()
        ok = np.isfinite(c)
        assert np.abs(g[ok] - c[ok]).max(initial=0.0) <= 1e-2 * np.abs(c[ok]).max(initial=0.0) + 1e-9, name
