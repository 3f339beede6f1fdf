"""Leaderboard tracks: every shipped protocol file loads and cites its benchmark's real identity;
a malformed one is refused naming the field."""

from __future__ import annotations

import json

import pytest

from nasbench.leaderboard import TrackError, list_tracks, load_track
from nasbench.leaderboard.tracks import tracks_dir


def test_every_shipped_track_cites_its_benchmark_as_it_is():
    from nasbench.table import load_table

    tracks = list_tracks()
    kinds = {t.kind for t in tracks}
    assert kinds == {"strategy", "proxy", "predictor"}
    assert {t.objective for t in tracks} >= {"regret", "constrained-regret", "hypervolume-gap"}
    for track in tracks:
        if track.benchmark == "table":
            assert load_table(track.benchmark_name).sha256 == track.benchmark_sha256, track.name
        else:
            from predictors.surrogate.benchmark import load_surrogate_benchmark
            from predictors.surrogate.catalog import resolve_surrogate

            identity = load_surrogate_benchmark(resolve_surrogate(track.benchmark_name)).identity()
            assert identity["sha256"] == track.benchmark_sha256, track.name
        if track.kind == "strategy":
            assert len(track.seeds) >= 25 and (track.queries == 300 or (track.queries is None and track.seconds))
    assert any(t.seconds for t in tracks)  # a simulated-seconds budget


GOOD = {"format": "nasbench.track/1", "name": "t", "kind": "strategy", "benchmark": "table", "benchmark_name": "x",
        "benchmark_sha256": "0" * 64, "objective": "regret", "queries": 300, "seeds": list(range(25))}


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"format": "other"}, "field 'format'"),
        ({"kind": "game"}, "field 'kind' must be one of strategy, proxy, predictor, got 'game'"),
        ({"objective": "accuracy"}, "field 'objective' of a strategy track"),
        ({"seeds": [0, 1, 2]}, "lists 3 seeds; a strategy track needs at least 25"),
        ({"seeds": [0, 0] + list(range(1, 25))}, "repeats a value"),
        ({"queries": 0}, "field 'queries' must be a positive integer"),
        ({"queries": None}, "needs a budget"),
        ({"objective": "constrained-regret"}, "needs field 'latency_device'"),
        ({"benchmark_sha256": "abc"}, "64 hex digits"),
        ({"benchmark": "pickle"}, "field 'benchmark' must be one of table, surrogate"),
        ({"name": "other"}, "a track file is named after its track"),
    ],
)
def test_malformed_tracks_are_refused_naming_the_field(tmp_path, change, fragment):
    (tmp_path / "t.json").write_text(json.dumps({**GOOD, **change}))
    with pytest.raises(TrackError, match=fragment):
        load_track("t", tmp_path)


def test_a_good_track_round_trips_and_unknown_names_list_the_known(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps(GOOD))
    track = load_track("t", tmp_path)
    assert track.to_dict()["seeds"] == list(range(25))
    with pytest.raises(TrackError, match="unknown track 'nope' \\(known: t\\)"):
        load_track("nope", tmp_path)
    assert tracks_dir().name == "tracks"


def test_the_committed_board_is_what_the_entries_render_to(tmp_path):
    """LEADERBOARD.md is regenerated whenever an entry or a track changes (`nasbench leaderboard render`)."""
    pytest.importorskip("matplotlib")
    from nasbench.leaderboard.board import build_board
    from nasbench.leaderboard.coverage import missing_entries
    from nasbench.leaderboard.entries import entries_dir
    from nasbench.leaderboard.render import render

    tracks = list_tracks()
    assert missing_entries(tracks) == []  # every built-in has an entry on every track it applies to
    render(build_board(tracks), tmp_path)
    committed = entries_dir().parent / "LEADERBOARD.md"
    assert (tmp_path / "LEADERBOARD.md").read_text() == committed.read_text()
