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
