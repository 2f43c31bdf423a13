"""Ask/tell Python API for labs that drive their own hardware loop.

    from sdl.api import Campaign
    campaign = Campaign.load("campaigns/cdse_620nm.toml")
    with campaign.start(out="runs/my-run") as session:
        while trials := session.ask():
            for t in trials:
                outcomes = my_lab.run(t.full_conditions)      # {"pl_peak_nm": (618.2, 0.4), ...}
                session.tell(t.experiment_id, outcomes)

It writes the same record as `sdl run` (hash-chained events, raw files when `raw=` is
given), so `sdl status`, `sdl audit`, `sdl replay --verify` and `sdl report` work on it.
`Campaign.resume(run_dir)` reopens a session; `session.pending()` lists trials that were
asked but never told.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sdl.schema.campaign import Campaign as CampaignModel
from sdl.schema.load import load_campaign
from sdl.session import Session, Trial
from sdl.vocab.measurement import RawMeasurement


class Campaign:
    """A validated campaign file, ready to start a run."""

    def __init__(self, path: Path, model: CampaignModel):
        self.path = path
        self.model = model

    @classmethod
    def load(cls, path: str | Path) -> Campaign:
        """Load and validate a campaign file (raises `CampaignError` with one line per problem)."""
        return cls(Path(path), load_campaign(path))

    def start(self, *, out: str | Path | None = None, runs_dir: str | Path = "runs",
              budget: int | None = None) -> AskTellSession:
        """Create a new run directory and open it for asking and telling."""
        return AskTellSession(Session.create(self.path, out=out, base=runs_dir,
                                             rig_kind="external", budget=budget))

    @staticmethod
    def resume(run_dir: str | Path) -> AskTellSession:
        """Reopen an existing run directory (takes its writer lock)."""
        s = Session.open(run_dir)
        s.resumed(previous_phase="ask_tell", experiments_completed=len(s.state.completed),
                  unfinished=[e.experiment_id for e in s.state.unfinished])
        return AskTellSession(s)


class AskTellSession:
    """An open run: `ask()` for new trials, `tell()` their results."""

    def __init__(self, session: Session):
        self._s = session

    @property
    def run_dir(self) -> Path:
        return self._s.run_dir

    def ask(self, n: int | None = None) -> list[Trial]:
        """Up to `n` new trials (default: the campaign's batch size); [] when the budget is
        used up. Trials are recorded as proposed and dispatched."""
        trials = self._s.ask(n)
        for t in trials:
            self._s.dispatch(t.experiment_id)
        return trials

    def pending(self) -> list[Trial]:
        """Trials asked for but not yet told."""
        return [self._s.trial(e.experiment_id) for e in self._s.state.unfinished]

    def tell(self, experiment_id: str, outcomes: Mapping[str, Any] | None = None, *,
             raw: RawMeasurement | None = None, failure: tuple[str, str] | None = None) -> None:
        """Report a trial's result: `outcomes` (name -> value or (value, stderr)), or a
        `raw` measurement to score with the analysis core, or `failure=(kind, reason)`."""
        given = sum(x is not None for x in (outcomes, raw, failure))
        if given != 1:
            raise ValueError("give exactly one of outcomes, raw= or failure=")
        if raw is not None:
            self._s.tell_raw(experiment_id, raw)
        else:
            self._s.tell_outcomes(experiment_id, outcomes, failure=failure)

    def close(self) -> None:
        self._s.close()

    def __enter__(self) -> AskTellSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
