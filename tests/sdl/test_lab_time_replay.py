"""A lab-time-aware batch run (cheap initial design, improvement per lab second, flow
order) on the simulator: every proposal is recorded with its reason, and the run replays
bit for bit."""

from __future__ import annotations

import pytest

from sdl.cli import main
from sdl.replay import verify
from tests.runs import run_events, short_campaign

LAB_TIME = ('proximal = { temperature_c = 0.1 }',
            'proximal = { temperature_c = 0.1 }\nlab_time_aware = true\n'
            'initial_design = "lab_time"\nflow_order = true')


@pytest.mark.slow
def test_lab_time_aware_batch_run_replays_identically(tmp_path):
    camp = short_campaign(tmp_path, 8, 4, replace=[LAB_TIME, ("batch = 1", "batch = 2")])
    out = tmp_path / "run"
    assert main(["run", str(camp), "--out", str(out)]) == 0
    events = run_events(out)
    infos = [e.payload["strategy_info"] for e in events
             if e.kind == "proposed" and e.payload["strategy_info"]]  # one per batch
    assert [i["strategy"] for i in infos[:2]] == ["bo:lab-time-initial"] * 2, infos
    notes = [n for i in infos for n in i["notes"]]
    assert any(n.startswith("lab time: improvement per (lab second)^") for n in notes), notes
    # the cheap start: every initial run is among the shortest third of the residence range
    res = [e.payload["conditions"]["residence_time_s"] for e in events if e.kind == "proposed"][:4]
    assert max(res) < 10 * (600 / 10) ** (1 / 3), res
    assert verify(out).differences == []
