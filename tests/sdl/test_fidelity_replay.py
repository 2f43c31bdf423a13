"""A multi-fidelity run (acquisition_s chosen per experiment, screens confirmed at full
fidelity from the model) on the simulator replays bit for bit."""

from __future__ import annotations

import pytest

from sdl.cli import main
from sdl.commands.status import status
from sdl.replay import verify
from tests.runs import ROOT, run_events

FIDELITY = """
[strategy.fidelity]
parameter = "acquisition_s"
low = 2.0
high = 30.0
overhead_s = 60.0
"""


@pytest.mark.slow
def test_multi_fidelity_run_confirms_then_replays_identically(tmp_path, capsys):
    text = (ROOT / "campaigns" / "single_photon.toml").read_text()
    text = text.replace("experiments = 50", "experiments = 6").replace("initial = 8", "initial = 4")
    campaign = tmp_path / "sp.toml"
    campaign.write_text(text + FIDELITY)
    out = tmp_path / "run"
    assert main(["run", str(campaign), "--out", str(out)]) == 0
    best = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("best conditions:")]
    assert all("acquisition_s = 30" in ln for ln in best)  # a reported best was confirmed
    acq = [e.payload["conditions"]["acquisition_s"] for e in run_events(out)
           if e.kind == "proposed"]
    assert acq[:4] == [2.0] * 4 and 30.0 in acq[4:], acq  # screens, then a confirmation
    best = status(str(out))["best"]  # `sdl status` names the same kind of best
    assert best is None or best["conditions"]["acquisition_s"] == 30.0
    assert verify(out).differences == []
    assert main(["replay", str(out), "--verify"]) == 0
