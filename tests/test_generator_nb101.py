"""The generator on the NB101 space: a seeded uniform sample of its unique cells, trained in
the "nb101-small" skeleton, joins NAS-Bench-101 through its module hash."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.cli import main
from nasbench.errors import NasbenchError
from nasbench.generator import GeneratorConfig, generate, make_plan
from nasbench.models import count_nb101_params
from nasbench.spaces import get_space
from nasbench.table import read_table, verify_table
from nasbench.training import TrainConfig, train_architecture

TRAIN = {"epochs": 1, "preset": "nb101-small", "batch_size": 128}
INDICES = tuple(int(i) for i in np.sort(np.random.default_rng(0).choice(423_624, 6, replace=False)))


def config(name: str, **kw) -> GeneratorConfig:
    return GeneratorConfig(name=name, dataset="digits", seeds=(0,), train=TRAIN, space="nb101", indices=INDICES,
                           chunk_size=3, **kw)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("nb101") / "gen-nb101"
    manifest = generate(out, config("gen-nb101"), progress=False)
    return out, manifest


def test_every_sampled_cell_is_its_own_training(generated):
    plan = make_plan(config("gen-nb101"))
    np.testing.assert_array_equal(plan.members, INDICES)
    np.testing.assert_array_equal(plan.representative, INDICES)
    assert plan.trainings == len(INDICES)


def test_the_table_joins_nas_bench_101_by_module_hash(generated):
    out, manifest = generated
    assert manifest.space == "nb101" and manifest.num_archs == len(INDICES)
    assert "NB101-style" in manifest.description
    assert verify_table(read_table(out)) == []
    data = read_table(out).to_pandas().sort_values("arch_index")
    space = get_space("nb101")
    macro = TrainConfig(**TRAIN).macro((1, 8, 8), 10)
    for index, text, key, params in zip(data["arch_index"], data["arch_str"], data["arch_hash"], data["params"]):
        cell = space.parse(text)
        assert space.index(cell) == index and space.hash(cell) == key
        assert params == count_nb101_params(cell.matrix, cell.ops, macro)
    assert (data["trained_as"] == data["arch_index"]).all()
    assert manifest.generator["macro"]["bn_momentum"] == 0.1


def test_training_is_deterministic_and_refuses_another_spaces_preset():
    cell = get_space("nb101").from_index(INDICES[0])
    a = train_architecture(cell, "digits", TrainConfig(**TRAIN), seed=3)
    b = train_architecture(cell, "digits", TrainConfig(**TRAIN), seed=3)
    assert a.valid_acc == b.valid_acc and a.train_loss == b.train_loss
    with pytest.raises(ValueError, match="builds nb201 networks, not nb101 cells"):
        train_architecture(cell, "digits", TrainConfig(epochs=1, preset="small"), seed=0)
    with pytest.raises(ValueError, match="builds nb101 networks, not nb201 cells"):
        train_architecture(["nor_conv_3x3"] * 6, "digits", TrainConfig(**TRAIN), seed=0)


def test_stacked_training_is_nb201_only(tmp_path):
    with pytest.raises(NasbenchError, match="stacked training builds NB201 networks only"):
        generate(tmp_path / "stacked", config("stacked"), progress=False, stack=2)


def test_cli_samples_uniformly_with_a_seed(tmp_path, capsys):
    out = tmp_path / "cli-nb101"
    argv = ["generate", "--space", "nb101", "--dataset", "digits", "--sample", "4", "--sample-seed", "5",
            "--seeds", "0", "--epochs", "1", "--workers", "1", "--out", str(out), "--chunk-size", "2"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "4 architectures x 1 seeds" in printed
    expected = np.sort(np.random.default_rng(5).choice(423_624, 4, replace=False))
    np.testing.assert_array_equal(np.sort(read_table(out).to_pandas()["arch_index"].to_numpy()), expected)
    assert main(["generate", "--space", "nb101", "--dataset", "digits", "--sample", "4", "--archs", "3",
                 "--out", str(tmp_path / "x")]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_datasheet_says_what_the_table_is_and_how_to_rebuild_it(generated):
    from nasbench.table.datasheet import write_datasheet

    out, _ = generated
    text = write_datasheet(read_table(out)).read_text()
    assert text.startswith("# gen-nb101: NB101-style cells trained on digits")
    assert "--space nb101 --dataset digits --seeds 0 --sample 6 --sample-seed 0 --out tables/gen-nb101" in text
    assert "every cell is its own isomorphism class" in text
    assert "each row's epoch_seconds are its own training's" in text
