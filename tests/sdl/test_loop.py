"""Loop mechanics on a tiny rig: budget, failures, safe state on every exit, resume
exactly-once, writer lock. (Real simulator and optimiser: test_end_to_end.py.)"""

from __future__ import annotations

import os
import signal

import pytest

from sdl.audit import audit
from sdl.errors import RunDirectoryLocked
from sdl.loop import run_loop
from sdl.rawfile import save_raw
from sdl.session import Session

from .conftest import TinyRig


def kinds(session):
    return [e.kind for e in session.record.events()]


def test_runs_to_budget_with_failures(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    rig = TinyRig(fail_ids={"e0002"})
    res = run_loop(s, rig, say=lambda m: None)
    assert (res.reason, res.exit_code) == ("budget", 0)
    st = s.state
    assert len(st.completed) == 6 and len(set(st.terminal_order)) == 6
    assert st.experiments["e0002"].status == "failed"
    assert st.experiments["e0002"].failure["reason"] == "clog:test"
    assert kinds(s)[-2:] == ["safe_state", "stopped"]
    assert rig.safe_calls >= 1
    s.close()
    assert audit(tmp_path / "run").clean


def test_persistent_rig_fault_stops_the_campaign_then_resume_finishes(
        tmp_path, tiny_campaign, fake_propose, fake_scorer):
    """A fault that stays (broken thermocouple) must not burn the night's budget: three rig
    faults in a row stop the run (exit 3, safe state); clogs in a row do not."""
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    rig = TinyRig(fail_ids={"e0002", "e0003", "e0004", "e0005"}, fail_kind="interlock")
    res = run_loop(s, rig, say=lambda m: None)
    assert (res.reason, res.exit_code) == ("rig_faults", 3)
    assert "3 rig faults in a row" in res.detail and "interlock:test" in res.detail
    assert rig.runs == ["e0001", "e0002", "e0003", "e0004"]
    assert kinds(s)[-2:] == ["safe_state", "stopped"]
    s.close()
    s = Session.open(tmp_path / "run")
    res = run_loop(s, TinyRig(), say=lambda m: None)  # the rig was fixed
    assert (res.reason, res.exit_code) == ("budget", 0)
    assert len(s.state.completed) == 6
    s.close()
    assert audit(tmp_path / "run").clean

    s = Session.create(tiny_campaign, out=tmp_path / "clogs")
    res = run_loop(s, TinyRig(fail_ids={"e0002", "e0003", "e0004", "e0005"}), say=lambda m: None)
    assert res.reason == "budget"
    s.close()


def test_incomplete_safe_state_is_recorded_and_said(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    class HalfSafe(TinyRig):
        safe_state_problems = ["heater_core: no reply"]

    said = []
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    run_loop(s, HalfSafe(), say=said.append)
    ev = [e for e in s.record.events() if e.kind == "safe_state"][-1]
    assert ev.payload["detail"] == "safe state INCOMPLETE: heater_core: no reply"
    assert any("WARNING" in m and "by hand" in m for m in said)
    s.close()


def test_live_state_equals_a_fold_of_the_record(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    """The writer keeps its state incrementally (apply_event per append); it must equal a
    fresh fold of what is on disk, through failures, a stop and a resume."""
    from sdl.state import fold

    s = Session.create(tiny_campaign, out=tmp_path / "run")
    run_loop(s, TinyRig(fail_ids={"e0002", "e0003", "e0004"}, fail_kind="interlock"),
             say=lambda m: None)
    assert s.state == fold(s.record.events())
    s.close()
    s = Session.open(tmp_path / "run")
    run_loop(s, TinyRig(fail_ids={"e0006"}), say=lambda m: None)
    live = s.state
    assert live == fold(s.record.events()) and len(live.completed) == 6
    assert live.n_events == len(list(s.record.events()))
    s.close()


def test_exception_in_rig_reaches_safe_state(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    class Broken(TinyRig):
        def run(self, *a, **k):
            raise RuntimeError("serial port vanished")

    s = Session.create(tiny_campaign, out=tmp_path / "run")
    rig = Broken()
    res = run_loop(s, rig, say=lambda m: None)
    assert res.reason == "error" and res.exit_code == 1 and "vanished" in res.detail
    assert rig.safe_calls >= 1
    ev = list(s.record.events())
    assert [e.kind for e in ev][-2:] == ["safe_state", "stopped"]
    assert ev[-1].payload["reason"] == "error"
    s.close()


def test_sigterm_records_safe_state_and_exits_nonzero(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    class Killer(TinyRig):
        def run(self, conditions, experiment_id, *, photons=False):
            if experiment_id == "e0003":
                os.kill(os.getpid(), signal.SIGTERM)
            return super().run(conditions, experiment_id, photons=photons)

    s = Session.create(tiny_campaign, out=tmp_path / "run")
    rig = Killer()
    res = run_loop(s, rig, say=lambda m: None)
    assert res.reason == "signal" and res.exit_code == 143
    assert rig.safe_calls >= 1
    assert kinds(s)[-2:] == ["safe_state", "stopped"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    s.close()


def test_sigterm_right_after_a_committed_event_keeps_the_record_whole(
        tmp_path, tiny_campaign, fake_propose, fake_scorer):
    """A signal landing between the INSERT of an event and the writer's bookkeeping must
    not desynchronise the record (it did: safe_state then collided on events.seq)."""

    class SignalAfterInsert:
        def __init__(self, db):
            self.db, self.armed = db, False

        def execute(self, sql, *args):
            cur = self.db.execute(sql, *args)
            if self.armed and sql.startswith("INSERT"):
                self.armed = False
                os.kill(os.getpid(), signal.SIGTERM)  # handler would run on the next bytecode
            return cur

        def __getattr__(self, name):
            return getattr(self.db, name)

    s = Session.create(tiny_campaign, out=tmp_path / "run")
    proxy = SignalAfterInsert(s.record._db)
    s.record._db = proxy

    class Arming(TinyRig):
        def run(self, conditions, experiment_id, *, photons=False):
            if experiment_id == "e0003":
                proxy.armed = True  # the next INSERT is e0003's `measured`
            return super().run(conditions, experiment_id, photons=photons)

    res = run_loop(s, Arming(), say=lambda m: None)
    assert res.reason == "signal" and res.exit_code == 143
    ev = list(s.record.events())
    assert [e.seq for e in ev] == list(range(1, len(ev) + 1))
    assert [e.kind for e in ev][-2:] == ["safe_state", "stopped"]
    assert s.state.experiments["e0003"].status in ("measured", "scored")
    s.record._db = proxy.db
    s.close()
    assert audit(tmp_path / "run").clean


def test_signal_wrapped_by_library_code_is_still_a_signal(
        tmp_path, tiny_campaign, fake_propose, fake_scorer):
    """numba turns an exception raised in a signal handler into SystemError: still SIGTERM."""

    class Wrapping(TinyRig):
        def run(self, conditions, experiment_id, *, photons=False):
            if experiment_id == "e0002":
                try:
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(1000):  # the handler runs between these bytecodes
                        pass
                except Exception as e:  # noqa: BLE001 - what library code does
                    raise SystemError("kernel returned a result with an exception set") from e
            return super().run(conditions, experiment_id, photons=photons)

    s = Session.create(tiny_campaign, out=tmp_path / "run")
    res = run_loop(s, Wrapping(), say=lambda m: None)
    assert (res.reason, res.exit_code) == ("signal", 143)
    assert "surfaced as SystemError" in res.detail
    assert kinds(s)[-2:] == ["safe_state", "stopped"]
    s.close()


def test_second_signal_does_not_skip_safe_state(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    class DoubleInterrupt(TinyRig):
        def run(self, *a, **k):
            os.kill(os.getpid(), signal.SIGINT)
            return super().run(*a, **k)

        def safe_state(self):
            if self.safe_calls == 0:
                os.kill(os.getpid(), signal.SIGINT)  # impatient second Ctrl-C
            super().safe_state()

    s = Session.create(tiny_campaign, out=tmp_path / "run")
    rig = DoubleInterrupt()
    lines = []
    res = run_loop(s, rig, say=lines.append)
    assert res.exit_code == 130
    assert rig.safe_calls >= 1 and kinds(s)[-2:] == ["safe_state", "stopped"]
    assert any("still putting the rig in its safe state" in m for m in lines)
    s.close()


def test_resume_reruns_dispatched_and_scores_measured(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    run = tmp_path / "run"
    s = Session.create(tiny_campaign, out=run)
    rig = TinyRig()
    (t1,) = s.ask()
    s.dispatch(t1.experiment_id)  # crash after dispatch: sample never collected
    (t2,) = s.ask()
    s.dispatch(t2.experiment_id)
    raw = rig.run(t2.full_conditions, t2.experiment_id)
    rel = f"raw/{t2.experiment_id}.h5"
    digest = save_raw(raw, run / rel)
    s._append("measured", t2.experiment_id, raw_file=rel, sha256=digest, failure=None)
    s.close()  # crash: measured but never scored

    s2 = Session.open(run)
    rig2 = TinyRig()
    res = run_loop(s2, rig2, say=lambda m: None)
    assert res.reason == "budget"
    st = s2.state
    assert len(st.completed) == 6 == len(st.experiments)
    assert st.experiments["e0001"].attempts == 2  # recorded retry
    assert "e0002" not in rig2.runs  # scored from its raw file, not re-run
    assert st.experiments["e0002"].status == "scored"
    s2.close()
    assert audit(run).clean


def test_second_writer_is_refused(tmp_path, tiny_campaign, fake_propose):
    s = Session.create(tiny_campaign, out=tmp_path / "run")
    with pytest.raises(RunDirectoryLocked, match="only one writer"):
        Session.open(tmp_path / "run")
    s.close()
    Session.open(tmp_path / "run").close()  # free again once the writer is gone


def test_safety_rejection_before_dispatch(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    class Strict(TinyRig):
        def limits(self):
            from sdl.schema.rig import RigLimits

            return RigLimits(max_temperature_c=100, max_total_flow_ul_min=5000)

    s = Session.create(tiny_campaign, out=tmp_path / "run")
    rig = Strict()
    run_loop(s, rig, say=lambda m: None)
    assert rig.runs == []  # nothing ever reached the rig
    fails = [e.failure for e in s.state.completed]
    assert all(f["kind"] == "rejected" and "max_temperature_c" in f["detail"] for f in fails)
    assert "dispatched" not in kinds(s)
    s.close()


def test_budget_override_and_hours(tmp_path, tiny_campaign, fake_propose, fake_scorer):
    s = Session.create(tiny_campaign, out=tmp_path / "run", budget=2)
    run_loop(s, TinyRig(), say=lambda m: None)
    assert len(s.state.completed) == 2
    s.close()
