"""Replay a run: recompute every decision from the recorded history (`verify`) and
re-score raw files with the current analysis (`rescore`). Read-only."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdl.record import Record
from sdl.rundir import RECORD_NAME, require_run_dir
from sdl.schema.load import campaign_from_toml
from sdl.session import prior_inputs, proposal_inputs, propose_batch
from sdl.state import fold


@dataclass
class VerifyResult:
    decisions: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    versions_recorded: dict[str, str] = field(default_factory=dict)
    versions_now: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        changed = {k: [v, self.versions_now.get(k)] for k, v in self.versions_recorded.items()
                   if self.versions_now.get(k) != v}
        return {"decisions": self.decisions, "differences": self.differences,
                "identical": not self.differences, "library_versions_changed": changed}


def _load(run_dir: Path):
    with Record(run_dir / RECORD_NAME, readonly=True) as rec:
        events = list(rec.events())
    state = fold(events)
    if state.started is None:
        from sdl.errors import RecordError

        raise RecordError(f"{run_dir}: the record has no campaign_started event")
    campaign = campaign_from_toml(state.started["campaign_toml"])
    return events, state, campaign


def verify(run_dir: str | Path) -> VerifyResult:
    """Recompute every recorded batch through the proposal step the loop used
    (`sdl.session.propose_batch` on `proposal_inputs` just before the batch) and compare."""
    from sdl.session import library_versions

    run_dir = require_run_dir(run_dir)
    events, state, campaign = _load(run_dir)
    res = VerifyResult(versions_recorded=state.started.get("versions", {}),
                       versions_now=library_versions())
    if campaign.strategy.related or state.started.get("related"):
        from sdl.related import check_related

        problems = check_related(state.started.get("related"), campaign)
        if problems:  # the proposals depended on data that is no longer there
            res.differences.extend({"problem": p} for p in problems)
            return res
    batches: dict[int, list] = {}
    for ev in events:
        if ev.kind == "proposed":
            batches.setdefault(int(ev.payload["k"]), []).append(ev)
    for k, evs in sorted(batches.items()):
        first = evs[0]
        finished, pending = proposal_inputs(state, first.seq)
        got_h = [e.experiment_id for e in finished]
        got_p = [e.experiment_id for e in pending]
        if got_h != first.payload.get("history_ids") or got_p != first.payload.get("pending_ids"):
            res.differences.append({"k": k, "experiment_id": first.experiment_id,
                                    "problem": "history or pending set differs from the record"})
            continue
        proposals, _ = propose_batch(campaign, finished, pending, k,
                                     int(first.payload.get("n", len(evs))),
                                     priors=prior_inputs(state, first.seq))
        res.decisions += len(evs)
        for ev, prop in zip(evs, proposals, strict=False):  # the budget may cut a batch
            if not _same(ev.payload["conditions"], prop.conditions):
                res.differences.append({"k": k, "experiment_id": ev.experiment_id,
                                        "recorded": ev.payload["conditions"],
                                        "recomputed": dict(prop.conditions)})
        if len(proposals) < len(evs):
            res.differences.append({"k": k, "problem": f"recomputed {len(proposals)} proposals, "
                                    f"recorded {len(evs)}"})
    return res


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if set(a) != set(b):
        return False
    for key, va in a.items():
        vb = b[key]
        if isinstance(va, float) or isinstance(vb, float):
            if not (isinstance(vb, int | float) and isinstance(va, int | float)) or float(va) != float(vb):
                return False
        elif va != vb:
            return False
    return True


def rescore(run_dir: str | Path, *, rel_tol: float = 1e-9) -> list[dict[str, Any]]:
    """Re-score every measured, unfailed experiment; list outcomes whose value changed."""
    from sdl.rawfile import load_raw
    from sdl.scoring import score_raw

    run_dir = require_run_dir(run_dir)
    _, state, campaign = _load(run_dir)
    changes = []
    for e in state.completed:
        if e.status != "scored" or not e.raw_file:
            continue
        raw = load_raw(run_dir / e.raw_file, expected_sha256=e.sha256)
        new = score_raw(raw, campaign)
        for name in sorted(set(new) | set(e.outcomes)):
            old_v = (e.outcomes.get(name) or {}).get("value")
            new_v = (new.get(name) or {}).get("value")
            if not _close(old_v, new_v, rel_tol):
                changes.append({"experiment_id": e.experiment_id, "outcome": name,
                                "recorded": e.outcomes.get(name), "now": new.get(name)})
    return changes


def _close(a: float | None, b: float | None, rel_tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)
