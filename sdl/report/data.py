"""What the report shows, gathered from a run directory without altering it.

`gather(run_dir)` reads the record read-only (`Record(path, readonly=True)`), folds it
with `sdl.state.fold` and adds what only the report needs: desirability utilities
(`sdl.utility`), the best experiments, failure counts, per-experiment durations
(dispatched -> measured) and the strategy's fit/propose seconds (`proposed` events'
`strategy_info`). Works while a run is live: SQLite WAL readers never block the writer,
and the snapshot is the record as committed when the report started.
"""

from __future__ import annotations

import math
import shlex
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sdl.errors import CampaignError, RecordError
from sdl.record import Event, Record
from sdl.rundir import RECORD_NAME, is_locked, require_run_dir
from sdl.schema.campaign import Campaign
from sdl.state import ExperimentState, RunState, fold, run_phase
from sdl.utility import best_index, feasible, target_reached, utilities

TOP_N = 3  # experiments whose spectra are shown


@dataclass
class StrategyRow:
    """Diagnostics of one `propose` call (the first `proposed` event of a batch)."""

    k: int
    experiment_id: str
    strategy: str
    fit_seconds: float | None
    propose_seconds: float | None
    info: dict[str, Any] = field(default_factory=dict)  # the whole strategy_info


@dataclass
class ReportData:
    """Everything the HTML and the plots need (plain data; no matplotlib here)."""

    run_dir: Path
    generated_at: datetime
    live: bool
    phase: str
    state: RunState
    campaign: Campaign | None
    campaign_note: str = ""
    scored: list[ExperimentState] = field(default_factory=list)  # completion order
    utility: dict[str, float] = field(default_factory=dict)  # scored experiment id -> [0, 1]
    best: ExperimentState | None = None
    top: list[ExperimentState] = field(default_factory=list)
    has_target: bool = False
    target_hit: ExperimentState | None = None
    failures: Counter = field(default_factory=Counter)  # reason -> count
    failure_kinds: dict[str, str] = field(default_factory=dict)  # reason -> kind
    durations_s: dict[str, float] = field(default_factory=dict)  # id -> dispatched..measured
    strategy_rows: list[StrategyRow] = field(default_factory=list)
    active_seconds: float = 0.0
    recommendation: str = ""
    last_event: Event | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)  # summed over sessions
    raw_cache: dict[str, tuple[Any, str]] = field(default_factory=dict, repr=False)

    @property
    def experiments(self) -> list[ExperimentState]:
        """All proposed experiments, in proposal order."""
        return sorted(self.state.experiments.values(), key=lambda e: e.proposed_seq)

    @property
    def n_failed(self) -> int:
        return sum(self.failures.values())

    @property
    def n_unfinished(self) -> int:
        return len(self.state.unfinished)


def gather(run_dir: str | Path, *, now: datetime | None = None) -> ReportData:
    """Read the run directory `run_dir` (never writing to it) into a `ReportData`.

    Raises:
        RecordError: not a run directory, or an unreadable record.
    """
    run_dir = require_run_dir(run_dir)
    live = is_locked(run_dir)
    with Record(run_dir / RECORD_NAME, readonly=True) as record:
        events = list(record.events())
    state = fold(events)
    now = now or datetime.now(UTC)
    data = ReportData(run_dir=run_dir, generated_at=now, live=live,
                      phase=run_phase(state, live), state=state, campaign=None,
                      last_event=events[-1] if events else None)
    if state.started is None:
        data.recommendation = ("Nothing recorded yet: the record has no campaign_started "
                               "event." + (" A writer holds the lock; try again shortly."
                                           if live else ""))
        return data
    data.campaign, data.campaign_note = _campaign(state.started, run_dir)
    data.active_seconds = state.active_seconds(now if live else None)
    _durations_and_strategy(events, data)
    for e in state.completed:
        if e.status == "failed":
            f = e.failure or {}
            reason = str(f.get("reason") or f.get("kind") or "unknown")
            data.failures[reason] += 1
            data.failure_kinds.setdefault(reason, str(f.get("kind") or "unknown"))
    data.scored = [e for e in state.completed if e.status == "scored"]
    if data.campaign is not None:
        _rank(data, data.campaign)
    data.recommendation = recommendation(data)
    return data


def _campaign(started: dict[str, Any], run_dir: Path) -> tuple[Campaign | None, str]:
    """The campaign frozen in the record (its TOML text), or None with a note."""
    from sdl.schema.load import campaign_from_dict, campaign_from_toml

    where = f"{run_dir / RECORD_NAME} (campaign_started)"
    try:
        text = started.get("campaign_toml")
        if isinstance(text, str):
            return campaign_from_toml(text, where), ""
        return campaign_from_dict(started["campaign"], where), ""
    except (CampaignError, KeyError, TypeError) as e:
        return None, f"the recorded campaign cannot be read ({e}); utilities are not shown"


def _durations_and_strategy(events: list[Event], data: ReportData) -> None:
    dispatched: dict[str, datetime] = {}
    for ev in events:
        eid = ev.experiment_id
        if ev.kind == "proposed" and isinstance(ev.payload.get("strategy_info"), dict):
            info = ev.payload["strategy_info"]
            data.strategy_rows.append(StrategyRow(
                k=int(ev.payload.get("k", 0)), experiment_id=str(eid),
                strategy=str(info.get("strategy", "?")),
                fit_seconds=_num(info.get("fit_seconds")),
                propose_seconds=_num(info.get("propose_seconds")), info=info))
        elif ev.kind == "stopped" and isinstance(ev.payload.get("seconds_by_stage"), dict):
            for stage, sec in ev.payload["seconds_by_stage"].items():
                if (v := _num(sec)) is not None:
                    data.stage_seconds[str(stage)] = data.stage_seconds.get(str(stage), 0.0) + v
        elif ev.kind == "dispatched" and eid is not None:
            dispatched[eid] = _ts(ev.ts)  # the last attempt counts
        elif ev.kind in ("measured", "scored", "failed") and eid in dispatched:
            # measured closes the interval; a scored/failed without measured (ask/tell
            # labs reporting outcomes, or a failure) closes it too.
            if eid not in data.durations_s:
                data.durations_s[eid] = max(0.0, (_ts(ev.ts) - dispatched[eid]).total_seconds())


def _rank(data: ReportData, campaign: Campaign) -> None:
    outcome_sets = [e.outcomes for e in data.scored]
    u = utilities(campaign, outcome_sets)
    data.utility = {e.experiment_id: ui for e, ui in zip(data.scored, u, strict=True)}
    i = best_index(campaign, outcome_sets, [e.conditions for e in data.scored])
    data.best = data.scored[i] if i is not None else None
    order = sorted(range(len(u)), key=lambda j: (-u[j], j))
    data.top = [data.scored[j] for j in order if u[j] > 0.0][:TOP_N]
    data.has_target = any(o.goal == "target" for o in campaign.objectives)
    data.target_hit = next((e for e in data.scored if target_reached(campaign, e.outcomes)), None)


def recommendation(data: ReportData) -> str:
    """One line telling the user what to do next."""
    where = shlex.quote(str(data.run_dir))
    st = data.state
    stopped = st.stopped or {}
    reason = stopped.get("reason")
    if data.phase == "running":
        line = ("A run is in progress (a writer holds the lock); this report is a snapshot. "
                f"Run `sdl report {where}` again for an update.")
    elif data.phase == "crashed":
        line = (f"The run ended without a clean stop (crash, power loss or kill -9); "
                f"continue with {_continue(st, where)}.")
    elif data.phase == "stopped":
        detail = f" ({stopped.get('detail')})" if stopped.get("detail") else ""
        line = f"The run was stopped: {reason}{detail}; continue with {_continue(st, where)}."
    elif reason == "target_reached":
        hit = data.target_hit.experiment_id if data.target_hit else "an experiment"
        line = (f"Target reached by {hit}; repeat its conditions to confirm before "
                "scaling up.")
    elif reason == "hours":
        line = ("Complete: the time budget is used up. For more experiments start a new run "
                "(`sdl run CAMPAIGN --budget N`).")
    else:
        line = ("Complete: the experiment budget is used up. For more experiments extend it: "
                f"{_continue(st, where, extend=True)}.")
    done = len(st.completed)
    if done and data.n_failed * 3 >= done and data.n_failed >= 2:
        top_reason, n = data.failures.most_common(1)[0]
        line += (f" Check the rig first: {data.n_failed} of {done} experiments failed "
                 f"(most often {top_reason}, {n}x).")
    return line


def _continue(st: RunState, where: str, extend: bool = False) -> str:
    """How to continue (or extend) this run with the driver that made it."""
    from sdl.provenance import driver_of_started

    if driver_of_started(st.started).get("kind") == "external":
        return (f"`Campaign.resume({where!r}, budget=N)` in Python" if extend
                else f"`Campaign.resume({where!r})` in Python (sdl.api)")
    return f"`sdl resume {where} --budget N`" if extend else f"`sdl resume {where}`"


def objective_values(campaign: Campaign, e: ExperimentState) -> dict[str, float]:
    """Finite objective values of a scored experiment."""
    out = {}
    for o in campaign.objectives:
        v = value_of(e.outcomes, o.name)
        if v is not None:
            out[o.name] = v
    return out


def value_of(outcomes: dict[str, Any], name: str) -> float | None:
    o = outcomes.get(name)
    if not isinstance(o, dict):
        return None
    return _num(o.get("value"))


def stderr_of(outcomes: dict[str, Any], name: str) -> float | None:
    o = outcomes.get(name)
    return _num(o.get("stderr")) if isinstance(o, dict) else None


def is_feasible(campaign: Campaign, e: ExperimentState) -> bool:
    return feasible(campaign, e.outcomes)


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ts(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise RecordError(f"unreadable event timestamp {text!r} in the record") from None
