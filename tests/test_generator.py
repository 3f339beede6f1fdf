"""The generator: plan, training into chunk files, resume, executors, assembled table."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.cli import main
from nasbench.errors import NasbenchError
from nasbench.generator import GeneratorConfig, generate, make_plan
from nasbench.generator.plan import training_cost_key
from nasbench.generator.assemble import chunk_path
from nasbench.models import MacroConfig, count_params
from nasbench.spaces import get_space
from nasbench.table import read_table, verify_table

ARCHS = 12  # small enough to train in seconds at 1 epoch
TRAIN = {"epochs": 1, "preset": "tiny", "batch_size": 128}


def config(name: str = "gen", seeds=(0,), indices=tuple(range(ARCHS)), **kw) -> GeneratorConfig:
    return GeneratorConfig(name=name, dataset="digits", seeds=seeds, train=TRAIN, indices=indices, chunk_size=4, **kw)


def frame(folder):
    data = read_table(folder).to_pandas().sort_values(["arch_index", "seed"]).reset_index(drop=True)
    return data.drop(columns=["epoch_seconds"])  # wall time: measured, never reproducible


def assert_same_results(a, b) -> None:
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a[column], b[column])), column


def test_plan_trains_one_representative_per_class_and_seed():
    space = get_space("nb201")
    plan = make_plan(GeneratorConfig(name="all", dataset="digits", seeds=(0, 1, 2), train=TRAIN))
    assert len(plan.members) == 15_625
    assert plan.trainings == 3 * 5_260  # one per isomorphism class and seed
    for member in np.random.default_rng(0).choice(15_625, 200, replace=False):
        rep = int(plan.representative[member])
        cost = training_cost_key(space.from_index(rep), rep)
        assert cost <= training_cost_key(space.from_index(int(member)), int(member))  # cheapest trains
        assert space.hash(space.from_index(rep)) == space.hash(space.from_index(int(member)))
    assert make_plan(GeneratorConfig(name="all", dataset="digits", seeds=(0, 1, 2), train=TRAIN)).chunks == plan.chunks


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small table with an isomorphic pair, trained serially."""
    space = get_space("nb201")
    hashes = [space.hash(space.from_index(i)) for i in range(2000)]
    first = {}
    pair = next((first[h], i) for i, h in enumerate(hashes) if first.setdefault(h, i) != i)
    indices = tuple(sorted(set(range(8)) | set(pair)))
    out = tmp_path_factory.mktemp("gen") / "gen-digits"
    manifest = generate(out, config("gen-digits", seeds=(0, 1), indices=indices), progress=False)
    return out, manifest, pair, indices


def test_generated_table_is_sound_and_says_what_it_is(generated):
    out, manifest, pair, indices = generated
    table = read_table(out)
    assert verify_table(table) == []
    assert not manifest.synthetic and manifest.seeds == [0, 1] and manifest.epochs == 1
    assert manifest.dataset["name"] == "digits" and len(manifest.dataset["checksum"]) == 64
    assert manifest.generator["config"]["train"]["epochs"] == 1
    assert "torch" in manifest.versions
    assert manifest.generator["trainings"] == 2 * (len(indices) - 1)


def test_isomorphic_cells_share_one_training_run(generated):
    out, _, (a, b), _ = generated
    table = read_table(out)
    trained = table.scalar("trained_as")
    assert trained[a] == trained[b] and trained[a] in (a, b)
    for name in ("valid_acc", "test_acc", "train_loss"):
        assert np.array_equal(table.curve(name)[a], table.curve(name)[b])


def test_params_are_per_architecture(generated):
    out, manifest, _, indices = generated
    table = read_table(out)
    macro = MacroConfig(**{k: tuple(v) if k == "input_shape" else v for k, v in manifest.generator["macro"].items()})
    space = table.space
    for index in indices:
        assert table.scalar("params")[index] == count_params(space.from_index(index).ops, macro)


def test_accuracies_are_real_training_results(generated):
    out, *_ = generated
    table = read_table(out)
    valid = table.final("valid_acc")[table.indices]
    assert np.all((valid >= 0) & (valid <= 100))
    assert valid.max() > 30  # one epoch on digits already beats chance (10 %) for good cells


def test_killed_run_resumes_without_redoing_work(generated, tmp_path):
    source, _, _, indices = generated
    out = tmp_path / "gen-digits"
    cfg = config("gen-digits", seeds=(0, 1), indices=indices)
    plan = make_plan(cfg)
    # Simulate a kill: only some chunks made it to disk (each is written atomically).
    generate(out, cfg, progress=False, assemble_table=False)
    lost = [c.id for c in plan.chunks[1::2]]
    for chunk_id in lost:
        chunk_path(out, chunk_id).unlink()
    kept = {c.id: chunk_path(out, c.id).stat().st_mtime_ns for c in plan.chunks if c.id not in lost}
    generate(out, cfg, progress=False)
    assert {k: chunk_path(out, k).stat().st_mtime_ns for k in kept} == kept  # not redone
    assert_same_results(frame(out), frame(source))


def test_rerun_with_another_config_is_refused(generated, tmp_path):
    out = tmp_path / "t"
    generate(out, config("t"), progress=False, assemble_table=False)
    other = GeneratorConfig(name="t", dataset="digits", seeds=(0,), train={**TRAIN, "epochs": 2},
                            indices=tuple(range(ARCHS)), chunk_size=4)
    with pytest.raises(NasbenchError, match="train.epochs=1, not 2"):
        generate(out, other, progress=False)


def test_worker_processes_give_the_same_table(tmp_path):
    cfg = config("procs", indices=tuple(range(8)))
    generate(tmp_path / "serial" / "procs", cfg, progress=False)
    generate(tmp_path / "procs", cfg, workers=2, progress=False)
    assert_same_results(frame(tmp_path / "serial" / "procs"), frame(tmp_path / "procs"))


def test_dask_local_cluster_gives_the_same_table(tmp_path):
    import distributed  # in the dev extra

    cfg = config("dask", indices=tuple(range(8)))
    generate(tmp_path / "serial" / "dask", cfg, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            generate(tmp_path / "dask", cfg, scheduler=client, progress=False)
    assert_same_results(frame(tmp_path / "serial" / "dask"), frame(tmp_path / "dask"))


def test_cli_generate_and_its_errors(tmp_path, capsys):
    out = tmp_path / "cli-digits"
    args = ["generate", "--dataset", "digits", "--seeds", "0", "--archs", "6", "--epochs", "1", "--workers", "1", "--out", str(out)]
    assert main(args) == 0
    assert "wrote cli-digits" in capsys.readouterr().out
    assert verify_table(read_table(out)) == []
    assert main([*args[:-2], "--out", str(tmp_path / "x"), "--dataset", "imagenet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "imagenet" in err[0]


def test_datasheet_of_a_generated_table(generated, tmp_path, copy_table, capsys):
    from scipy import stats

    from nasbench.table.datasheet import datasheet_stats

    out, manifest, pair, indices = generated
    folder = copy_table(out)
    table = read_table(folder)
    figures = datasheet_stats(table)
    assert pair[0] in figures.unique and pair[1] not in figures.unique  # the duplicate is not counted twice
    assert len(figures.unique) == len(indices) - 1
    values = table.curve("valid_acc")[figures.unique, :, -1]
    (agreement,) = figures.seed_agreement
    assert agreement.seeds == (0, 1) and agreement.n == len(figures.unique)
    assert agreement.spearman == pytest.approx(stats.spearmanr(values[:, 0], values[:, 1]).statistic)
    assert figures.seed_noise == pytest.approx(np.mean(np.std(values, axis=1, ddof=1)))
    assert figures.quantiles["max"] == pytest.approx(np.max(table.final("test_acc")[table.indices]))
    assert figures.trainings == manifest.generator["trainings"]

    assert main(["tables", "datasheet", str(folder)]) == 0
    text = (folder / "README.md").read_text()
    for heading in ("## Dataset and split", "## Network and training", "## Accuracy", "## Resolution",
                    "## Generation cost"):
        assert heading in text
    assert f"`nasbench tables resolution {folder.name}`" in text and "Verdict: " in text
    assert f"| 0 vs 1 | {agreement.spearman:.3f} |" in text
    assert table.sha256 in text and "accuracy.png" in text
    assert (folder / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in capsys.readouterr().out


def test_generate_refuses_a_device_it_cannot_use(tmp_path, capsys):
    import torch

    args = ["generate", "--dataset", "digits", "--out", str(tmp_path / "t"), "--archs", "2", "--epochs", "1"]
    assert main([*args, "--device", "tpu"]) == 2
    assert "--device: 'tpu'" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main([*args, "--device", "cuda"]) == 2
        assert "finds no CUDA device" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()  # refused before anything was written


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA device")
def test_cuda_generation_matches_cpu(tmp_path):
    """The --device cuda path trains the same networks as the CPU path, up to float rounding,
    and records the device per row (runs where CUDA exists: a lent GPU machine)."""
    indices = (0, 1, 2, 3)
    generate(tmp_path / "cpu", config("cpu", indices=indices), progress=False)
    cpu = read_table(tmp_path / "cpu")
    gpu_dir = tmp_path / "gpu"
    generate(gpu_dir, config("gpu", indices=indices), progress=False, device="cuda")
    gpu = read_table(gpu_dir)
    stacked_dir = tmp_path / "stacked"
    generate(stacked_dir, config("stacked", indices=indices), progress=False, device="cuda", stack=4)
    for other in (gpu, read_table(stacked_dir)):
        assert all(d.startswith("cuda") for d in other.to_pandas()["train_device"])
        for metric in ("valid_acc", "train_loss"):
            a, b = cpu.curve(metric)[list(indices)], other.curve(metric)[list(indices)]
            assert np.allclose(a, b, atol=2.0 if metric == "valid_acc" else 0.05), metric
