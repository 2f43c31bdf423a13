"""The record: hash chain, durability settings, append-only, canonical JSON."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from sdl.record import GENESIS_HASH, Record, canonical_json, jsonable


def test_hash_chain_matches_definition(tmp_path):
    with Record(tmp_path / "r.sqlite") as rec:
        a = rec.append("campaign_started", seed=1)
        b = rec.append("proposed", "e0001", k=0, conditions={"temperature_c": 250.5})
    assert a.prev_hash == GENESIS_HASH and b.prev_hash == a.hash
    body = canonical_json({"seq": 2, "ts": b.ts, "kind": "proposed", "experiment_id": "e0001",
                           "payload": {"k": 0, "conditions": {"temperature_c": 250.5}}})
    assert b.hash == hashlib.sha256(a.hash.encode() + body.encode()).hexdigest()


def test_wal_and_synchronous_full(tmp_path):
    rec = Record(tmp_path / "r.sqlite")
    assert rec._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert rec._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    rec.close()


def test_closed_record_is_whole_in_the_main_file(tmp_path):
    """A copy of record.sqlite alone (without -wal) holds every event after close."""
    reader = None
    with Record(tmp_path / "r.sqlite") as rec:
        rec.append("campaign_started")
        reader = Record(tmp_path / "r.sqlite", readonly=True)  # a live reader (sdl status)
        for i in range(5):
            rec.append("proposed", f"e{i}", k=i)
        assert len(list(reader.events())) == 6
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes((tmp_path / "r.sqlite").read_bytes())
    db = sqlite3.connect(f"file:{copy}?immutable=1", uri=True)
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 6
    reader.close()


def test_append_only_triggers(tmp_path):
    with Record(tmp_path / "r.sqlite") as rec:
        rec.append("campaign_started")
    db = sqlite3.connect(tmp_path / "r.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE events SET kind='x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")


def test_reopen_continues_chain(tmp_path):
    with Record(tmp_path / "r.sqlite") as rec:
        first = rec.append("campaign_started")
    with Record(tmp_path / "r.sqlite") as rec:
        second = rec.append("stopped", reason="budget")
        assert [e.seq for e in rec.events()] == [1, 2]
    assert second.prev_hash == first.hash


def test_nan_is_recorded_as_null_and_unknown_kind_refused(tmp_path):
    with Record(tmp_path / "r.sqlite") as rec:
        ev = rec.append("scored", "e1", outcomes={"x": {"value": float("nan")}})
        assert ev.payload == {"outcomes": {"x": {"value": None}}}
        with pytest.raises(ValueError):
            rec.append("bogus")


def test_readonly_refuses_writes(tmp_path):
    with Record(tmp_path / "r.sqlite") as rec:
        rec.append("campaign_started")
    from sdl.errors import RecordError

    with Record(tmp_path / "r.sqlite", readonly=True) as ro:
        with pytest.raises(RecordError):
            ro.append("stopped")


def test_jsonable_numpy():
    import numpy as np

    assert json.loads(canonical_json(jsonable({"a": np.float64(1.5), "b": np.arange(2)}))) == \
        {"a": 1.5, "b": [0, 1]}


def test_record_and_dashboard_read_the_same_events_even_a_broken_payload(tmp_path):
    # both readers decode rows through sdl.record.event_from_row
    from sdl.serve.runs import RunView

    run = tmp_path / "run"
    run.mkdir()
    with Record(run / "record.sqlite") as rec:
        rec.append("campaign_started", seed=1)
        rec.append("safe_state", reason="test")
    db = sqlite3.connect(run / "record.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET payload='{not json' WHERE seq=2")
    db.close()
    with Record(run / "record.sqlite", readonly=True) as rec:
        events = list(rec.events())
    assert events[1].payload == {"__unparseable__": "{not json"}
    view = RunView(run, "run")
    view.refresh()
    view.close()
    assert view.events == events
