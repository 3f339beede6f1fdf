"""Helpers shared by the CLI tests (the ``cli`` fixture itself lives in conftest.py)."""

from __future__ import annotations


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
