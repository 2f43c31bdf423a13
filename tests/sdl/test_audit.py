"""`sdl audit` catches every kind of tampering, with its location."""

from __future__ import annotations

import sqlite3

import pytest

from sdl.audit import audit
from sdl.cli import main
from sdl.loop import run_loop
from sdl.session import Session

from .conftest import TinyRig


@pytest.fixture
def run_dir(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    run_loop(s, TinyRig(), say=lambda m: None)
    s.close()
    return tmp_path / "run"


def _db(run_dir):
    db = sqlite3.connect(run_dir / "record.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("DROP TRIGGER events_no_delete")
    return db


def test_clean_run_is_clean(run_dir, capsys):
    assert audit(run_dir).clean
    assert main(["audit", str(run_dir)]) == 0
    assert "clean" in capsys.readouterr().out


def test_edited_value(run_dir, capsys):
    db = _db(run_dir)
    seq, payload = db.execute("SELECT seq, payload FROM events WHERE kind='scored' LIMIT 1").fetchone()
    db.execute("UPDATE events SET payload=? WHERE seq=?", (payload.replace("0.3", "0.9"), seq))
    db.close()
    res = audit(run_dir)
    assert any(f"seq {seq}" in p and "edited" in p for p in res.problems)
    assert main(["audit", str(run_dir)]) == 1


def test_deleted_event(run_dir):
    db = _db(run_dir)
    db.execute("DELETE FROM events WHERE seq=5")
    db.close()
    res = audit(run_dir)
    assert any("expected seq 5" in p for p in res.problems)
    assert any("chain broken" in p for p in res.problems)


def test_reordered_events(run_dir):
    db = _db(run_dir)
    rows = db.execute("SELECT * FROM events ORDER BY seq").fetchall()
    db.execute("DELETE FROM events")
    rows[3], rows[4] = rows[4], rows[3]
    for r in rows:  # re-inserted in a new storage order under new rowids
        db.execute("INSERT INTO events (ts, kind, experiment_id, payload, prev_hash, hash, seq) "
                   "VALUES (?,?,?,?,?,?,?)", (r[1], r[2], r[3], r[4], r[5], r[6], r[0] + 1000))
    db.close()
    assert not audit(run_dir).clean


def test_flipped_raw_byte_and_missing_file(run_dir):
    raw = sorted((run_dir / "raw").glob("*.h5"))
    data = bytearray(raw[0].read_bytes())
    data[len(data) // 2] ^= 0x01
    raw[0].write_bytes(bytes(data))
    raw[1].unlink()
    res = audit(run_dir)
    assert any(raw[0].name in p and "sha256 differs" in p for p in res.problems)
    assert any(raw[1].name in p and "missing" in p for p in res.problems)


def test_edited_campaign_copy(run_dir):
    p = run_dir / "campaign.toml"
    p.write_text(p.read_text().replace("620", "630"))
    assert any("campaign.toml" in p for p in audit(run_dir).problems)
