"""Argument types and the parser class shared by the CLI's command groups."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any



def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


MAX_SEEDS = 10_000  # a study of more seeds is a typo (each seed is a full search)


def seed_count(text: str) -> int:
    """``--seeds``: a positive number of seeds, at most MAX_SEEDS."""
    value = positive_int(text)
    if value > MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"at most {MAX_SEEDS:,} seeds per run, got {value:,}")
    return value


def seed_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seeds must be non-negative, got {value}")
    return value


def float_arg(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def param_arg(text: str) -> tuple[str, object]:
    """``name=value`` with value parsed as JSON (numbers, true/false, lists), else kept as text."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with a Python identifier as NAME, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value
    except RecursionError:
        raise argparse.ArgumentTypeError(f"the value of {name} is nested too deeply") from None


def refuse_overwrite(outputs: dict[str, Path | None], force: bool, suffixes: tuple[str, ...] = ()) -> None:
    """Check, before any work, that each output file can be written and is not overwritten
    without ``--force``; ``outputs`` maps what each file is (e.g. ``--out``) to its path
    (None: not written). See :func:`nasbench.cli.outputs.check_outputs`."""
    from nasbench.cli.outputs import Output, check_outputs

    check_outputs([Output(what, path, suffixes) for what, path in outputs.items()], force)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus a pointer to --help), exit status 2.

    ``epilog_from``: a function giving the epilog, called only when the help is shown
    (for text that is costly to find, such as the registered strategies).
    """

    def __init__(self, *args: Any, epilog_from: Callable[[], str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.epilog_from = epilog_from

    def format_help(self) -> str:
        if self.epilog_from is not None:
            self.epilog = self.epilog_from()
        return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
