"""Fold a record's events into the state of a run: one pure function, used by the loop,
resume, replay, status and report alike.

An experiment goes proposed -> dispatched -> measured -> scored | failed (a `failed` may
also follow `proposed` directly when the safety check rejects it). A `dispatched` event
after an earlier one for the same id is a recorded retry (after a crash the sample was
never measured).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sdl.record import Event

TERMINAL = ("scored", "failed")


@dataclass
class ExperimentState:
    experiment_id: str
    k: int
    batch_index: int
    conditions: dict[str, Any]  # campaign parameters only (what the optimiser chose)
    full_conditions: dict[str, Any]  # what the rig ran: parameters + fixed + defaults
    proposed_seq: int
    status: str = "proposed"
    attempts: int = 0
    raw_file: str | None = None
    sha256: str | None = None
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: dict[str, Any] | None = None
    terminal_seq: int | None = None
    dispatched_at: str | None = None  # timestamp of the latest dispatch
    measured_at: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


@dataclass
class RunState:
    started: dict[str, Any] | None = None
    experiments: dict[str, ExperimentState] = field(default_factory=dict)
    terminal_order: list[str] = field(default_factory=list)
    stopped: dict[str, Any] | None = None  # payload of the last `stopped` event, if it is last
    session_starts: list[str] = field(default_factory=list)
    session_ends: list[datetime | None] = field(default_factory=list)  # last event before each resume
    last_ts: str | None = None
    n_events: int = 0
    safe_states: int = 0
    budget_extensions: list[dict[str, Any]] = field(default_factory=list)  # budget_extended payloads
    priors: list[dict[str, Any]] = field(default_factory=list)  # {"seq", "source", "rows", ...}

    @property
    def next_k(self) -> int:
        return 1 + max((e.k for e in self.experiments.values()), default=-1)

    @property
    def budget(self) -> int:
        """The experiment budget in force: the started one, or the latest extension."""
        if self.budget_extensions:
            return int(self.budget_extensions[-1]["to_experiments"])
        return int(self.started["budget_experiments"]) if self.started else 0

    @property
    def completed(self) -> list[ExperimentState]:
        return [self.experiments[i] for i in self.terminal_order]

    @property
    def unfinished(self) -> list[ExperimentState]:
        return [e for e in self.experiments.values() if not e.done]

    def active_seconds(self, now: datetime | None = None) -> float:
        """Wall time spent running, summed over sessions (gaps between a crash and
        `sdl resume` do not count)."""
        if not self.session_starts:
            return 0.0
        total = 0.0
        bounds = [datetime.fromisoformat(t) for t in self.session_starts]
        ends = self.session_ends
        for i, start in enumerate(bounds):
            end = ends[i] if i < len(ends) and ends[i] is not None else None
            if end is None:
                end = now if (now is not None and i == len(bounds) - 1) else (
                    datetime.fromisoformat(self.last_ts) if self.last_ts else start)
            total += max(0.0, (end - start).total_seconds())
        return total


def fold(events: Iterable[Event]) -> RunState:
    """Build the RunState from events in seq order."""
    st = RunState()
    for ev in events:
        apply_event(st, ev)
    return st


def apply_event(st: RunState, ev: Event) -> RunState:
    """Fold one more event (the next in seq order) into `st`, in place; returns `st`.

    `fold(events)` is `apply_event` over the events from an empty `RunState`; a writer
    keeps its state current with one call per append (O(1) per event, not a re-fold).
    """
    prev_ts = st.last_ts
    st.n_events += 1
    p = ev.payload
    if ev.kind == "campaign_started":
        st.started = p
        st.session_starts.append(ev.ts)
    elif ev.kind == "resumed":
        st.session_ends.append(datetime.fromisoformat(prev_ts) if prev_ts else None)
        st.session_starts.append(ev.ts)
    elif ev.kind == "proposed":
        eid = ev.experiment_id
        st.experiments[eid] = ExperimentState(
            experiment_id=eid, k=int(p["k"]), batch_index=int(p.get("batch_index", 0)),
            conditions=p["conditions"], full_conditions=p["full_conditions"],
            proposed_seq=ev.seq,
        )
    elif ev.kind in ("dispatched", "measured", "scored", "failed") and ev.experiment_id in st.experiments:
        e = st.experiments[ev.experiment_id]
        if ev.kind == "dispatched":
            e.status = "dispatched"
            e.attempts += 1
            e.dispatched_at = ev.ts
        elif ev.kind == "measured":
            e.status = "measured"
            e.raw_file, e.sha256 = p.get("raw_file"), p.get("sha256")
            e.measured_at = ev.ts
        else:
            e.status = ev.kind
            e.terminal_seq = ev.seq
            if ev.kind == "scored":
                e.outcomes = p.get("outcomes", {})
            else:
                e.failure = {k: p.get(k) for k in ("kind", "reason", "detail")}
            if ev.experiment_id not in st.terminal_order:
                st.terminal_order.append(ev.experiment_id)
    elif ev.kind == "safe_state":
        st.safe_states += 1
    elif ev.kind == "budget_extended":
        st.budget_extensions.append(p)
    elif ev.kind == "prior":  # seeding data (sdl.prior): history, never experiments
        st.priors.append({"seq": ev.seq, **p})
    if ev.kind == "stopped":
        st.stopped = p
    elif ev.kind not in ("safe_state",):
        st.stopped = None
    st.last_ts = ev.ts
    return st


def run_phase(st: RunState, live: bool) -> str:
    """'running' (a writer holds the lock), 'complete', 'stopped' (interrupted or failed,
    resumable), 'crashed' (no stopped event and no writer), or 'empty'."""
    if st.started is None:
        return "empty"
    if live:
        return "running"
    if st.stopped is None:
        return "crashed"
    return "complete" if st.stopped.get("reason") in COMPLETE_REASONS else "stopped"


#: `stopped` reasons after which a run is complete (anything else can be continued).
COMPLETE_REASONS = ("budget", "target_reached", "hours")
