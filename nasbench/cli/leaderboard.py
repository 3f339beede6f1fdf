"""``nasbench leaderboard``: list the tracks, run an entry under a track's protocol, verify an
entry by re-running it bit for bit (exit 1 with the reason when it differs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser, param_arg, positive_int
from nasbench.errors import NasbenchError


def add_commands(commands: Any) -> None:
    """Register the ``leaderboard`` command group."""
    group = commands.add_parser("leaderboard", help="leaderboard tracks: list, run an entry, verify an entry")
    group.add_argument("--tracks", type=Path, default=None, metavar="DIR",
                       help="folder of track files (default: leaderboard/tracks)")
    group.add_argument("--entries", type=Path, default=None, metavar="DIR",
                       help="folder of entries (default: leaderboard/entries)")
    sub = group.add_subparsers(dest="leaderboard_command", required=True, parser_class=Parser)
    sub.add_parser("tracks", help="every track: kind, benchmark, objective, budget, seeds")
    sub.add_parser("missing", help="the built-ins that apply to a track and have no entry there yet, one "
                                   "'TRACK NAME' a line (exit 1 when any)")
    run = sub.add_parser("run", help="run a strategy (or evaluate a predictor) on every seed of a track and write "
                                     "its entry (append-only)")
    run.add_argument("strategy", help="a built-in strategy or path.py:Class (run isolated); on a predictor track, "
                                      "a registered predictor")
    run.add_argument("--track", required=True)
    run.add_argument("--name", default=None, help="entry name (default: the strategy's name)")
    run.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--workers", type=positive_int, default=1, help="worker processes the seeds are split across")
    run.add_argument("--scheduler", default=None, help="Dask scheduler address (instead of --workers)")
    render = sub.add_parser("render", help="write LEADERBOARD.md and a self-contained index.html from the entries")
    render.add_argument("--out", type=Path, default=None, metavar="DIR", help="default: the leaderboard folder")
    verify = sub.add_parser("verify", help="re-run entries and compare them bit for bit (exit 1 when any differs)")
    verify.add_argument("entry", type=Path, nargs="+")
    verify.add_argument("--workers", type=positive_int, default=1)


def run(args: argparse.Namespace) -> int:
    """Dispatch a ``leaderboard`` sub-command."""
    return {"tracks": _tracks, "missing": _missing, "run": _run, "verify": _verify, "render": _render}[args.leaderboard_command](args)


def _render(args: argparse.Namespace) -> int:
    from nasbench.leaderboard import list_tracks
    from nasbench.leaderboard.board import build_board
    from nasbench.leaderboard.entries import entries_dir
    from nasbench.leaderboard.render import render

    board = build_board(list_tracks(args.tracks), args.entries, tuple(args.tables_dir))
    out = args.out if args.out is not None else entries_dir(args.entries).parent
    for path in render(board, out):
        print(f"wrote {path}")
    shown = sum(len(rows) for rows in board.rows.values()) + sum(len(t[1]) for t in board.tables.values())
    print(f"{shown} entries on {len(board.tracks) + len(board.other_tracks)} tracks" + ("" if board.cross is None else
          f"; across {len(board.cross_tracks)} tracks Friedman p = {board.cross.p:.3g}"))
    return 0


def _tracks(args: argparse.Namespace) -> int:
    from nasbench.leaderboard import list_tracks

    print(f"{'track':<26} {'kind':<9} {'benchmark':<30} {'objective':<19} {'budget':>8} {'seeds':>5}")
    for t in list_tracks(args.tracks):
        budget = f"{t.queries}q" if t.queries else (f"{t.seconds:g}s" if t.seconds else "-")
        print(f"{t.name:<26} {t.kind:<9} {t.benchmark + ' ' + t.benchmark_name:<30} {t.objective:<19} "
              f"{budget:>8} {len(t.seeds):>5}")
    return 0


def _missing(args: argparse.Namespace) -> int:
    from nasbench.leaderboard import list_tracks
    from nasbench.leaderboard.coverage import missing_entries

    missing = missing_entries(list_tracks(args.tracks), args.entries, tuple(args.tables_dir))
    for item in missing:
        print(f"{item.track} {item.name}")
    return 1 if missing else 0


def _run(args: argparse.Namespace) -> int:
    from nasbench.leaderboard import load_track
    from nasbench.leaderboard.entries import entry_record, run_entry, write_entry

    track = load_track(args.track, args.tracks)
    name = args.name or args.strategy.rsplit(":", 1)[-1].lower()
    if track.kind == "predictor":
        from nasbench.leaderboard.predictor_entries import run_predictor_entry

        record = run_predictor_entry(track, args.strategy, args.workers)
        record["entry"]["name"] = name
        path = write_entry(record, args.entries)
        largest = max(track.train_sizes)
        taus = [r["kendall"] for r in record["records"] if r["train_size"] == largest]
        print(f"{name} on {track.name}: mean Kendall tau {sum(taus) / len(taus):.3f} at {largest} training cells "
              f"over {len(taus)} seeds")
        print(f"wrote {path}")
        return 0
    if track.kind == "proxy":
        from nasbench.leaderboard.proxy_entries import run_proxy_entry

        record = run_proxy_entry(track, args.strategy)
        record["entry"]["name"] = name
        path = write_entry(record, args.entries)
        rhos = [r["spearman"] for r in record["records"]]
        print(f"{name} on {track.name}: Spearman {sum(rhos) / len(rhos):.3f} (init seeds "
              f"{', '.join(f'{r:.3f}' for r in rhos)})")
        print(f"wrote {path}")
        return 0
    from nasbench.study import StudyFailed

    try:
        result = run_entry(track, args.strategy, dict(args.param), args.workers, args.scheduler,
                           tables_dir=args.tables_dir)
    except StudyFailed as exc:
        raise NasbenchError(f"rejected, no entry written: {exc}") from None
    path = write_entry(entry_record(result, track, name, args.strategy), args.entries)
    finals = [run["regret"][-1] for run in result["runs"]]
    print(f"{name} on {track.name}: mean final {track.objective} {sum(finals) / len(finals):.3f} over "
          f"{len(finals)} seeds")
    print(f"wrote {path}")
    return 0


#: what "verified" established, by entry format
VERIFIED = {
    "strategy": "every seed re-run: the same choices, the same numbers to 1e-9",
    "predictor": "every split re-fitted: the same figures, to the predictor's float tolerance",
    "proxy": "a seeded sample of cells re-scored under every init seed, within the proxy's tolerance; "
             "the figures recomputed from the stored scores, exactly",
}


def _verify(args: argparse.Namespace) -> int:
    rejected = 0
    for entry in args.entry:
        kind, problems = _verify_one(entry, args)
        if problems:
            rejected += 1
            print(f"{entry}: rejected: {problems[0]}")
        else:
            print(f"{entry}: verified ({VERIFIED[kind]})")
    if len(args.entry) > 1:
        print(f"{len(args.entry) - rejected} of {len(args.entry)} entries verified")
    return 1 if rejected else 0


def _verify_one(entry: Path, args: argparse.Namespace) -> tuple[str, list[str]]:
    """(the entry's kind, the reasons it is rejected: empty when verified)."""
    import json

    from nasbench.leaderboard.entries import ENTRY_FORMAT, verify_entry
    from nasbench.leaderboard.predictor_entries import FORMAT, verify_predictor_entry
    from nasbench.leaderboard.proxy_entries import FORMAT as PROXY_FORMAT
    from nasbench.leaderboard.proxy_entries import verify_proxy_entry

    try:
        record = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NasbenchError(f"{entry}: not a leaderboard entry ({exc})") from None
    kind = record.get("format")
    if kind == FORMAT:
        return "predictor", verify_predictor_entry(entry, args.workers, args.tracks)
    if kind == PROXY_FORMAT:
        return "proxy", verify_proxy_entry(entry, args.tracks)
    if (record.get("entry") or {}).get("format") != ENTRY_FORMAT:
        return "strategy", [f"not a leaderboard entry (format {kind!r}, no 'entry' section): a result file of "
                            "nasbench run?"]
    return "strategy", verify_entry(entry, args.workers, args.tables_dir, args.tracks)
