"""The common leaderboard: tracks (protocol files), entries, verification and rendering."""

from __future__ import annotations

from nasbench.leaderboard.tracks import Track, TrackError, list_tracks, load_track

__all__ = ["Track", "TrackError", "list_tracks", "load_track"]
