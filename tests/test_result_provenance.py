"""Result files name the code and the environment that produced them: the strategy's
source file and sha256, and the Python, scipy and scikit-learn versions."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import textwrap
from pathlib import Path

from nasbench.atomic import sha256_file
from nasbench.cli import main
from nasbench.oracle import Budget
from nasbench.study import StudyResult, run_study
from strategies import RandomSearch, get_strategy

REPO = Path(__file__).resolve().parents[1]

USER_STRATEGY = textwrap.dedent(
    '''
    from strategies.base import Strategy


    class FirstIndices(Strategy):
        """Proposes architectures 0, 1, 2, ... in order."""

        def __init__(self, space, rng, max_epochs=None, hardware=None, step=1):
            super().__init__(space, rng, max_epochs=max_epochs, hardware=hardware)
            self.next, self.step = 0, step

        def ask(self):
            arch = self.space.from_index(self.next)
            self.next += self.step
            return arch

        def tell(self, observation):
            pass
    '''
)


def test_registered_strategy_result_names_its_module_and_versions(full_table):
    result = run_study(RandomSearch, full_table, Budget(queries=5), seeds=[0])
    module = REPO / "strategies" / "random_search.py"
    assert result.strategy_source == {"file": "strategies/random_search.py", "sha256": sha256_file(module)}
    assert result.versions["python"] == platform.python_version()
    for package in ("scipy", "scikit-learn", "numpy", "pyarrow"):
        assert result.versions[package] == importlib.metadata.version(package), package


def test_user_strategy_file_sha256_is_recorded_and_follows_edits(small_table, tmp_path):
    path = tmp_path / "first_indices.py"
    path.write_text(USER_STRATEGY)
    cls = get_strategy(f"{path}:FirstIndices")
    result = run_study(cls, small_table, Budget(queries=3), seeds=[0])
    assert result.strategy_source == {"file": path.resolve().as_posix(), "sha256": sha256_file(path)}
    path.write_text(USER_STRATEGY.replace("step=1", "step=2"))
    edited = run_study(get_strategy(f"{path}:FirstIndices"), small_table, Budget(queries=3), seeds=[0])
    assert edited.strategy_source["sha256"] == sha256_file(path) != result.strategy_source["sha256"]


def test_provenance_survives_save_and_load(full_table, tmp_path):
    result = run_study(RandomSearch, full_table, Budget(queries=5), seeds=[0, 1])
    result.save(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["strategy_source"] == result.strategy_source and data["versions"] == result.versions
    loaded = StudyResult.load(tmp_path / "r.json")
    assert loaded.strategy_source == result.strategy_source and loaded.versions == result.versions


def test_results_written_before_provenance_still_load():
    entries = [p for p in sorted((REPO / "leaderboard" / "entries").glob("*/*.json"))
               if json.loads(p.read_text()).get("format") == "nasbench.study/1"]  # baselines.sh's result files
    assert entries
    for path in entries:
        assert "strategy_source" not in json.loads(path.read_text())
        loaded = StudyResult.load(path)
        assert loaded.strategy_source is None and "python" not in loaded.versions and loaded.runs


def test_cli_result_file_carries_provenance(tables_root, full_table_dir, tmp_path, capsys):
    out = tmp_path / "result.json"
    assert main(["--tables-dir", str(tables_root), "run", "random", "--table", "synth-full", "--budget", "5",
                 "--seeds", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["strategy_source"]["file"] == "strategies/random_search.py"
    assert {"python", "scipy", "scikit-learn"} <= set(data["versions"])
