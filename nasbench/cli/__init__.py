"""The ``nasbench`` command line, one module per command group. User errors print one line
and exit with status 2 (with ``--debug`` or NASBENCH_DEBUG=1, after their full traceback)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from nasbench import __version__
from nasbench.cli import (
    calibrate,
    generate,
    leaderboard,
    predictors,
    proxies,
    search,
    spaces,
    surrogate,
    tables,
    timing,
)
from nasbench.cli.args import Parser
from nasbench.errors import NasbenchError

__all__ = ["build_parser", "main"]

HANDLERS = {
    "tables": tables.run, "query": search.query_command, "run": search.run_command,
    "compare": search.compare_command, "generate": generate.generate_command,
    "latency": timing.run_timing_command, "costs": timing.run_timing_command, "calibrate": calibrate.run,
    "proxies": proxies.run, "predictors": predictors.run, "surrogate": surrogate.run,
    "spaces": spaces.run, "leaderboard": leaderboard.run,
}


# Commands that only look things up: numpy's OpenBLAS need not start a thread per core for
# them (about 0.1 s of a 0.3 s `nasbench query` on a 2-core VM). A value the user set wins.
LOOKUP_COMMANDS = frozenset({"query", "tables", "spaces"})


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command group."""
    parser = Parser(prog="nasbench", description="Tabular NAS benchmarks: tables, oracle, strategies.")
    parser.add_argument("--version", action="version", version=f"nasbench {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also: NASBENCH_DEBUG=1)")
    parser.add_argument(
        "--tables-dir", action="append", default=[], metavar="DIR",
        help="extra folder to search for tables (repeatable; also $NASBENCH_TABLES)",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in (tables, search, generate, timing, calibrate, proxies, predictors, surrogate, spaces, leaderboard):
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 verification failed, 2 user error)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 0
    if args.command in LOOKUP_COMMANDS and "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        status = HANDLERS[args.command](args)
        sys.stdout.flush()  # a full disk or closed pipe shows here, not at interpreter exit
        return status
    except NasbenchError as exc:
        if args.debug or debug_from_env():
            traceback.print_exception(exc, file=sys.stderr)
        print(f"nasbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a full disk, a vanished folder: one line, as for any user-facing failure
        if args.debug or debug_from_env():
            traceback.print_exception(exc, file=sys.stderr)
        print(f"nasbench: error: {exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else ""),
              file=sys.stderr)
        if exc.filename is None:  # likely standard output itself: nothing more to flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 2


def debug_from_env() -> bool:
    """Whether $NASBENCH_DEBUG asks for full tracebacks (anything but empty, 0, false, no)."""
    return os.environ.get("NASBENCH_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
