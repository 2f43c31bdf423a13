"""End to end on the real parts: simulator rig, BoTorch strategies, analysis core, record.

Includes the crash test of issue 7: `kill -9` at random points of a subprocess run, then
`sdl resume`, repeatedly; the final run must hold exactly the budgeted experiments with
unique ids, a verifying hash chain, and replay --verify must find no difference.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sdl.audit import audit
from sdl.cli import main
from sdl.replay import verify
from tests.runs import ROOT, run_events, run_state, short_campaign


def _short_campaign(tmp_path: Path, budget: int, initial: int) -> Path:
    return short_campaign(tmp_path, budget, initial, name="short.toml")


def _sdl(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sdl.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_run_on_simulator_then_audit_replay_status(tmp_path, capsys):
    campaign = _short_campaign(tmp_path, budget=6, initial=4)
    out = tmp_path / "run"
    assert main(["run", str(campaign), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("Running 'cdse-620nm' on the built-in simulator")
    assert "best conditions:" in text
    st = run_state(out)
    assert len(st.completed) == 6 and st.stopped["reason"] == "budget"
    assert audit(out).clean
    assert verify(out).differences == []
    assert main(["status", str(out), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["state"] == "complete" and s["experiments_completed"] == 6


def test_rig_without_hardware_support_says_so(tmp_path, capsys):
    code = main(["run", str(ROOT / "campaigns/cdse_620nm.toml"), "--rig",
                 str(ROOT / "campaigns/rigs/example_rig.toml"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # nothing started


@pytest.mark.slow
def test_sigterm_subprocess_leaves_safe_state(tmp_path):
    campaign = _short_campaign(tmp_path, budget=40, initial=40)
    out = tmp_path / "run"
    proc = _sdl("run", str(campaign), "--out", str(out), "--no-report")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (out / "record.sqlite").exists() and len(run_state(out).completed) >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, output
    events = run_events(out)
    assert [e.kind for e in events][-2:] == ["safe_state", "stopped"]
    assert events[-1].payload["reason"] == "signal"


@pytest.mark.slow
def test_kill9_at_random_points_then_resume(tmp_path):
    budget = 10
    campaign = _short_campaign(tmp_path, budget=budget, initial=5)
    out = tmp_path / "run"
    rng = random.Random(20261122)
    proc = _sdl("run", str(campaign), "--out", str(out), "--no-report")
    for _ in range(6):
        time.sleep(rng.uniform(2.0, 7.0))
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc = _sdl("resume", str(out), "--no-report")
    output, _ = proc.communicate(timeout=600)
    if proc.returncode != 0 or run_state(out).stopped is None:
        proc = _sdl("resume", str(out), "--no-report")
        output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    st = run_state(out)
    ids = [e.experiment_id for e in st.completed]
    assert len(ids) == budget == len(set(ids)) == len(st.experiments)
    assert all(e.done for e in st.experiments.values())
    res = audit(out)
    assert res.clean, res.problems
    assert verify(out).differences == []
