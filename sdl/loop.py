"""The closed loop: propose -> safety check -> rig.run -> score -> record, until the
budget (experiments, hours, target reached) is met.

Every exit path — success, exception, SIGINT/SIGTERM — puts the rig in its safe state,
records `safe_state` and `stopped`, and (but for success) exits non-zero. A second
Ctrl-C while stopping does not skip the safe state.

Recovery (`recover`, run first on every session): an experiment proposed or dispatched
but never measured is run again and recorded as a retry (its sample was not collected);
a measured but unscored one is scored from its raw file. Nothing is lost, nothing is
counted twice.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sdl.critical import defer_if_critical
from sdl.errors import exit_code_of
from sdl.session import Session, Trial
from sdl.utility import best_index, target_reached

log = logging.getLogger(__name__)

#: Failure kinds that point at the rig rather than the chemistry.
RIG_FAULT_KINDS = frozenset({"interlock", "equipment", "device"})
#: Stop the campaign after this many rig faults in a row (a persistent fault such as a
#: broken thermocouple would otherwise fail every remaining experiment of the night).
MAX_CONSECUTIVE_RIG_FAULTS = 3


class StopRequested(Exception):
    """Raised in the main thread by the first SIGINT/SIGTERM."""

    def __init__(self, signame: str):
        super().__init__(signame)
        self.signame = signame


@dataclass
class LoopResult:
    reason: str
    exit_code: int
    detail: str = ""


class _Signals:
    """First SIGINT/SIGTERM raises StopRequested; later ones are noted and ignored until
    the rig is safe."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.stopping = False
        self.signame: str | None = None  # the first signal received
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is not threading.main_thread():
            return self  # e.g. a Dask worker thread (sdl sweep): signals are the worker's
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.stopping:
            self.say(f"{name} again: still putting the rig in its safe state, please wait")
            return
        self.stopping = True
        self.signame = name

        def stop() -> None:
            raise StopRequested(name)

        if not defer_if_critical(stop):  # never between a committed event and its bookkeeping
            stop()

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def run_loop(session: Session, rig: Any, *, say: Callable[[str], None] = print,
             progress: Any = None, hooks: Sequence[Any] = ()) -> LoopResult:
    """Drive `rig` until the campaign's budget is met. Returns how it ended.

    `hooks`: observers (alerts, console) with any of the methods `thinking(session)`,
    `experiment_done(session, experiment_id, rig_fault_streak)` and
    `safe_state(session, detail, complete)`; a hook that raises is logged and ignored.
    """
    campaign = session.campaign
    photons = campaign.wants_photons
    hours = campaign.budget.hours
    reactor_volume = getattr(rig, "reactor_volume_ul", None)
    result = LoopResult("error", 1)
    with _Signals(say) as sigs:
        try:
            rig.prepare()
            from sdl.rigs import device_identities

            session.identify_rig(device_identities(rig))  # hardware: same devices as recorded
            limits = rig.limits()
            faults: list[str] = []  # reasons of the rig faults in a row, this process
            for trial in recover(session, rig, photons, say):
                _report_line(session, trial.experiment_id, say, progress)
                faults = _rig_fault_streak(session, faults, trial.experiment_id)
                _hook(hooks, "experiment_done", session, trial.experiment_id, faults)
            while True:
                st = session.state
                if hours is not None and st.active_seconds() >= hours * 3600:
                    result = LoopResult("hours", 0, f"time budget of {hours} h used")
                    break
                if campaign.budget.stop_when_target_reached and any(
                        target_reached(campaign, e.outcomes) for e in st.completed):
                    result = LoopResult("target_reached", 0)
                    break
                _hook(hooks, "thinking", session)
                trials = session.ask()
                if not trials:
                    result = LoopResult("budget", 0, f"{session.budget} experiments done")
                    break
                for trial in trials:
                    run_trial(session, rig, trial, limits, reactor_volume, photons)
                    _report_line(session, trial.experiment_id, say, progress)
                    faults = _rig_fault_streak(session, faults, trial.experiment_id)
                    _hook(hooks, "experiment_done", session, trial.experiment_id, faults)
                if len(faults) >= MAX_CONSECUTIVE_RIG_FAULTS:
                    result = LoopResult(
                        "rig_faults", 3,
                        f"{len(faults)} rig faults in a row ({', '.join(faults)}); fix the "
                        f"rig, then `sdl resume {session.run_dir}`")
                    break
        except StopRequested as e:
            result = _signal_result(e.signame)
        except Exception as e:  # noqa: BLE001 - any failure must still reach the safe state
            if sigs.signame is not None:
                # the StopRequested raised by the handler surfaced wrapped by library code
                # (e.g. numba's SystemError, a driver's error): it is still the signal
                result = _signal_result(sigs.signame, f" (surfaced as {type(e).__name__})")
            elif exit_code_of(e) is not None:
                result = LoopResult("error", exit_code_of(e), str(e))
            else:
                log.exception("loop failed")
                result = LoopResult("error", 1, f"{type(e).__name__}: {e}")
        finally:
            sigs.stopping = True
            _make_safe(session, rig, result, say, hooks)
    return result


def _hook(hooks: Sequence[Any], name: str, *args: Any) -> None:
    """Call `name(*args)` on every hook that has it; never let one stop the loop."""
    for h in hooks:
        fn = getattr(h, name, None)
        if fn is None:
            continue
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - observers must not stop the campaign
            log.warning("%s hook of %s failed: %s: %s", name, type(h).__name__,
                        type(e).__name__, e)


def _signal_result(signame: str, note: str = "") -> LoopResult:
    return LoopResult("signal", 130 if signame == "SIGINT" else 143, signame + note)


def _rig_fault_streak(session: Session, faults: list[str], eid: str) -> list[str]:
    """The streak of rig-fault reasons extended by experiment `eid` (or reset by it)."""
    e = session.state.experiments[eid]
    kind = (e.failure or {}).get("kind") if e.status == "failed" else None
    if kind in RIG_FAULT_KINDS:
        return [*faults, str((e.failure or {}).get("reason"))]
    return [] if e.status in ("scored", "failed") else faults


def _make_safe(session: Session, rig: Any, result: LoopResult, say: Callable[[str], None],
               hooks: Sequence[Any] = ()) -> None:
    detail = "rig safe"
    complete = True
    try:
        rig.safe_state()
        unreached = list(getattr(rig, "safe_state_problems", None) or [])
        if unreached:
            detail = "safe state INCOMPLETE: " + "; ".join(unreached)
            complete = False
            say(f"WARNING: {detail}; make those devices safe by hand")
    except Exception as e:  # noqa: BLE001
        detail = f"safe_state raised {type(e).__name__}: {e}"
        complete = False
        say(f"WARNING: {detail}; check the rig by hand")
    try:
        session.safe_state_recorded(detail)
        _hook(hooks, "safe_state", session, detail, complete)
        session.stop(result.reason, result.detail)
    finally:
        try:
            rig.close()
        except Exception as e:  # noqa: BLE001
            say(f"WARNING: closing the rig raised {type(e).__name__}: {e}")


def run_trial(session: Session, rig: Any, trial: Trial, limits: Any,
              reactor_volume_ul: float | None, photons: bool) -> None:
    """Safety check, dispatch, run, record, score one experiment."""
    from hardware.limits import check_conditions

    problems = check_conditions(trial.full_conditions, limits, reactor_volume_ul=reactor_volume_ul)
    if problems:
        session.reject(trial.experiment_id, problems)
        return
    session.dispatch(trial.experiment_id)
    with session.timed("rig"):
        raw = rig.run(trial.full_conditions, trial.experiment_id, photons=photons)
    session.tell_raw(trial.experiment_id, raw)


def recover(session: Session, rig: Any, photons: bool, say: Callable[[str], None]) -> list[Trial]:
    """Finish what a previous process left half done (see module docstring)."""
    done = []
    limits = None
    for e in list(session.state.unfinished):
        if e.status == "measured":
            say(f"{e.experiment_id}: measured before the interruption; scoring its raw file")
            session.score(e.experiment_id)
        else:
            if limits is None:
                limits = rig.limits()
            if e.status == "dispatched":
                say(f"{e.experiment_id}: dispatched but never measured; running it again (retry)")
            run_trial(session, rig, session.trial(e.experiment_id), limits,
                      getattr(rig, "reactor_volume_ul", None), photons)
        done.append(session.trial(e.experiment_id))
    return done


def best_line(session: Session) -> str:
    st = session.state
    scored = [e for e in st.completed if e.status == "scored"]
    i = best_index(session.campaign, [e.outcomes for e in scored], [e.conditions for e in scored])
    if i is None:
        return "best: none yet"
    e = scored[i]
    parts = [f"{n}={_fmt(e.outcomes[n])}" for n in session.campaign.outcome_names if n in e.outcomes]
    return f"best {e.experiment_id}: " + " ".join(parts)


def _fmt(o: dict[str, Any]) -> str:
    if o.get("value") is None:
        return o.get("no_outcome", "n/a")
    return f"{o['value']:.4g}"


def _report_line(session: Session, eid: str, say: Callable[[str], None], progress: Any) -> None:
    e = session.state.experiments[eid]
    n_done = len(session.state.completed)
    conds = " ".join(f"{k}={_short(v)}" for k, v in e.conditions.items())
    if e.status == "failed":
        f = e.failure or {}
        what = f"FAILED {f.get('kind')}: {f.get('reason')}"
    else:
        what = " ".join(f"{n}={_fmt(o)}" for n, o in e.outcomes.items())
    from sdl.console import timing_suffix

    say(f"[{n_done}/{session.budget}] {eid} {conds} -> {what}{timing_suffix(session, eid)}")
    if progress is not None:
        progress(n_done, session.budget, best_line(session))


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


