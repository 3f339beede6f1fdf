"""The rendered leaderboard page in a real browser: headless Chromium (Debian's chromium
package) loads index.html from disk with the network off, at desktop and at phone width.
Runs when chromium is installed (`apt-get install chromium`); CI without it skips it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from nasbench.cli import main
    from nasbench.table import load_table

    root = tmp_path_factory.mktemp("board")
    (root / "tracks").mkdir()
    track = {"format": "nasbench.track/1", "name": "synth", "kind": "strategy", "benchmark": "table",
             "benchmark_name": "synthetic-nb201", "benchmark_sha256": load_table("synthetic-nb201").sha256,
             "objective": "regret", "queries": 20, "seeds": list(range(25)), "description": "A synthetic track."}
    (root / "tracks" / "synth.json").write_text(json.dumps(track))
    common = ["leaderboard", "--tracks", str(root / "tracks"), "--entries", str(root / "entries")]
    for strategy in ("random", "evolution", "local-search"):
        assert main([*common, "run", strategy, "--track", "synth"]) == 0
    assert main([*common, "render", "--out", str(root / "site")]) == 0
    return root / "site" / "index.html"


def chromium(*args: str, cwd=None) -> subprocess.CompletedProcess:
    profile = ["--user-data-dir=" + str(cwd / "profile")] if cwd else []
    return subprocess.run([CHROMIUM, *FLAGS, *profile, *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=cwd)


def test_the_page_renders_its_tables_and_plots(page, tmp_path):
    done = chromium("--dump-dom", page.as_uri(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "<h1>Leaderboard</h1>" in dom and "<svg" in dom and "local-search" in dom


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_screenshots_at_desktop_and_phone_width(page, tmp_path, width, height):
    shot = tmp_path / f"shot-{width}.png"
    done = chromium(f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:4] == b"\x89PNG" and len(data) > 10_000  # something was drawn
