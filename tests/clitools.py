"""Helpers shared by the CLI tests (the ``cli`` fixture itself lives in conftest.py)."""

from __future__ import annotations

import signal


def assert_user_error(result: tuple[int, str, str], *fragments: str) -> None:
    """``result`` (status, stdout, stderr) is a user error: exit 2, one stderr line holding
    every fragment, no traceback."""
    status, out, err = result
    assert status == 2, (status, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nasbench")
    assert "Traceback" not in err + out
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def default_sigint() -> None:
    """A ``preexec_fn`` for a child that a test stops with SIGINT: Ctrl-C's default action in the
    child even when the test run itself was started with SIGINT ignored (a background job of a
    non-interactive shell, ``nohup``), a setting the child would otherwise inherit and keep."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
