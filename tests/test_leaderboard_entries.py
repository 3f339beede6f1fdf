"""Leaderboard entries: a strategy runs under a track's protocol (seeds split across worker
processes give the same runs as one process), is written append-only and verified bit for
bit; a tampered entry, a changed protocol or another benchmark is rejected with one reason."""

from __future__ import annotations

import json
import re

import pytest

from nasbench.errors import NasbenchError
from nasbench.leaderboard import TrackError, load_track
from nasbench.leaderboard.entries import entry_record, run_entry, verify_entry, write_entry


@pytest.fixture(scope="module")
def tracks(tmp_path_factory):
    from nasbench.table import load_table

    root = tmp_path_factory.mktemp("tracks")
    track = {"format": "nasbench.track/1", "name": "synth", "kind": "strategy", "benchmark": "table",
             "benchmark_name": "synthetic-nb201", "benchmark_sha256": load_table("synthetic-nb201").sha256,
             "objective": "regret", "queries": 15, "seeds": list(range(25))}
    (root / "synth.json").write_text(json.dumps(track))
    (root / "stale.json").write_text(json.dumps({**track, "name": "stale", "benchmark_sha256": "0" * 64}))
    return root


def test_parallel_seeds_give_the_same_entry_and_it_verifies(tracks, tmp_path):
    track = load_track("synth", tracks)
    serial = run_entry(track, "evolution")
    parallel = run_entry(track, "evolution", workers=2)
    assert serial["runs"] == parallel["runs"]
    assert [r["seed"] for r in serial["runs"]] == list(range(25))
    path = write_entry(entry_record(serial, track, "evolution", "evolution"), tmp_path)
    assert path == tmp_path / "synth" / "evolution.json"
    with pytest.raises(NasbenchError, match="append-only"):
        write_entry(entry_record(serial, track, "evolution", "evolution"), tmp_path)
    assert verify_entry(path, tracks_root=tracks) == []

    record = json.loads(path.read_text())
    record["runs"][3]["values"][2] += 1e-14  # a surrogate's float64 noise on another CPU model
    path.write_text(json.dumps(record))
    assert verify_entry(path, tracks_root=tracks) == []
    record["runs"][3]["values"][2] += 0.01
    path.write_text(json.dumps(record))
    assert verify_entry(path, tracks_root=tracks) == ["seed 3: the re-run differs (values)"]
    record["runs"] = record["runs"][:10]
    path.write_text(json.dumps(record))
    assert "a crashed or partial run" in verify_entry(path, tracks_root=tracks)[0]
    record["entry"]["track"]["queries"] = 16
    path.write_text(json.dumps(record))
    assert verify_entry(path, tracks_root=tracks)[0].startswith("protocol mismatch")


def test_a_track_on_another_benchmark_version_is_refused(tracks):
    with pytest.raises(TrackError, match="protocol mismatch: track 'stale'"):
        run_entry(load_track("stale", tracks), "random")


def test_cli_runs_and_verifies_an_entry(tracks, tmp_path, capsys):
    from nasbench.cli import main

    common = ["leaderboard", "--tracks", str(tracks), "--entries", str(tmp_path)]
    assert main([*common, "run", "random", "--track", "synth", "--workers", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    entry = tmp_path / "synth" / "random.json"
    assert main([*common, "verify", str(entry)]) == 0
    assert "verified" in capsys.readouterr().out
    result_file = tmp_path / "run.json"  # a result file of nasbench run is not an entry
    assert main(["run", "random", "--table", "synthetic-nb201", "--budget", "5", "--seeds", "2",
                 "--out", str(result_file)]) == 0
    capsys.readouterr()
    assert main([*common, "verify", str(entry), str(result_file)]) == 1
    out = capsys.readouterr().out
    assert f"{entry}: verified" in out and "1 of 2 entries verified" in out
    assert f"{result_file}: rejected: not a leaderboard entry" in out
    assert main([*common, "run", "random", "--track", "synth"]) == 2
    assert "append-only" in capsys.readouterr().err
    assert main([*common, "run", "random", "--track", "nope"]) == 2
    assert "unknown track 'nope'" in capsys.readouterr().err


def test_render_writes_a_self_contained_page(tracks, tmp_path, capsys):
    from nasbench.cli import main

    common = ["leaderboard", "--tracks", str(tracks), "--entries", str(tmp_path / "entries")]
    for strategy in ("random", "evolution", "local-search"):
        assert main([*common, "run", strategy, "--track", "synth"]) == 0
    out = tmp_path / "site"
    assert main([*common, "render", "--out", str(out)]) == 0
    md = (out / "LEADERBOARD.md").read_text()
    assert "## synth" in md and "| local-search |" not in md.split("## synth")[0]
    assert md.count("| ") > 10 and "(plots/synth.png)" in md
    page = (out / "index.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and 'name="viewport"' in page
    assert "<script" not in page and "<link" not in page and "src=\"http" not in page
    namespaces = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert set(re.findall(r'http://[^"]*', page)) <= namespaces  # SVG namespaces only: nothing to fetch
    first = page
    assert main([*common, "render", "--out", str(out)]) == 0
    assert (out / "index.html").read_text() == first  # a pure function of the entries


USER_STRATEGY = '''
from strategies.random_search import RandomSearch


class Mine(RandomSearch):
    """A user's strategy kept outside the package."""
'''


def test_a_user_file_entry_runs_isolated_records_it_and_a_changed_file_is_rejected(tracks, tmp_path):
    source = tmp_path / "mine.py"
    source.write_text(USER_STRATEGY)
    track = load_track("synth", tracks)
    spec = f"{source}:Mine"
    result = run_entry(track, spec, workers=2)
    assert result["isolation"]["process"] is True
    assert result["strategy_source"]["sha256"] == __import__("hashlib").sha256(source.read_bytes()).hexdigest()
    assert result["runs"] == run_entry(track, "random")["runs"]  # same draws as the built-in it extends
    path = write_entry(entry_record(result, track, "mine", spec), tmp_path / "entries")
    assert verify_entry(path, tracks_root=tracks) == []
    source.write_text(USER_STRATEGY + "\n# edited after the entry was written\n")
    assert verify_entry(path, tracks_root=tracks)[0].startswith(f"strategy source: {source} is missing or differs")


def test_seeds_on_a_dask_cluster_give_the_same_entry(tracks):
    distributed = pytest.importorskip("distributed")  # in the dev extra
    track = load_track("synth", tracks)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = run_entry(track, "local-search", workers=3, scheduler=client)
    assert on_dask["runs"] == run_entry(track, "local-search")["runs"]


def test_missing_lists_the_built_ins_a_track_applies_to(tracks, tmp_path, capsys):
    from nasbench.cli import main
    from nasbench.leaderboard.coverage import applicable, missing_entries
    from strategies import STRATEGIES

    track = load_track("synth", tracks)
    names = applicable(track)
    assert "nsga2" not in names  # multi-objective: only on a hypervolume track
    assert set(names) == {n for n in STRATEGIES.names() if not STRATEGIES.get(n).multi_objective}
    hv = load_track("nb201-digits-hypervolume")
    assert "nsga2" in applicable(hv)
    nb101 = load_track("nb101-digits-regret")
    assert {"bohb", "reinforce"}.isdisjoint(applicable(nb101)) and "evolution" in applicable(nb101)

    entries = tmp_path / "entries"
    assert [m.name for m in missing_entries([track], entries)] == names
    write_entry(entry_record(run_entry(track, "random"), track, "random", "random"), entries)
    assert "random" not in [m.name for m in missing_entries([track], entries)]
    assert main(["leaderboard", "--tracks", str(tracks), "--entries", str(entries), "missing"]) == 2
    assert "protocol mismatch: track 'stale'" in capsys.readouterr().err  # a stale track is named, not skipped
    only = tmp_path / "tracks"
    only.mkdir()
    (only / "synth.json").write_text((tracks / "synth.json").read_text())
    assert main(["leaderboard", "--tracks", str(only), "--entries", str(entries), "missing"]) == 1
    lines = capsys.readouterr().out.split("\n")
    assert "synth evolution" in lines and "synth random" not in lines


CRASHING_STRATEGY = '''
from strategies.random_search import RandomSearch


class Crash(RandomSearch):
    def ask(self):
        if self.rng.random() < 0.05:
            raise RuntimeError("lost my footing")
        return super().ask()
'''


def test_a_seed_that_crashes_in_a_worker_rejects_the_entry_in_one_line(tracks, tmp_path, capsys):
    from nasbench.cli import main

    source = tmp_path / "crash.py"
    source.write_text(CRASHING_STRATEGY)
    entries = tmp_path / "entries"
    code = main(["leaderboard", "--tracks", str(tracks), "--entries", str(entries), "run", f"{source}:Crash",
                 "--track", "synth", "--workers", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[0].startswith("nasbench: error: rejected, no entry written: ")
    assert "strategy 'Crash' (seed" in err[0] and "RuntimeError: lost my footing" in err[0]
    assert not (entries / "synth").exists()


def test_choices_must_match_exactly_and_numbers_to_float_noise():
    from nasbench.leaderboard.entries import same_field

    assert same_field([71.5, 80.25], [71.5 + 1e-13, 80.25])  # float64 BLAS across CPU models
    assert not same_field([71.5, 80.25], [71.5 + 1e-6, 80.25])
    assert same_field([float("nan"), 1.0], [float("nan"), 1.0])
    assert not same_field([3, 17], [3, 18])  # an architecture index: exact, or a different trajectory
    assert not same_field([1.0, 2.0], [1.0, 2.0, 3.0]) and not same_field("a", "b") and not same_field(True, 1.0 + 1e-12)
