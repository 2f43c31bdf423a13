"""`sdl resume RUN --budget N` extends a finished run (recorded as budget_extended);
replay and audit account for it."""

from __future__ import annotations

from sdl.audit import audit
from sdl.cli import main
from sdl.record import Record
from sdl.replay import verify
from sdl.state import fold


def _events(run):
    with Record(run / "record.sqlite", readonly=True) as rec:
        return list(rec.events())


def test_resume_budget_extends_a_finished_simulator_run(tmp_path, tiny_campaign, fake_propose,
                                                        fake_scorer, capsys):
    run = tmp_path / "run"
    assert main(["run", str(tiny_campaign), "--budget", "2", "--out", str(run), "--no-report"]) == 0
    assert not (run / "LOCK").exists()
    capsys.readouterr()
    assert main(["resume", str(run), "--no-report"]) == 0  # complete: nothing to do
    assert "to run more experiments: sdl resume" in capsys.readouterr().out
    assert main(["resume", str(run), "--budget", "2", "--no-report"]) == 2
    assert "--budget 2 is not above this run's budget of 2" in capsys.readouterr().err
    n_before = len(_events(run))
    assert main(["resume", str(run), "--budget", "4", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "budget extended from 2 to 4 experiments" in out
    assert "Resuming 'cdse-620nm' on the built-in simulator (material CdSe, seed 7)" in out
    events = _events(run)
    ext = [e for e in events[n_before:] if e.kind in ("budget_extended", "resumed")]
    assert [e.kind for e in ext] == ["budget_extended", "resumed"]
    assert ext[1].payload["driver"] == {"kind": "simulator", "material": "CdSe", "seed": 7}
    # where the run stood when this session began (Session.resumed reads its own state)
    assert ext[1].payload["previous_phase"] == "complete"
    assert ext[1].payload["experiments_completed"] == 2 and ext[1].payload["unfinished"] == []
    st = fold(events)
    assert len(st.completed) == 4 and st.budget == 4 and st.stopped["reason"] == "budget"
    assert audit(run).clean
    assert verify(run).differences == []
    assert main(["replay", str(run), "--verify"]) == 0
    assert "note: budget extended from 2 to 4 experiments (sdl resume --budget)" in capsys.readouterr().out


def test_audit_flags_proposals_beyond_the_budget(tmp_path, tiny_campaign, fake_propose):
    from sdl.session import Session

    s = Session.create(tiny_campaign, out=tmp_path / "run", budget=1)
    s.ask()
    s._append("proposed", "e0002", k=1, batch_index=0, n=1, conditions={}, full_conditions={},
              history_ids=[], pending_ids=["e0001"], strategy_info=None)  # no extension
    s.close()
    res = audit(tmp_path / "run")
    assert any("proposed beyond the budget of 1" in p for p in res.problems)
