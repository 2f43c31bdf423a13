"""`sdl audit`: verify a run directory has not been altered.

Checks, each problem reported with its location:
1. SQLite's own `PRAGMA integrity_check`.
2. Event sequence: seq = 1, 2, ... in storage order (catches deleted, inserted and
   reordered events), timestamps non-decreasing.
3. Hash chain: every `prev_hash` equals the previous event's hash and every hash
   recomputes from the event's content (catches any edited value).
4. Event ordering per experiment (proposed -> dispatched -> measured -> scored|failed).
5. Raw files: every file a `measured` event references exists and has the recorded
   sha256; the frozen campaign.toml (and rig.toml) match the copies inside the record.
6. Budget: no experiment proposed beyond the budget in force (the started one, or the
   latest `budget_extended`).
7. Provenance (`sdl.provenance`): what produced every experiment (which session, which
   driver); a change of driver the record does not explain is a problem. Records made
   before provenance are reported as "unknown", not as a problem.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sdl.rawfile import sha256_file
from sdl.record import GENESIS_HASH, Record, event_hash
from sdl.rundir import CAMPAIGN_NAME, RAW_DIR, RECORD_NAME, RIG_NAME, require_run_dir

_ALLOWED_NEXT = {
    None: {"proposed"},
    "proposed": {"dispatched", "failed"},
    "dispatched": {"dispatched", "measured"},
    "measured": {"scored", "failed"},
    "scored": set(),
    "failed": set(),
}


@dataclass
class AuditResult:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: int = 0
    raw_files: int = 0
    head_hash: str = GENESIS_HASH
    driver: dict = field(default_factory=dict)  # what drives the run (its first session)
    produced_by: dict[str, str] = field(default_factory=dict)  # experiment -> driver phrase

    @property
    def clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"clean": self.clean, "problems": self.problems, "notes": self.notes,
                "events": self.events, "raw_files": self.raw_files, "head_hash": self.head_hash,
                "driver": self.driver, "produced_by": self.produced_by}


def audit(run_dir: str | Path) -> AuditResult:
    run_dir = require_run_dir(run_dir)
    res = AuditResult()
    with Record(run_dir / RECORD_NAME, readonly=True) as rec:
        res.problems += [f"record.sqlite integrity: {m}" for m in rec.integrity_check()]
        rows = rec.raw_rows()
    res.events = len(rows)
    prev_hash, prev_ts = GENESIS_HASH, ""
    status: dict[str, str | None] = {}
    referenced: set[str] = set()
    campaign_toml = None
    rig_toml = None
    budget, proposed = None, 0
    for i, (_rowid, seq, ts, kind, eid, payload, stored_prev, stored_hash) in enumerate(rows, start=1):
        where = f"event {i} (seq {seq}, {kind}{' ' + eid if eid else ''})"
        if seq != i:
            res.problems.append(f"{where}: expected seq {i}: an event was deleted, inserted or reordered")
        if stored_prev != prev_hash:
            res.problems.append(f"{where}: prev_hash does not match the previous event's hash "
                                "(chain broken: deleted, inserted or reordered event)")
        try:
            data = json.loads(payload)
            recomputed = event_hash(stored_prev, seq, ts, kind, eid, payload)
        except (json.JSONDecodeError, TypeError, ValueError):
            res.problems.append(f"{where}: payload is not valid JSON")
            data, recomputed = {}, None
        if recomputed is not None and recomputed != stored_hash:
            res.problems.append(f"{where}: content does not match its hash (edited event)")
        if ts < prev_ts:
            res.problems.append(f"{where}: timestamp {ts} earlier than the previous event's")
        if i == 1 and kind != "campaign_started":
            res.problems.append(f"{where}: the first event must be campaign_started")
        if kind == "campaign_started":
            if i != 1:
                res.problems.append(f"{where}: campaign_started can only be the first event")
            campaign_toml = data.get("campaign_toml") if isinstance(data, dict) else None
            rig_toml = data.get("rig_toml") if isinstance(data, dict) else None
            budget = data.get("budget_experiments") if isinstance(data, dict) else None
        if kind == "rig_changed" and isinstance(data, dict):
            rig_toml = data.get("rig_toml")
        if kind == "budget_extended" and isinstance(data, dict):
            budget = data.get("to_experiments")
        if kind == "proposed":
            proposed += 1
            if isinstance(budget, int) and proposed > budget:
                res.problems.append(f"{where}: experiment {proposed} proposed beyond the budget "
                                    f"of {budget} in force (no budget_extended event allows it)")
        if kind == "prior" and isinstance(data, dict):
            if status:
                res.problems.append(f"{where}: prior data after the first proposal")
            res.notes.append(f"{where}: {len(data.get('rows') or [])} prior experiments from "
                             f"{data.get('source')} (sha256 {str(data.get('source_sha256'))[:16]}…), "
                             f"{len(data.get('skipped') or [])} rows skipped; history only, "
                             "not counted against the budget")
        if eid is not None and kind in ("proposed", "dispatched", "measured", "scored", "failed"):
            before = status.get(eid)
            if kind == "proposed" and eid in status:
                res.problems.append(f"{where}: experiment id proposed twice")
            elif kind not in _ALLOWED_NEXT.get(before, set()) and not (kind == "proposed" and before is None):
                res.problems.append(f"{where}: {kind} after {before or 'nothing'} is out of order")
            status[eid] = kind
            if kind == "measured" and isinstance(data, dict):
                rel = data.get("raw_file")
                if rel:
                    referenced.add(rel)
                    _check_raw(run_dir, rel, data.get("sha256"), where, res)
        prev_hash, prev_ts = stored_hash, ts
    res.head_hash = prev_hash
    if campaign_toml is not None:
        path = run_dir / CAMPAIGN_NAME
        if not path.exists():
            res.problems.append(f"{CAMPAIGN_NAME}: missing")
        elif hashlib.sha256(path.read_bytes()).digest() != hashlib.sha256(campaign_toml.encode()).digest():
            res.problems.append(f"{CAMPAIGN_NAME}: differs from the copy frozen in the record")
    if isinstance(rig_toml, str):
        path = run_dir / RIG_NAME
        if not path.exists():
            res.problems.append(f"{RIG_NAME}: missing")
        elif path.read_bytes() != rig_toml.encode():
            res.problems.append(f"{RIG_NAME}: differs from the rig file recorded for this run")
    _audit_provenance(rows, res)
    raw_dir = run_dir / RAW_DIR
    if raw_dir.is_dir():
        for f in sorted(raw_dir.iterdir()):
            rel = f"{RAW_DIR}/{f.name}"
            if rel not in referenced:
                res.notes.append(f"{rel}: not referenced by the record (left by an interrupted attempt?)")
    return res


def _audit_provenance(rows: list[tuple], res: AuditResult) -> None:
    from sdl.provenance import describe, provenance
    from sdl.record import Event

    events = []
    for _rowid, seq, ts, kind, eid, payload, prev, h in rows:
        try:
            data = json.loads(payload)
        except (json.JSONDecodeError, TypeError):
            data = {}
        events.append(Event(seq, ts, kind, eid, data if isinstance(data, dict) else {}, prev, h))
    prov = provenance(events)
    res.driver = prov.run_driver
    for eid, i in prov.produced_by.items():
        s = prov.sessions[i - 1]
        res.produced_by[eid] = f"session {i}: {describe(s.driver)}"
    res.problems += [f"provenance: {p}" for p in prov.problems]
    res.notes += prov.notes


def _check_raw(run_dir: Path, rel: str, digest: str | None, where: str, res: AuditResult) -> None:
    path = run_dir / rel
    res.raw_files += 1
    if not path.exists():
        res.problems.append(f"{rel}: missing (referenced by {where})")
    elif digest is None or sha256_file(path) != digest:
        res.problems.append(f"{rel}: sha256 differs from the record (referenced by {where}): file changed")
