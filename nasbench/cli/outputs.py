"""Output files checked before any work starts, so that a long run never ends in a lost or
clobbered result: each path is a writable file (not a folder) with a sane extension, no two
outputs are the same file, and none is overwritten without ``--force``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nasbench.errors import NasbenchError

RESULT_SUFFIXES = (".json",)
PLOT_SUFFIXES = (".png", ".pdf", ".svg")  # what matplotlib's savefig writes by extension


@dataclass(frozen=True)
class Output:
    """One file a command will write: the flag that names it, the path, allowed extensions."""

    what: str  # e.g. "--out"
    path: Path | None  # None: not written this time
    suffixes: tuple[str, ...] = ()  # empty: any


def check_outputs(outputs: list[Output], force: bool) -> None:
    """Raise NasbenchError (one line, naming the flag) for the first output that cannot be written."""
    seen: dict[Path, str] = {}
    for out in outputs:
        if out.path is None:
            continue
        path, what = Path(out.path), out.what
        key = path.resolve()
        if key in seen:
            raise NasbenchError(f"{what}: {path} is also the {seen[key]} file; give two different paths")
        seen[key] = what
        if out.suffixes and path.suffix.lower() not in out.suffixes:
            raise NasbenchError(f"{what}: {path} should end in {' or '.join(out.suffixes)}")
        if path.is_dir():
            raise NasbenchError(f"{what}: {path} is a folder; give a file path")
        folder = path.parent
        if not folder.is_dir():
            raise NasbenchError(f"{what}: folder {folder} does not exist" if not folder.exists()
                                else f"{what}: {folder} is not a folder")
        _probe(folder, what)
        if path.exists() and not force:
            raise NasbenchError(f"{what}: {path} exists; pass --force to overwrite it")


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder``: the only sure test of writability (root passes
    every permission check, a read-only file system none)."""
    import tempfile

    try:
        handle, name = tempfile.mkstemp(prefix=".nasbench-probe-", dir=folder)
        os.close(handle)
        os.unlink(name)
    except OSError as exc:
        raise NasbenchError(f"{what}: cannot write in {folder} ({exc.strerror or exc})") from None
