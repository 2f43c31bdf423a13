"""Ask/tell Python API for labs that drive their own hardware loop.

    from sdl.api import Campaign
    campaign = Campaign.load("campaigns/cdse_620nm.toml")
    with campaign.start(out="runs/my-run", budget=10) as session:
        while trials := session.ask():
            for t in trials:
                outcomes = my_lab.run(t.full_conditions)      # {"pl_peak_nm": (618.2, 0.4), ...}
                session.tell(t.experiment_id, outcomes)

It writes the same record as `sdl run` (hash-chained events, raw files when `raw=` is
given), so `sdl status`, `sdl audit`, `sdl replay --verify` and `sdl report` work on it.
The record says the run is driven from Python (`sdl.provenance`): `sdl resume` refuses
it, and `Campaign.resume(run_dir)` reopens it (`session.pending()` lists trials asked but
never told; `Campaign.resume(run_dir, budget=N)` extends a finished run to N experiments).

Leaving the `with` block records `stopped`: reason "budget" when every experiment of the
budget was told, "caller_ended" when the caller stopped early (resumable), "error" (with
the exception) when the block raised.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sdl.errors import ResumeRefused
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
        """Create a new run directory and open it for asking and telling.

        Args:
            out: the run directory (new or empty); default `runs_dir/<name>-<utc>`.
            budget: number of experiments (default: the campaign file's budget).
        """
        return AskTellSession(Session.create(self.path, out=out, base=runs_dir,
                                             rig_kind="external", budget=budget))

    @staticmethod
    def resume(run_dir: str | Path, *, budget: int | None = None) -> AskTellSession:
        """Reopen a run started with `Campaign.start` (takes its writer lock).

        Args:
            budget: raise the run's experiment budget to this total (recorded as
                `budget_extended`), e.g. to continue a finished run.

        Raises:
            ResumeRefused: the run was made by `sdl run` (simulator or rig): continue it
                with `sdl resume` instead. Nothing is recorded.
        """
        from sdl.provenance import EXTERNAL_DRIVER, describe

        s = Session.open(run_dir)
        try:
            driver = s.driver
            if driver.get("kind") not in ("external", "unknown"):
                raise ResumeRefused(
                    f"{s.run_dir} is driven by the {describe(driver)}, not from Python; "
                    f"continue it with `sdl resume {s.run_dir}` (nothing was changed)")
            st = s.state
            phase = "stopped" if st.stopped is not None else "crashed"
            if budget is not None:
                s.extend_budget(budget, by="Campaign.resume(budget=)")
            s.resumed(driver=dict(EXTERNAL_DRIVER), previous_phase=phase)
        except BaseException:
            s.close()
            raise
        return AskTellSession(s)


class AskTellSession:
    """An open run: `ask()` for new trials, `tell()` their results, then `close()` (or
    leave the `with` block) to record how it ended."""

    def __init__(self, session: Session):
        self._s = session
        self._closed = False

    @property
    def run_dir(self) -> Path:
        return self._s.run_dir

    @property
    def budget(self) -> int:
        """The experiment budget in force."""
        return self._s.budget

    def ask(self, n: int | None = None) -> list[Trial]:
        """Up to `n` new trials (default: the campaign's batch size); [] when the budget is
        used up. Trials are recorded as proposed and dispatched."""
        with warnings.catch_warnings():
            # Fitting GPs to a handful of points makes BoTorch/GPyTorch warn about every
            # fit (input scaling, jitter added); the decisions are recorded either way.
            warnings.simplefilter("ignore")
            trials = self._s.ask(n)
        for t in trials:
            self._s.dispatch(t.experiment_id)
        return trials

    def pending(self) -> list[Trial]:
        """Trials asked for but not yet told."""
        return [self._s.trial(e.experiment_id) for e in self._s.state.unfinished]

    def tell(self, experiment_id: str, outcomes: Mapping[str, Any] | None = None, *,
             raw: RawMeasurement | None = None, failure: tuple[str, str] | None = None,
             missing: Mapping[str, str] | None = None) -> None:
        """Report a trial's result, checked before anything is recorded.

        Give exactly one of:
            outcomes: name -> number or (value, stderr) for each of the campaign's outcomes
                (objectives and constrained outcomes); with `missing=` {name: reason} for
                those not measured.
            raw: a raw measurement, scored by the analysis core (saved as a raw file).
            failure: (kind, reason) when the run produced no sample.

        Raises:
            TellError: unknown outcome names, strings or booleans for numbers, a campaign
                outcome neither given nor explained by `missing=`. Nothing is recorded.
            RecordError: unknown experiment id, or the trial was already told.
        """
        from sdl.errors import TellError

        given = sum(x is not None for x in (outcomes, raw, failure))
        if given != 1 and not (given == 0 and missing):
            raise TellError("give exactly one of outcomes, raw= or failure= (with missing= "
                            "for outcomes not measured)")
        if raw is not None:
            if missing:
                raise TellError("missing= goes with outcomes, not with raw= (the analysis "
                                "says itself what a raw measurement cannot give)")
            self._s.tell_raw(experiment_id, raw)
        else:
            self._s.tell_outcomes(experiment_id, outcomes, failure=failure, missing=missing)

    def extend_budget(self, total: int) -> None:
        """Raise the experiment budget to `total` experiments (recorded as an event)."""
        self._s.extend_budget(total, by="AskTellSession.extend_budget")

    def close(self, *, error: BaseException | None = None) -> None:
        """Record `stopped` and release the run directory (idempotent).

        The reason is "budget" when the whole budget was asked and told, "caller_ended"
        otherwise (continue with `Campaign.resume`), or "error" when `error` is given.
        """
        if self._closed:
            return
        self._closed = True
        try:
            s = self._s
            st = s.state
            done, budget = len(st.completed), s.budget
            if error is not None:
                s.stop("error", f"{type(error).__name__}: {error}")
            elif s.budget_left() == 0 and not st.unfinished:
                s.stop("budget", f"{budget} experiments done")
            else:
                untold = len(st.unfinished)
                s.stop("caller_ended", f"the caller ended the session after {done} of {budget} "
                       f"experiments" + (f" ({untold} asked but not told)" if untold else ""))
        finally:
            self._s.close()

    def __enter__(self) -> AskTellSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        self.close(error=exc)
