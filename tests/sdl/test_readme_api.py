"""The README's ask/tell example, run as written: quiet (no BoTorch/GPyTorch warning
flood), and `sdl status` then says "complete" (issue 14 walkthrough)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _api_example() -> str:
    text = (ROOT / "README.md").read_text()
    head = text.index("Driving your own hardware loop from Python")
    m = re.search(r"```python\n(.*?)```", text[head:], re.S)
    assert m, "README lost its API example"
    return m.group(1)


def test_readme_example_shows_budget():
    assert "budget=" in _api_example()


@pytest.mark.slow
def test_readme_api_example_runs_quietly_and_ends_complete(tmp_path):
    (tmp_path / "campaigns").symlink_to(ROOT / "campaigns")
    env = {**os.environ, "PYTHONWARNINGS": "default"}  # show every warning that escapes
    p = subprocess.run([sys.executable, "-c", _api_example()], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stderr == "" and p.stdout == ""
    s = subprocess.run([sys.executable, "-m", "sdl.cli", "status", "runs/mine"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert s.returncode == 0, s.stderr
    assert s.stdout.startswith("runs/mine: complete; 10/10 experiments done, 0 failed"), s.stdout
