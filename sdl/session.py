"""A campaign session: one open run directory, its writer lock and its record.

The session is the only writer of the record. Its verbs follow the workflow:
`ask` (propose and record), `dispatch`, `tell_raw` (save the raw file, record `measured`,
score, record `scored` or `failed`), `tell_outcomes` (for labs driving their own hardware),
`reject`, `stop`. Every event is committed before the action it describes, which is what
makes `sdl resume` exactly-once: see `sdl.loop.recover`.

Randomness: the strategy's iteration index `k` and the campaign seed determine every
proposal (`surrogates.propose(campaign, history, k, pending, n)`), and the recorded
`history_ids` / `pending_ids` let `sdl replay --verify` rebuild the exact inputs.
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from collections import defaultdict
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdl.critical import critical
from sdl.errors import RecordError
from sdl.record import Record
from sdl.rundir import (
    CAMPAIGN_NAME,
    RAW_DIR,
    RECORD_NAME,
    RIG_NAME,
    RunLock,
    new_run_dir,
    prepare_out_dir,
    require_run_dir,
)
from sdl.schema.campaign import Campaign
from sdl.schema.load import campaign_from_dict, parse_toml_bytes
from sdl.state import ExperimentState, RunState, apply_event, fold
from sdl.vocab.conditions import complete
from sdl.vocab.measurement import RawMeasurement

VERSIONED_PACKAGES = ("qd-sdl", "torch", "botorch", "gpytorch", "numpy", "scipy", "numba",
                      "h5py", "pydantic")


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass(frozen=True)
class Trial:
    """An experiment to run: the optimiser's parameter values and the complete conditions."""

    experiment_id: str
    conditions: dict[str, Any]
    full_conditions: dict[str, Any]


def observations(campaign: Campaign, experiments: list[ExperimentState]):
    """Optimiser history from terminal experiments (in the order they finished)."""
    from surrogates.types import Observation

    objective_names = [o.name for o in campaign.objectives]
    obs = []
    for e in experiments:
        outcomes = {
            name: (float(o["value"]), float(o["stderr"]) if o.get("stderr") is not None else 0.0)
            for name, o in e.outcomes.items()
            if o.get("value") is not None
        }
        failed = e.status == "failed"
        kind = (e.failure or {}).get("kind") if failed else None
        if not failed and not any(n in outcomes for n in objective_names):
            failed, kind = True, "unviable"
        obs.append(Observation(experiment_id=e.experiment_id, conditions=dict(e.conditions),
                               outcomes={} if failed else outcomes, failed=failed,
                               failure_kind=kind))
    return obs


def history_before(state: RunState, seq: int) -> tuple[list[ExperimentState], list[ExperimentState]]:
    """(finished, pending) experiments as they stood just before event `seq`."""
    finished = [e for e in state.completed if e.terminal_seq is not None and e.terminal_seq < seq]
    pending = [e for e in state.experiments.values()
               if e.proposed_seq < seq and not (e.terminal_seq is not None and e.terminal_seq < seq)]
    return finished, pending


class Session:
    """An open run directory (holding its lock). Use `Session.create` or `Session.open`."""

    def __init__(self, run_dir: Path, campaign: Campaign, record: Record, lock: RunLock):
        self.run_dir = run_dir
        self.campaign = campaign
        self.record = record
        self._lock = lock
        self.state = fold(record.events())
        # Seconds spent per stage in this process: strategy, rig, analysis, record.
        self.timings: dict[str, float] = defaultdict(float)

    @contextmanager
    def timed(self, stage: str):
        """Add the wall time of the block to `timings[stage]`."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] += time.perf_counter() - t0

    # --- opening ---------------------------------------------------------------------
    @classmethod
    def create(cls, campaign_path: str | Path, *, out: str | Path | None = None,
               base: str | Path = "runs", rig_path: str | Path | None = None,
               rig_kind: str = "simulator", budget: int | None = None) -> Session:
        """Start a new run directory from a campaign file (and optional rig file)."""
        campaign_text = Path(campaign_path).read_bytes()
        campaign = campaign_from_dict(parse_toml_bytes(campaign_text, str(campaign_path)),
                                      str(campaign_path))
        extra: dict[str, Any] = {}
        if campaign.strategy.related:  # transfer learning: what the proposals will depend on
            from sdl.related import related_digests

            extra["related"] = related_digests(campaign)
        run_dir = prepare_out_dir(out) if out else new_run_dir(base, campaign.name)
        lock = RunLock(run_dir).acquire()
        (run_dir / CAMPAIGN_NAME).write_bytes(campaign_text)
        rig_text = None
        if rig_path is not None:
            rig_text = Path(rig_path).read_text()
            (run_dir / RIG_NAME).write_text(rig_text)
        record = Record(run_dir / RECORD_NAME)
        record.append(
            "campaign_started",
            campaign=campaign.model_dump(mode="json"),
            campaign_toml=campaign_text.decode("utf-8"),
            rig_toml=rig_text,
            rig_kind=rig_kind,
            seed=campaign.seed,
            budget_experiments=int(budget or campaign.budget.experiments),
            versions=library_versions(),
            **extra,
        )
        return cls(run_dir, campaign, record, lock)

    @classmethod
    def open(cls, run_dir: str | Path) -> Session:
        """Open an existing run directory for writing (resume); takes the lock."""
        run_dir = require_run_dir(run_dir)
        lock = RunLock(run_dir).acquire()
        try:
            record = Record(run_dir / RECORD_NAME)
            first = next(iter(record.events()), None)
            if first is None or first.kind != "campaign_started":
                raise RecordError(f"{run_dir}: the record has no campaign_started event")
            text = first.payload["campaign_toml"]
            campaign = campaign_from_dict(parse_toml_bytes(text.encode(), str(run_dir / CAMPAIGN_NAME)))
        except BaseException:
            lock.release()
            raise
        return cls(run_dir, campaign, record, lock)

    def close(self) -> None:
        self.record.close()
        self._lock.release()

    # --- record plumbing -------------------------------------------------------------
    def _append(self, kind: str, experiment_id: str | None = None, /, **payload: Any) -> None:
        with self.timed("record"), critical():  # record and state move together
            apply_event(self.state, self.record.append(kind, experiment_id, **payload))

    @property
    def budget(self) -> int:
        return self.state.budget

    @property
    def proposed_count(self) -> int:
        return len(self.state.experiments)

    def budget_left(self) -> int:
        return max(0, self.budget - self.proposed_count)

    def next_id(self) -> str:
        return f"e{self.proposed_count + 1:04d}"

    # --- the workflow ----------------------------------------------------------------
    def ask(self, n: int | None = None) -> list[Trial]:
        """Propose up to `n` (default: the campaign's batch) new experiments and record
        them as `proposed`. Returns [] when the experiment budget is used up."""
        from surrogates import propose

        n = min(n or self.campaign.strategy.batch, self.budget_left())
        if n <= 0:
            return []
        st = self.state
        finished = st.completed
        pending = st.unfinished
        history = observations(self.campaign, finished)
        from surrogates.types import Proposal

        pend = [Proposal(conditions=dict(e.conditions)) for e in pending]
        k = st.next_k
        with self.timed("strategy"):
            proposals, info = propose(self.campaign, history, k, pend, n)
        trials = []
        for i, prop in enumerate(proposals[:n]):
            eid = self.next_id()
            full = complete({**self.campaign.fixed, **prop.conditions})
            self._append(
                "proposed", eid, k=k, batch_index=i, n=n,
                conditions=dict(prop.conditions), full_conditions=full,
                history_ids=[e.experiment_id for e in finished],
                pending_ids=[e.experiment_id for e in pending],
                strategy_info=_info_dict(info) if i == 0 else None,
            )
            trials.append(Trial(eid, dict(prop.conditions), full))
        return trials

    def trial(self, experiment_id: str) -> Trial:
        e = self._experiment(experiment_id)
        return Trial(e.experiment_id, dict(e.conditions), dict(e.full_conditions))

    def dispatch(self, experiment_id: str) -> int:
        """Record that the experiment is about to run; returns the attempt number."""
        e = self._experiment(experiment_id)
        if e.done:
            raise RecordError(f"{experiment_id} is already {e.status}")
        attempt = e.attempts + 1
        self._append("dispatched", experiment_id, attempt=attempt, retry=attempt > 1)
        return attempt

    def reject(self, experiment_id: str, problems: list[str]) -> None:
        """Record a proposal refused by the safety check (no device moved)."""
        self._append("failed", experiment_id, kind="rejected", reason="safety:limits",
                     detail="; ".join(problems))

    def tell_raw(self, experiment_id: str, raw: RawMeasurement) -> dict[str, Any]:
        """Save the raw measurement, record `measured`, then score it (see `score`)."""
        from sdl.rawfile import save_raw

        e = self._experiment(experiment_id)
        if e.status not in ("proposed", "dispatched"):
            raise RecordError(f"{experiment_id} is {e.status}; cannot record a measurement")
        rel = f"{RAW_DIR}/{experiment_id}.h5"
        (self.run_dir / RAW_DIR).mkdir(exist_ok=True)
        with self.timed("record"):
            digest = save_raw(raw, self.run_dir / rel)
        self._append("measured", experiment_id, raw_file=rel, sha256=digest,
                     failure=_failure_dict(raw))
        return self.score(experiment_id, raw)

    def score(self, experiment_id: str, raw: RawMeasurement | None = None) -> dict[str, Any]:
        """Score a measured experiment (from `raw`, or from its raw file after a crash)
        and record `scored`, or `failed` when the rig reported a failure."""
        e = self._experiment(experiment_id)
        if e.status != "measured":
            raise RecordError(f"{experiment_id} is {e.status}, not measured")
        if raw is None:
            from sdl.rawfile import load_raw

            raw = load_raw(self.run_dir / e.raw_file, expected_sha256=e.sha256)
        if raw.failure is not None:
            f = _failure_dict(raw)
            self._append("failed", experiment_id, **f)
            return {"failure": f}
        from sdl.scoring import score_raw

        with self.timed("analysis"):
            outcomes = score_raw(raw, self.campaign)
        self._append("scored", experiment_id, outcomes=outcomes)
        return outcomes

    def tell_outcomes(self, experiment_id: str, outcomes: Mapping[str, Any] | None = None, *,
                      failure: tuple[str, str] | None = None) -> None:
        """Ask/tell for labs with their own hardware loop: report outcomes directly.

        Args:
            outcomes: name -> value or (value, stderr) for this campaign's outcome names.
            failure: (kind, reason) instead of outcomes when the run produced no sample.
        """
        e = self._experiment(experiment_id)
        if e.done:
            raise RecordError(f"{experiment_id} is already {e.status}")
        clean = self._clean_outcomes(outcomes) if failure is None else {}
        if e.status != "measured":
            self._append("measured", experiment_id, raw_file=None, sha256=None, failure=None,
                         source="external")
        if failure is not None:
            self._append("failed", experiment_id, kind=failure[0], reason=failure[1], detail="")
            return
        self._append("scored", experiment_id, outcomes=clean)

    def _clean_outcomes(self, outcomes: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
        clean = {}
        for name, v in (outcomes or {}).items():
            if name not in self.campaign.outcome_names:
                raise RecordError(f"outcome {name!r} is not in this campaign "
                                  f"({', '.join(self.campaign.outcome_names)})")
            value, se = (v if isinstance(v, tuple | list) else (v, 0.0))
            clean[name] = {"value": float(value), "stderr": float(se)}
        return clean

    def safe_state_recorded(self, detail: str) -> None:
        self._append("safe_state", detail=detail)

    def resumed(self, **payload: Any) -> None:
        self._append("resumed", **payload)

    def stop(self, reason: str, detail: str = "") -> None:
        self._append("stopped", reason=reason, detail=detail,
                     experiments_completed=len(self.state.completed),
                     seconds_by_stage={k: round(v, 6) for k, v in sorted(self.timings.items())})

    def _experiment(self, experiment_id: str) -> ExperimentState:
        try:
            return self.state.experiments[experiment_id]
        except KeyError:
            raise RecordError(f"no experiment {experiment_id!r} in this run") from None


def _failure_dict(raw: RawMeasurement) -> dict[str, str] | None:
    f = raw.failure
    return None if f is None else {"kind": f.kind, "reason": f.reason, "detail": f.detail}


def _info_dict(info: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(info)
