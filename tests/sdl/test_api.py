"""Ask/tell API: a lab's own loop writes the same auditable record, ends cleanly, is
resumed only through the API, and `tell()` records nothing it cannot vouch for."""

from __future__ import annotations

import hashlib

import pytest

from sdl.api import Campaign
from sdl.audit import audit
from sdl.cli import main
from sdl.commands.status import status
from sdl.errors import RecordError, ResumeRefused, TellError
from sdl.record import Record
from sdl.replay import verify
from sdl.state import fold

GOOD = {"pl_peak_nm": (618.2, 0.4), "fwhm_nm": 31.0, "plqy": 0.42}


def _events(run_dir):
    with Record(run_dir / "record.sqlite", readonly=True) as rec:
        return list(rec.events())


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def test_leaving_the_with_block_records_stopped_budget_and_status_says_complete(
        tmp_path, tiny_campaign, fake_propose):
    with Campaign.load(tiny_campaign).start(out=tmp_path / "run") as session:
        while trials := session.ask():
            for t in trials:
                session.tell(t.experiment_id, GOOD)
    last = _events(tmp_path / "run")[-1]
    assert last.kind == "stopped" and last.payload["reason"] == "budget"
    s = status(str(tmp_path / "run"))
    assert s["state"] == "complete" and s["driver"]["kind"] == "external"
    assert not (tmp_path / "run" / "LOCK").exists()  # a clean stop leaves no LOCK


def test_ending_early_records_caller_ended_and_an_exception_records_the_error(
        tmp_path, tiny_campaign, fake_propose):
    with Campaign.load(tiny_campaign).start(out=tmp_path / "a") as session:
        (t,) = session.ask()
        session.tell(t.experiment_id, GOOD)
    stop = _events(tmp_path / "a")[-1]
    assert stop.kind == "stopped" and stop.payload["reason"] == "caller_ended"
    assert "after 1 of 6" in stop.payload["detail"]
    assert status(str(tmp_path / "a"))["state"] == "stopped"

    with pytest.raises(ZeroDivisionError):
        with Campaign.load(tiny_campaign).start(out=tmp_path / "b") as session:
            session.ask()
            1 / 0  # noqa: B018 - the lab's own code failing inside the block
    stop = _events(tmp_path / "b")[-1]
    assert stop.kind == "stopped" and stop.payload["reason"] == "error"
    assert stop.payload["detail"].startswith("ZeroDivisionError")


@pytest.mark.parametrize("bad, match", [
    ({"g2_zero": 0.1, **GOOD}, "'g2_zero' is not in this campaign; allowed: pl_peak_nm"),
    ({**GOOD, "pl_peak_nm": "618"}, r"pl_peak_nm value = '618': expected a number"),
    ({**GOOD, "plqy": True}, "plqy value = True: expected a number"),
    ({**GOOD, "plqy": float("nan")}, "must be finite"),
    ({**GOOD, "plqy": (0.4, -0.1)}, "stderr = -0.1: must be >= 0"),
    ({**GOOD, "plqy": (0.4, 0.1, 3)}, "expected a number or"),
    ({"pl_peak_nm": 618.0}, r"no value for fwhm_nm, plqy; give them, or missing="),
    ("618", "outcomes must be a mapping"),
])
def test_tell_refuses_bad_input_and_records_nothing(tmp_path, tiny_campaign, fake_propose, bad, match):
    with Campaign.load(tiny_campaign).start(out=tmp_path / "run") as session:
        (t,) = session.ask()
        before = len(_events(tmp_path / "run"))
        with pytest.raises(TellError, match=match):
            session.tell(t.experiment_id, bad)
        assert len(_events(tmp_path / "run")) == before
        assert [p.experiment_id for p in session.pending()] == [t.experiment_id]


def test_tell_missing_reason_failure_and_double_tell(tmp_path, tiny_campaign, fake_propose):
    with Campaign.load(tiny_campaign).start(out=tmp_path / "run") as session:
        t1, = session.ask()
        session.tell(t1.experiment_id, {"pl_peak_nm": 618.0, "fwhm_nm": (31.0, 1.0)},
                     missing={"plqy": "reference cell empty"})
        with pytest.raises(RecordError, match="already scored"):
            session.tell(t1.experiment_id, GOOD)
        t2, = session.ask()
        with pytest.raises(TellError, match="missing\\['plqy'\\] needs a reason"):
            session.tell(t2.experiment_id, {"pl_peak_nm": 618.0, "fwhm_nm": 31.0},
                         missing={"plqy": " "})
        with pytest.raises(TellError, match="failure= must be"):
            session.tell(t2.experiment_id, failure=("clog",))
        with pytest.raises(TellError, match="exactly one"):
            session.tell(t2.experiment_id)
        session.tell(t2.experiment_id, failure=("clog", "clog:observed"))
    st = fold(_events(tmp_path / "run"))
    e1 = st.experiments["e0001"]
    assert e1.outcomes["plqy"] == {"no_outcome": "not_measured", "detail": "reference cell empty"}
    assert e1.outcomes["pl_peak_nm"] == {"value": 618.0, "stderr": None}  # no error bar given
    assert st.experiments["e0002"].failure["kind"] == "clog"


def test_api_run_closed_at_3_of_10_is_refused_by_sdl_resume_and_the_record_is_unchanged(
        tmp_path, tiny_campaign, fake_propose, capsys):
    """The issue's walkthrough: 3 lab results told, session closed, then `sdl resume`."""
    run = tmp_path / "run"
    with Campaign.load(tiny_campaign).start(out=run, budget=10) as session:
        for _ in range(3):
            (t,) = session.ask()
            session.tell(t.experiment_id, GOOD)
    before = _sha(run / "record.sqlite")
    assert main(["resume", str(run), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"sdl resume: error: {run} is driven from Python (ask/tell API), not by `sdl run`; "
        f"continue it there with `Campaign.resume({str(run)!r})` from sdl.api (nothing was "
        "changed)")
    assert _sha(run / "record.sqlite") == before
    assert not (run / "LOCK").exists()
    # the API continues it, and the record stays one kind of driver
    with Campaign.resume(run) as s2:
        while trials := s2.ask():
            for t in trials:
                s2.tell(t.experiment_id, GOOD)
    st = fold(_events(run))
    assert len(st.completed) == 10 and st.stopped["reason"] == "budget"
    res = audit(run)
    assert res.clean, res.problems
    assert set(res.produced_by.values()) == {"session 1: external driver (Python ask/tell API)",
                                             "session 2: external driver (Python ask/tell API)"}


def test_api_resume_extends_the_budget_of_a_finished_run(tmp_path, tiny_campaign, fake_propose):
    run = tmp_path / "run"
    with Campaign.load(tiny_campaign).start(out=run, budget=2) as s:
        while trials := s.ask():
            for t in trials:
                s.tell(t.experiment_id, GOOD)
    with pytest.raises(RecordError, match="not above this run's budget of 2"):
        Campaign.resume(run, budget=2)
    with Campaign.resume(run, budget=4) as s:
        assert s.budget == 4
        n = 0
        while trials := s.ask():
            for t in trials:
                s.tell(t.experiment_id, GOOD)
                n += 1
    assert n == 2
    events = _events(run)
    ext = [e for e in events if e.kind == "budget_extended"]
    assert [(e.payload["from_experiments"], e.payload["to_experiments"]) for e in ext] == [(2, 4)]
    assert status(str(run))["state"] == "complete"
    assert audit(run).clean and verify(run).differences == []


def test_api_refuses_to_resume_a_simulator_run(tmp_path, tiny_campaign, fake_propose):
    from sdl.session import Session

    s = Session.create(tiny_campaign, out=tmp_path / "run")  # as `sdl run` does
    s.close()
    before = _sha(tmp_path / "run" / "record.sqlite")
    with pytest.raises(ResumeRefused, match="continue it with `sdl resume"):
        Campaign.resume(tmp_path / "run")
    assert _sha(tmp_path / "run" / "record.sqlite") == before


def test_resume_lists_pending(tmp_path, tiny_campaign, fake_propose):
    s = Campaign.load(tiny_campaign).start(out=tmp_path / "run")
    (t,) = s.ask()
    s.close()
    with Campaign.resume(tmp_path / "run") as s2:
        assert [p.experiment_id for p in s2.pending()] == [t.experiment_id]


def test_report_of_an_api_run_says_how_to_continue_and_explains_markers(
        tmp_path, tiny_campaign, fake_propose):
    from sdl.report import write_report

    run = tmp_path / "run"
    with Campaign.load(tiny_campaign).start(out=run) as s:
        (t,) = s.ask()
        s.tell(t.experiment_id, {"pl_peak_nm": 618.0, "fwhm_nm": 31.0},
               missing={"plqy": "reference cell empty"})
    html = write_report(run).read_text()
    assert "Campaign.resume(" in html and "sdl resume" not in html
    assert "driven by: external driver (Python ask/tell API)" in html
    assert "<b>not_measured</b> (1x): the lab reported this outcome as not measured" in html
