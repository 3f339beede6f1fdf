"""Where in a user's own file an exception came from, as ``file:line``, so that a fault in a
strategy file is one line naming the place to fix rather than a traceback into nasbench."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable


def shown_path(filename: str) -> str:
    """``filename`` as a person reads it best: relative to the working folder when inside it."""
    if not os.path.isabs(filename):
        return filename
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive (Windows)
        return filename
    return filename if relative.startswith(os.pardir) else relative


def class_files(cls: type) -> list[str]:
    """The source files of ``cls`` and then of its base classes (the code a strategy brings)."""
    files: list[str] = []
    for klass in inspect.getmro(cls):
        try:
            filename = os.path.abspath(inspect.getfile(klass))
        except (TypeError, OSError):  # built-in classes have no file
            continue
        if filename not in files:
            files.append(filename)
    return files


def user_location(exc: BaseException, files: Iterable[str]) -> str | None:
    """``file:line`` of the innermost traceback frame of ``exc`` in the first of ``files``
    (in order of preference) that the traceback passes through."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append((os.path.abspath(tb.tb_frame.f_code.co_filename), tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    for wanted in files:
        wanted = os.path.abspath(wanted)
        inside = [(name, line) for path, name, line in frames if path == wanted]
        if inside:
            name, line = inside[-1]
            return f"{shown_path(name)}:{line}"
    return None


def load_failure(exc: BaseException, path: str) -> str:
    """One line for a file that failed to load: ``file:line: SyntaxError: message``."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        text = f"{type(exc).__name__}: {exc.msg}"
        if exc.filename and exc.lineno:
            return f"{shown_path(exc.filename)}:{exc.lineno}: {text}"
    where = user_location(exc, [path])
    return f"{where}: {text}" if where else f"{shown_path(path)}: {text}"
