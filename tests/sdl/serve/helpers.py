"""A run written step by step while a test watches it: the real simulator (SimulatedRig)
and the real record, with the Sobol strategy so each step takes well under a second."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def sobol_campaign(tmp_path: Path, budget: int, source: str = "cdse_620nm.toml") -> Path:
    text = (ROOT / "campaigns" / source).read_text()
    text = text.replace('kind = "bo"', 'kind = "sobol"').replace("experiments = 60",
                                                                 f"experiments = {budget}")
    p = tmp_path / f"sobol_{source}"
    p.write_text(text)
    return p


class SteppedRun:
    """`step()` runs and records one experiment; `close()` stops the run cleanly."""

    def __init__(self, campaign_path: Path, run_dir: Path):
        from sdl.rigs import simulated_rig
        from sdl.session import Session

        self.session = Session.create(campaign_path, out=run_dir)
        self.rig = simulated_rig(self.session.campaign)
        self.rig.prepare()
        self.limits = self.rig.limits()

    def step(self) -> float:
        """Run one experiment; returns time.time() just after its terminal event committed."""
        from sdl.loop import run_trial

        (trial,) = self.session.ask(1)
        run_trial(self.session, self.rig, trial, self.limits,
                  getattr(self.rig, "reactor_volume_ul", None), self.session.campaign.wants_photons)
        return time.time()

    def close(self, reason: str = "budget") -> None:
        self.rig.safe_state()
        self.session.safe_state_recorded("rig safe")
        self.session.stop(reason)
        self.rig.close()
        self.session.close()
