"""Alerts through Apprise (`sdl run/resume --notify URL`, repeatable): email, Slack,
Teams, ntfy, Matrix, generic `json://` webhooks, ... (any Apprise URL).

`Notifier` is a loop hook (see `sdl.loop.run_loop(hooks=...)`). It posts when
  - an experiment fails with an interlock;                         (`experiment_done`)
  - the rig faults three times in a row;                           (`experiment_done`)
  - the target is first reached (all targets within tolerance);    (`experiment_done`)
  - the safe state is incomplete (a device could not be made safe);(`safe_state`)
  - the campaign stops, for any reason, with the resume command;   (`stopped`)
  - every day at `summary_at` (local time, HH:MM): a morning summary (background thread).
Sending never raises: a failure is logged (WARNING) and the campaign goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sdl.errors import SdlError

log = logging.getLogger(__name__)

DEFAULT_SUMMARY_AT = "07:00"


def parse_hhmm(text: str) -> tuple[int, int]:
    """'07:30' -> (7, 30); SdlError for anything else."""
    try:
        h, m = text.split(":")
        hh, mm = int(h), int(m)
    except ValueError:
        hh = mm = -1
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise SdlError(f"--notify-summary-at {text!r}: expected local time as HH:MM, e.g. 07:00")
    return hh, mm


def next_occurrence(now: datetime, hhmm: tuple[int, int]) -> datetime:
    """The first time strictly after `now` whose wall clock reads `hhmm` (same tzinfo)."""
    t = now.replace(hour=hhmm[0], minute=hhmm[1], second=0, microsecond=0)
    return t if t > now else t + timedelta(days=1)


class Notifier:
    """Apprise alerts of one run. Build it before the loop (bad URLs fail early).

    Args:
        urls: Apprise URLs (at least one).
        run_dir: the run directory (named in every message and in the resume command).
        campaign_name: campaign name for titles.
        summary_at: local HH:MM of the daily morning summary, or None for none.
        now: clock for the summary schedule (injectable for tests).
    """

    def __init__(self, urls: Sequence[str], run_dir: str | Path, campaign_name: str, *,
                 summary_at: str | None = DEFAULT_SUMMARY_AT,
                 now: Callable[[], datetime] = datetime.now):
        try:
            import apprise
        except ImportError:
            raise SdlError("--notify needs Apprise: pip install 'qd-sdl[notify]'") from None
        self._apprise = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url):
                raise SdlError(f"--notify {url!r} is not a URL Apprise understands (e.g. "
                               "json://host:port/path, mailto://user:pass@host, "
                               "ntfy://topic); see the Apprise wiki for the services")
        self._types = apprise.NotifyType
        self.run_dir = str(run_dir)
        self.campaign_name = campaign_name
        self.sent: list[tuple[str, str]] = []  # (title, body) of every attempt, for logs
        self.failures = 0
        self._target_announced = False
        self._summary_at = parse_hhmm(summary_at) if summary_at else None
        self._now = now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- sending -------------------------------------------------------------------
    def send(self, title: str, body: str, level: str = "info") -> bool:
        """Post to every URL; True when all accepted it. Never raises."""
        notify_type = {"info": self._types.INFO, "success": self._types.SUCCESS,
                       "warning": self._types.WARNING, "failure": self._types.FAILURE}[level]
        self.sent.append((title, body))
        try:
            ok = bool(self._apprise.notify(body=body, title=title, notify_type=notify_type))
        except Exception as e:  # noqa: BLE001 - an alert must never stop the campaign
            log.warning("notification %r not sent: %s: %s", title, type(e).__name__, e)
            ok = False
        else:
            if not ok:
                log.warning("notification %r not sent (see the apprise log lines above)", title)
        if not ok:
            self.failures += 1
        return ok

    def _title(self, what: str) -> str:
        return f"sdl {self.campaign_name}: {what}"

    # --- loop hooks ----------------------------------------------------------------
    def experiment_done(self, session: Any, experiment_id: str, faults: list[str]) -> None:
        from sdl.loop import MAX_CONSECUTIVE_RIG_FAULTS
        from sdl.utility import target_reached

        e = session.state.experiments[experiment_id]
        f = e.failure or {}
        if e.status == "failed" and f.get("kind") == "interlock":
            self.send(self._title(f"interlock tripped ({experiment_id})"),
                      f"{experiment_id}: interlock {f.get('reason')}"
                      + (f" — {f.get('detail')}" if f.get("detail") else "")
                      + f". Run: {self.run_dir}", "failure")
        if len(faults) == MAX_CONSECUTIVE_RIG_FAULTS:
            self.send(self._title(f"{len(faults)} rig faults in a row"),
                      f"The last {len(faults)} experiments failed on the rig: "
                      f"{', '.join(faults)}. The campaign stops; fix the rig, then "
                      f"`sdl resume {self.run_dir}`.", "failure")
        if (not self._target_announced and e.status == "scored"
                and target_reached(session.campaign, e.outcomes)):
            earlier = [x for x in session.state.completed if x.experiment_id != experiment_id
                       and x.status == "scored" and target_reached(session.campaign, x.outcomes)]
            self._target_announced = True
            if not earlier:  # first in this run (a resumed run does not re-announce)
                outs = ", ".join(f"{k} = {v.get('value'):.4g}" for k, v in e.outcomes.items()
                                 if v.get("value") is not None)
                self.send(self._title(f"target reached by {experiment_id}"),
                          f"{experiment_id} met every target within tolerance: {outs}. "
                          f"Conditions: {_conds(e.conditions)}. Run: {self.run_dir}", "success")

    def safe_state(self, session: Any, detail: str, complete: bool) -> None:
        if not complete:
            self.send(self._title("SAFE STATE INCOMPLETE"),
                      f"{detail}. Make those devices safe by hand. Run: {self.run_dir}",
                      "failure")

    def stopped(self, session: Any, result: Any) -> None:
        """After the loop: the stop message (any reason) with the resume command."""
        try:
            title, body, level = self._stop_message(session, result)
        except Exception as e:  # noqa: BLE001 - still say that it stopped
            log.warning("stop message not built: %s: %s", type(e).__name__, e)
            title, body, level = (self._title(f"stopped ({result.reason})"),
                                  f"To continue: sdl resume {self.run_dir}", "failure")
        self.send(title, body, level)

    def _stop_message(self, session: Any, result: Any) -> tuple[str, str, str]:
        from sdl.loop import best_line

        st = session.state
        n_failed = sum(e.status == "failed" for e in st.completed)
        ok = result.exit_code == 0
        what = "finished" if ok else "STOPPED"
        body = (f"{what}: {result.reason}" + (f" ({result.detail})" if result.detail else "")
                + f"; {len(st.completed)}/{session.budget} experiments done, {n_failed} failed. "
                f"{best_line(session)}. ")
        body += (f"To continue: sdl resume {self.run_dir}" if not ok else
                 f"Report: sdl report {self.run_dir}")
        return self._title(f"{what} ({result.reason})"), body, "success" if ok else "failure"

    # --- morning summary -----------------------------------------------------------
    def summary_text(self) -> tuple[str, str]:
        """(title, body) of the morning summary, from the record (read-only)."""
        from sdl.commands.status import status

        s = status(self.run_dir)
        body = (f"{s['state']}: {s['experiments_completed']}/{s['budget']} experiments done, "
                f"{s['experiments_failed']} failed.")
        if s.get("best"):
            b = s["best"]
            outs = ", ".join(f"{k} = {v.get('value'):.4g}" for k, v in b["outcomes"].items()
                             if v.get("value") is not None)
            body += f" Best {b['experiment_id']}: {outs}."
        if s["state"] in ("stopped", "crashed"):
            body += f" To continue: sdl resume {self.run_dir}"
        return self._title("morning summary"), body

    def send_summary(self) -> bool:
        try:
            title, body = self.summary_text()
        except Exception as e:  # noqa: BLE001
            log.warning("morning summary not built: %s: %s", type(e).__name__, e)
            return False
        return self.send(title, body)

    def start(self) -> None:
        """Start the daily summary thread (no-op without `summary_at`)."""
        if self._summary_at is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._summaries, name="sdl-morning-summary",
                                        daemon=True)
        self._thread.start()

    def _summaries(self) -> None:
        while True:
            now = self._now()
            wait = (next_occurrence(now, self._summary_at) - now).total_seconds()
            if self._stop.wait(max(0.0, wait)):
                return
            self.send_summary()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _conds(c: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                     for k, v in c.items())
