"""A generator run whose trainings diverge (NaN or inf in a curve, e.g. `--lr 1e6`) writes no
table: it says which cells diverged (index, seed, first column) in one line and a short list,
exit 2, and keeps the chunks; commands that reassemble a table refuse it too."""

from __future__ import annotations

import pytest

from nasbench.cli import main
from nasbench.errors import NasbenchError
from nasbench.generator import load_config, make_plan, reassemble
from nasbench.generator.assemble import chunk_path
from nasbench.generator.chunks import diverged_cells

ARGS = ["generate", "--dataset", "digits", "--seeds", "0", "--archs", "3", "--epochs", "1", "--preset", "tiny",
        "--chunk-size", "2", "--workers", "1", "--no-costs", "--lr", "1e6"]


def test_diverged_trainings_are_named_and_no_table_is_written(tmp_path, capsys):
    out = tmp_path / "diverged"
    assert main([*ARGS, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err[err.index("nasbench: error:"):].strip().splitlines()
    plan = make_plan(load_config(out))
    assert lines[0].startswith(f"nasbench: error: table 'diverged' not assembled: {plan.trainings} of "
                               f"{plan.trainings} trainings diverged (non-finite curves; first: cell 0 seed 0, ")
    cells = sorted(int(i) for c in plan.chunks for i in c.indices)
    assert [line.split(":")[0] for line in lines[1:]] == [f"  cell {i} seed 0" for i in cells]
    assert all(" is nan from epoch 1" in line or " is inf from epoch 1" in line for line in lines[1:])
    assert "training(s) diverged" in err  # said while training, not only at the end
    assert not (out / "manifest.json").exists() and not (out / "data").exists()
    assert all(chunk_path(out, c.id).is_file() for c in plan.chunks)  # kept: they are what was trained
    found = diverged_cells(out, plan)
    assert [(d.index, d.seed) for d in found] == [(i, 0) for i in cells]

    stamps = [chunk_path(out, c.id).stat().st_mtime_ns for c in plan.chunks]
    assert main([*ARGS, "--out", str(out)]) == 2  # a rerun trains nothing and refuses again
    assert "not assembled" in capsys.readouterr().err
    assert [chunk_path(out, c.id).stat().st_mtime_ns for c in plan.chunks] == stamps
    with pytest.raises(NasbenchError, match="trainings diverged"):
        reassemble(out)  # costs measure / latency fill: no table either
