"""A campaign session: one open run directory, its writer lock and its record.

The session is the only writer of the record. Its verbs follow the workflow:
`ask` (propose and record), `dispatch`, `tell_raw` (save the raw file, record `measured`,
score, record `scored` or `failed`), `tell_outcomes` (for labs driving their own hardware),
`reject`, `stop`. Every event is committed before the action it describes, which is what
makes `sdl resume` exactly-once: see `sdl.loop.recover`.

Randomness: the strategy's iteration index `k` and the campaign seed determine every
proposal through one function, `propose_batch(campaign, *proposal_inputs(state), k, n)`,
which `ask` (so `run` and `resume`) and `sdl replay --verify` share; the recorded
`history_ids` / `pending_ids` let replay rebuild the exact inputs.
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
from sdl.errors import RecordError, TellError
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
from sdl.schema.load import campaign_from_toml, rig_name
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


def proposal_inputs(state: RunState, seq: int | None = None
                    ) -> tuple[list[ExperimentState], list[ExperimentState]]:
    """(finished, pending) experiments as they stood just before event `seq` (None: now):
    what the proposal of the next batch is computed from (`propose_batch`).

    finished: terminal (scored or failed) experiments in the order they finished;
    pending: proposed experiments not terminal yet, in proposal order.
    """
    before = float("inf") if seq is None else seq
    finished = [e for e in state.completed if e.terminal_seq is not None and e.terminal_seq < before]
    pending = [e for e in state.experiments.values()
               if e.proposed_seq < before and not (e.terminal_seq is not None
                                                   and e.terminal_seq < before)]
    return finished, pending


def prior_inputs(state: RunState, seq: int | None = None) -> list[dict[str, Any]]:
    """The recorded `prior` events (as folded by `sdl.state`) that precede event `seq`
    (None: now): earlier experiments that seed the optimiser's history."""
    before = float("inf") if seq is None else seq
    return [p for p in state.priors if p["seq"] < before]


def propose_batch(campaign: Campaign, finished: list[ExperimentState],
                  pending: list[ExperimentState], k: int, n: int,
                  priors: list[dict[str, Any]] = ()):
    """The one proposal step, shared by `Session.ask` (hence `run` and `resume`) and
    `sdl replay --verify`: `surrogates.propose(campaign, prior rows + observations(finished),
    k, pending proposals, n)`. Returns (proposals, StrategyInfo)."""
    from surrogates import propose
    from surrogates.types import Proposal

    history = observations(campaign, finished)
    if priors:
        from sdl.prior import prior_observations

        history = prior_observations(list(priors)) + history
    pend = [Proposal(conditions=dict(e.conditions)) for e in pending]
    if campaign.strategy.related:
        from sdl.related import load_related  # reads the files once (cached)

        return propose(campaign, history, k, pend, n, related=load_related(campaign))
    return propose(campaign, history, k, pend, n)


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
               rig_kind: str = "simulator", budget: int | None = None,
               driver: dict[str, Any] | None = None) -> Session:
        """Start a new run directory from a campaign file (and optional rig file).

        Args:
            driver: what drives the run (`sdl.provenance`); by default derived from
                `rig_kind` ("simulator", "flowrig", "simulator-fallback", "external").
        """
        from sdl.schema.semantics import check_campaign

        campaign_text = Path(campaign_path).read_bytes()
        campaign = campaign_from_toml(campaign_text, str(campaign_path))
        check_campaign(campaign, str(campaign_path), budget=budget)
        rig_bytes = Path(rig_path).read_bytes() if rig_path is not None else None
        if driver is None:
            driver = _driver_for(rig_kind, campaign, rig_bytes)
        extra: dict[str, Any] = {}
        if campaign.strategy.related:  # transfer learning: what the proposals will depend on
            from sdl.related import related_digests

            extra["related"] = related_digests(campaign)
        run_dir = prepare_out_dir(out) if out else new_run_dir(base, campaign.name)
        lock = RunLock(run_dir).acquire()
        (run_dir / CAMPAIGN_NAME).write_bytes(campaign_text)
        if rig_bytes is not None:
            (run_dir / RIG_NAME).write_bytes(rig_bytes)
        record = Record(run_dir / RECORD_NAME)
        record.append(
            "campaign_started",
            campaign=campaign.model_dump(mode="json"),
            campaign_toml=campaign_text.decode("utf-8"),
            rig_toml=None if rig_bytes is None else rig_bytes.decode("utf-8"),
            rig_kind=rig_kind,
            driver=driver,
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
            campaign = campaign_from_toml(text, str(run_dir / CAMPAIGN_NAME))
        except BaseException:
            lock.release()
            raise
        return cls(run_dir, campaign, record, lock)

    @property
    def lock_note(self) -> str | None:
        """A line to show when a stale LOCK (dead writer) was reclaimed on opening."""
        return self._lock.note

    def close(self) -> None:
        """Close the record and release the writer lock (the LOCK file is removed)."""
        self.record.close()
        self._lock.release()

    @property
    def driver(self) -> dict[str, Any]:
        """What drives this run (its first session's driver, `sdl.provenance`)."""
        from sdl.provenance import driver_of_started

        return driver_of_started(self.state.started)

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
        n = min(n or self.campaign.strategy.batch, self.budget_left())
        if n <= 0:
            return []
        st = self.state
        finished, pending = proposal_inputs(st)
        k = st.next_k
        with self.timed("strategy"):
            proposals, info = propose_batch(self.campaign, finished, pending, k, n,
                                            priors=prior_inputs(st))
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
                      failure: tuple[str, str] | None = None,
                      missing: Mapping[str, str] | None = None) -> None:
        """Ask/tell for labs with their own hardware loop: report outcomes directly.

        Everything is checked before anything is recorded: on a `TellError` the record is
        unchanged.

        Args:
            outcomes: outcome name -> value or (value, stderr), numbers only, for this
                campaign's outcomes (objectives and constrained outcomes). A value without
                an error bar is recorded without one (stderr None), not as "± 0".
            failure: (kind, reason) instead of outcomes when the run produced no sample.
            missing: outcome name -> why it was not measured, for each of this campaign's
                outcomes not in `outcomes` (recorded as the marker `not_measured`).

        Raises:
            TellError: unknown names, non-numbers, a missing outcome without a reason.
            RecordError: no such experiment, or it is already scored/failed.
        """
        e = self._experiment(experiment_id)
        if e.done:
            raise RecordError(f"{experiment_id} is already {e.status}")
        if failure is not None:
            kind, reason = _check_failure(experiment_id, failure)
            if outcomes is not None or missing:
                raise TellError(f"tell({experiment_id!r}): give outcomes or failure=, not both")
            clean = {}
        else:
            clean = self._clean_outcomes(experiment_id, outcomes, missing)
        if e.status != "measured":
            self._append("measured", experiment_id, raw_file=None, sha256=None, failure=None,
                         source="external")
        if failure is not None:
            self._append("failed", experiment_id, kind=kind, reason=reason, detail="")
            return
        self._append("scored", experiment_id, outcomes=clean)

    def _clean_outcomes(self, experiment_id: str, outcomes: Mapping[str, Any] | None,
                        missing: Mapping[str, str] | None) -> dict[str, dict[str, Any]]:
        where = f"tell({experiment_id!r})"
        names = self.campaign.outcome_names
        allowed = ", ".join(names)
        if outcomes is None:
            outcomes = {}
        if not isinstance(outcomes, Mapping):
            raise TellError(f"{where}: outcomes must be a mapping name -> value or (value, "
                            f"stderr), got {type(outcomes).__name__}")
        if missing is not None and not isinstance(missing, Mapping):
            raise TellError(f"{where}: missing= must be a mapping outcome name -> reason")
        missing = dict(missing or {})
        for name in [*outcomes, *missing]:
            if name not in names:
                raise TellError(f"{where}: outcome {name!r} is not in this campaign; "
                                f"allowed: {allowed}")
        clean: dict[str, dict[str, Any]] = {}
        for name, v in outcomes.items():
            if name in missing:
                raise TellError(f"{where}: {name!r} is given both a value and a missing= reason")
            clean[name] = _estimate(where, name, v)
        for name, why in missing.items():
            if not isinstance(why, str) or not why.strip():
                raise TellError(f"{where}: missing[{name!r}] needs a reason (a non-empty "
                                f"string), got {why!r}")
            clean[name] = {"no_outcome": "not_measured", "detail": why.strip()}
        absent = [n for n in names if n not in clean]
        if absent:
            raise TellError(
                f"{where}: no value for {', '.join(absent)}; give "
                f"{'it' if len(absent) == 1 else 'them'}, or missing={{{absent[0]!r}: 'why'}} "
                "for each one not measured, or failure=(kind, reason) if the run produced "
                "no sample")
        return {n: clean[n] for n in names}

    def add_prior(self, prior: Any) -> None:
        """Record earlier experiments (a `sdl.prior.PriorData`) as optimiser history; only
        before the first proposal, so every decision of the run sees the same priors."""
        if self.state.experiments:
            raise RecordError("prior data can only be added before the first proposal")
        self._append("prior", **prior.payload())

    def safe_state_recorded(self, detail: str) -> None:
        self._append("safe_state", detail=detail)

    def resumed(self, *, driver: dict[str, Any], previous_phase: str) -> None:
        """Record the start of a new session: what drives it (`sdl.provenance`), the phase
        the run was left in, and how far it had got (experiments completed, the ids of
        the unfinished ones)."""
        self._append("resumed", driver=driver, previous_phase=previous_phase,
                     experiments_completed=len(self.state.completed),
                     unfinished=[e.experiment_id for e in self.state.unfinished])

    def extend_budget(self, total: int, *, by: str) -> None:
        """Raise the experiment budget to `total` (recorded as `budget_extended`).

        Raises:
            RecordError: `total` is not above the budget in force.
        """
        if isinstance(total, bool) or not isinstance(total, int):
            raise RecordError(f"budget must be a whole number of experiments, got {total!r}")
        if total <= self.budget:
            raise RecordError(
                f"budget {total} is not above this run's budget of {self.budget} "
                f"({len(self.state.experiments)} proposed); give the new total, e.g. "
                f"{self.budget + 10}")
        self._append("budget_extended", from_experiments=self.budget, to_experiments=int(total),
                     by=by)

    def rig_changed(self, rig_bytes: bytes, rig_name: str, *, reason: str) -> None:
        """Record that the run continues on another rig file (`sdl resume --rig NEW`) and
        write it as the run directory's rig.toml."""
        from sdl.provenance import expected_rig, sha256_bytes

        _, old_sha, _ = expected_rig(self.record.events())
        self._append("rig_changed", from_sha256=old_sha, to_sha256=sha256_bytes(rig_bytes),
                     rig_name=rig_name, rig_toml=rig_bytes.decode("utf-8"), reason=reason)
        (self.run_dir / RIG_NAME).write_bytes(rig_bytes)

    def identify_rig(self, devices: Mapping[str, str] | None) -> None:
        """Check the identities of the devices answering now against the record.

        The first identification of a hardware run is recorded (`rig_identified`); later
        ones must match it, unless a `rig_changed` event came in between.

        Raises:
            RigIdentityChanged: other devices answer than the ones the run was started on.
        """
        from sdl.errors import RigIdentityChanged
        from sdl.provenance import _diff, expected_rig, same_devices

        if devices is None or self.driver.get("kind") != "hardware":
            return
        devices = {str(k): str(v) for k, v in devices.items()}
        _, _, expected = expected_rig(self.record.events())
        first_session = len(self.state.session_starts) == 1
        if expected is not None and not first_session and not same_devices(expected, devices):
            raise RigIdentityChanged(
                f"the devices answering are not the ones this run was recorded with "
                f"({_diff(expected, devices)}); if the rig was changed on purpose, continue "
                f"with `sdl resume {self.run_dir} --rig RIG.toml` to record the change")
        if expected != devices:
            # first identification, or prepare() read more than the probe did
            self._append("rig_identified", devices=devices)

    def stop(self, reason: str, detail: str = "") -> None:
        self._append("stopped", reason=reason, detail=detail,
                     experiments_completed=len(self.state.completed),
                     seconds_by_stage={k: round(v, 6) for k, v in sorted(self.timings.items())})

    def _experiment(self, experiment_id: str) -> ExperimentState:
        try:
            return self.state.experiments[experiment_id]
        except KeyError:
            raise RecordError(f"no experiment {experiment_id!r} in this run") from None


def _estimate(where: str, name: str, v: Any) -> dict[str, Any]:
    """{"value", "stderr"} from a number or a (value, stderr) pair; TellError otherwise."""
    if isinstance(v, tuple | list):
        if len(v) != 2:
            raise TellError(f"{where}: {name} = {v!r}: expected a number or (value, stderr)")
        value = _number(where, name, v[0], "value")
        se = _number(where, name, v[1], "stderr")
        if se < 0:
            raise TellError(f"{where}: {name} stderr = {se!r}: must be >= 0")
        return {"value": value, "stderr": se}
    return {"value": _number(where, name, v, "value"), "stderr": None}


def _number(where: str, name: str, x: Any, what: str) -> float:
    import math
    import numbers

    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TellError(f"{where}: {name} {what} = {x!r}: expected a number, not "
                        f"{type(x).__name__} (no strings or booleans)")
    x = float(x)
    if not math.isfinite(x):
        raise TellError(f"{where}: {name} {what} = {x!r}: must be finite; for an outcome not "
                        f"measured use missing={{{name!r}: 'why'}}")
    return x


def _check_failure(experiment_id: str, failure: Any) -> tuple[str, str]:
    ok = (isinstance(failure, tuple | list) and len(failure) == 2
          and all(isinstance(x, str) and x.strip() for x in failure))
    if not ok:
        raise TellError(f"tell({experiment_id!r}): failure= must be (kind, reason), two "
                        f"non-empty strings, e.g. ('clog', 'clog:observed'); got {failure!r}")
    return failure[0].strip(), failure[1].strip()


def _driver_for(rig_kind: str, campaign: Campaign, rig_bytes: bytes | None) -> dict[str, Any]:
    from sdl.provenance import EXTERNAL_DRIVER, hardware_driver, sha256_bytes, simulator_driver

    material, seed = campaign.campaign.material, campaign.seed
    if rig_kind == "external":
        return dict(EXTERNAL_DRIVER)
    if rig_kind == "flowrig" and rig_bytes is not None:
        return hardware_driver(rig_bytes, rig_name(rig_bytes), None)
    if rig_kind == "simulator-fallback":
        return simulator_driver(material, seed, fallback_reason="--fallback-to-simulator",
                                fallback_for_rig_sha256=sha256_bytes(rig_bytes or b""))
    return simulator_driver(material, seed)


def _failure_dict(raw: RawMeasurement) -> dict[str, str] | None:
    f = raw.failure
    return None if f is None else {"kind": f.kind, "reason": f.reason, "detail": f.detail}


def _info_dict(info: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(info)
