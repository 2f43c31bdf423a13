"""The run record: an append-only, hash-chained event log in SQLite.

Each event row holds `seq` (1, 2, ...), `ts` (UTC ISO-8601), `kind`, `experiment_id`
(or NULL) and `payload` (canonical JSON). Its hash is
`sha256(prev_hash || canonical_json({"seq", "ts", "kind", "experiment_id", "payload"}))`
in hex, with `prev_hash` = 64 zeros for the first event. The database runs in WAL mode
with `synchronous=FULL`, so an event returned by `append` survives a crash or power loss;
triggers refuse UPDATE and DELETE through SQLite, and `sdl audit` detects edits made
around them.

Event kinds (payload keys in DESIGN.md / sdl.session):
campaign_started, proposed, dispatched, measured, scored, failed, safe_state, resumed,
stopped; rig_identified (device identities read after prepare), rig_changed (`sdl resume
--rig NEW.toml`), budget_extended (`sdl resume --budget N`): see `sdl.provenance`.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sdl.critical import critical
from sdl.errors import RecordError

EVENT_KINDS = (
    "campaign_started",
    "proposed",
    "dispatched",
    "measured",
    "scored",
    "failed",
    "safe_state",
    "resumed",
    "stopped",
    "rig_identified",
    "rig_changed",
    "budget_extended",
    "prior",  # earlier experiments seeding the optimiser (sdl.prior); not in the budget
)
GENESIS_HASH = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    experiment_id TEXT,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the record is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the record is append-only'); END;
"""


def jsonable(value: Any) -> Any:
    """Plain JSON values: non-finite floats -> None, tuples -> lists, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if getattr(value, "ndim", None) == 0:  # numpy scalar
        return jsonable(value.item())
    if hasattr(value, "tolist"):  # numpy array
        return jsonable(value.tolist())
    raise TypeError(f"cannot record a value of type {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def event_hash(prev_hash: str, seq: int, ts: str, kind: str, experiment_id: str | None,
               payload_json: str) -> str:
    """Hash of one event chained to the previous one (hex sha256)."""
    body = canonical_json({"seq": seq, "ts": ts, "kind": kind, "experiment_id": experiment_id,
                           "payload": json.loads(payload_json)})
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Event:
    seq: int
    ts: str
    kind: str
    experiment_id: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str


#: The columns of an `events` row, in `Event` field order (`event_from_row`).
EVENT_COLUMNS = "seq, ts, kind, experiment_id, payload, prev_hash, hash"


def event_from_row(row: tuple) -> Event:
    """An `Event` from a row of `EVENT_COLUMNS`; a payload that is not JSON is kept as
    {"__unparseable__": text} (`sdl audit` reports such a row)."""
    seq, ts, kind, eid, payload, prev, h = row
    try:
        data = json.loads(payload)
    except json.JSONDecodeError:
        data = {"__unparseable__": payload}
    return Event(seq, ts, kind, eid, data, prev, h)


class Record:
    """Append-only event log of one run directory.

    Args:
        path: the SQLite file (`<run>/record.sqlite`).
        readonly: open with `mode=ro` (for `status`/`audit`/`replay` while a run is live).
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        if readonly:
            if not self.path.exists():
                raise RecordError(f"{self.path}: no record here (not a run directory?)")
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            try:
                self._db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
            except sqlite3.OperationalError:
                # A read-only archive (no permission for the -wal/-shm files): read the
                # main file as immutable. Only used when no writer can be live.
                self._db.close()
                self._db = sqlite3.connect(f"file:{self.path}?immutable=1", uri=True,
                                           isolation_level=None)
            except sqlite3.DatabaseError as e:
                raise RecordError(f"{self.path}: not a readable record ({e})") from None
        else:
            self._db = sqlite3.connect(str(self.path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        self.readonly = readonly
        try:
            row = self._db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.DatabaseError as e:
            raise RecordError(f"{self.path}: not a readable record ({e})") from None
        self._seq, self._last_hash = (row[0], row[1]) if row else (0, GENESIS_HASH)

    def append(self, kind: str, experiment_id: str | None = None, /, **payload: Any) -> Event:
        """Append one event and commit it durably before returning."""
        if self.readonly:
            raise RecordError("record opened read-only")
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        seq = self._seq + 1
        ts = datetime.now(UTC).isoformat(timespec="microseconds")
        payload_json = canonical_json(jsonable(payload))
        h = event_hash(self._last_hash, seq, ts, kind, experiment_id, payload_json)
        ev = Event(seq, ts, kind, experiment_id, json.loads(payload_json), self._last_hash, h)
        with critical():  # the committed row and (seq, hash) move together
            self._db.execute(
                "INSERT INTO events (seq, ts, kind, experiment_id, payload, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seq, ts, kind, experiment_id, payload_json, self._last_hash, h),
            )
            self._seq, self._last_hash = seq, h
        return ev

    def events(self) -> Iterator[Event]:
        """All events in `seq` order."""
        for row in self._db.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"):
            yield event_from_row(row)

    def raw_rows(self) -> list[tuple]:
        """Rows exactly as stored (for the audit), in rowid order."""
        return self._db.execute(
            "SELECT rowid, seq, ts, kind, experiment_id, payload, prev_hash, hash FROM events ORDER BY rowid"
        ).fetchall()

    def integrity_check(self) -> list[str]:
        """SQLite's own integrity check; [] when fine."""
        rows = self._db.execute("PRAGMA integrity_check").fetchall()
        msgs = [r[0] for r in rows]
        return [] if msgs == ["ok"] else msgs

    def close(self) -> None:
        """Close; a writer first checkpoints the WAL into the main file (TRUNCATE), so a
        copy of `record.sqlite` alone holds every event (best effort: a live reader may
        keep part of the log in the -wal file, which SQLite still reads)."""
        if not self.readonly:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:
                pass
        self._db.close()

    def __enter__(self) -> Record:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
