"""Ask/tell API: a lab's own loop writes the same auditable record."""

from __future__ import annotations

import pytest

from sdl.api import Campaign
from sdl.audit import audit
from sdl.errors import RecordError
from sdl.replay import verify


def test_ask_tell_round_trip(tmp_path, tiny_campaign, fake_propose):
    campaign = Campaign.load(tiny_campaign)
    with campaign.start(out=tmp_path / "run") as session:
        told = 0
        while trials := session.ask():
            for t in trials:
                assert set(t.conditions) == {p.name for p in campaign.model.parameters}
                assert t.full_conditions["flow_format"] == "laminar"  # fixed condition applied
                if told == 1:
                    session.tell(t.experiment_id, failure=("clog", "clog:observed"))
                else:
                    session.tell(t.experiment_id, {"pl_peak_nm": (600 + told, 0.5), "fwhm_nm": 30.0,
                                                   "plqy": (0.4, 0.02)})
                told += 1
        assert told == 6
        assert session.ask() == []
    assert audit(tmp_path / "run").clean
    assert verify(tmp_path / "run").differences == []


def test_tell_rejects_unknown_outcome_and_double_tell(tmp_path, tiny_campaign, fake_propose):
    with Campaign.load(tiny_campaign).start(out=tmp_path / "run") as session:
        (t,) = session.ask()
        with pytest.raises(RecordError, match="not in this campaign"):
            session.tell(t.experiment_id, {"g2_zero": 0.1})
        session.tell(t.experiment_id, {"plqy": 0.5})
        with pytest.raises(RecordError, match="already scored"):
            session.tell(t.experiment_id, {"plqy": 0.5})
        with pytest.raises(ValueError):
            session.tell(t.experiment_id)


def test_resume_lists_pending(tmp_path, tiny_campaign, fake_propose):
    s = Campaign.load(tiny_campaign).start(out=tmp_path / "run")
    (t,) = s.ask()
    s.close()
    with Campaign.resume(tmp_path / "run") as s2:
        assert [p.experiment_id for p in s2.pending()] == [t.experiment_id]
