"""What the dashboard shows, read from run directories without ever writing to them.

`RunCatalog(paths)` finds runs: each path is a run directory or a folder whose
sub-folders are run directories (re-scanned on every listing, so a run started after
`sdl serve` shows up). `RunView(run_dir)` follows one run: it keeps a read-only SQLite
connection (`mode=ro`; a WAL reader never blocks the writer) and folds only the events
appended since the last look (`sdl.state.apply_event`), so a poll costs O(new events).

JSON shapes (plain dicts) are built by `summary()`, `events_after()` and `view()`;
keys of `summary()` include the contract of `GET /api/runs`: run_dir, campaign, state,
experiments_completed, experiments_failed, budget, best.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sdl.record import EVENT_COLUMNS, Event, event_from_row, jsonable
from sdl.rundir import RECORD_NAME, is_locked, is_run_dir
from sdl.state import RunState, apply_event, run_phase

MAX_EVENTS_PER_CALL = 2000  # `events_after` pages at this size
MAX_SPECTRUM_POINTS = 600  # spectra are thinned to this many points for the browser
LOG_TAIL = 25  # device-log lines shown
FAILURES_SHOWN = 50


class RunView:
    """Incremental read-only view of one run directory (thread-safe)."""

    def __init__(self, run_dir: Path, name: str):
        self.run_dir = Path(run_dir)
        self.name = name
        self.state = RunState()
        self.events: list[Event] = []
        self.campaign: Any = None
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # refresh and the JSON builders share the state
        self._raw_cache: dict[str, dict[str, Any]] = {}

    # --- reading ---------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and (self.run_dir / RECORD_NAME).exists():
            uri = f"file:{self.run_dir / RECORD_NAME}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None,
                                       check_same_thread=False)
        return self._db

    def refresh(self) -> None:
        """Fold the events committed since the last call."""
        with self._lock:
            db = self._connect()
            if db is None:
                return
            last = self.events[-1].seq if self.events else 0
            since = f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq"
            try:
                rows = db.execute(since, (last,)).fetchall()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):  # the writer has not created it yet
                    return
                # a read-only archive (no write permission for the -shm file): read the
                # main file as immutable, as `Record(readonly=True)` does, when no writer
                # is live
                if is_locked(self.run_dir):
                    return
                db.close()
                self._db = sqlite3.connect(f"file:{self.run_dir / RECORD_NAME}?immutable=1",
                                           uri=True, isolation_level=None,
                                           check_same_thread=False)
                try:
                    rows = self._db.execute(since, (last,)).fetchall()
                except sqlite3.DatabaseError:
                    return
            for row in rows:
                ev = event_from_row(row)
                self.events.append(ev)
                apply_event(self.state, ev)
                if ev.kind == "campaign_started" and self.campaign is None:
                    self.campaign = _campaign(ev.payload)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    # --- JSON --------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """One entry of `GET /api/runs` (call `refresh()` first)."""
        with self._lock:
            return self._summary()

    def _summary(self) -> dict[str, Any]:
        from sdl.report.physical import eta
        from sdl.utility import best_index

        st = self.state
        live = is_locked(self.run_dir)
        now = datetime.now(UTC)
        active = st.active_seconds(now if live else None)
        hours = self.campaign.budget.hours if self.campaign is not None else None
        e = eta(st, active, hours)
        best = None
        if self.campaign is not None:
            scored = [x for x in st.completed if x.status == "scored"]
            i = best_index(self.campaign, [x.outcomes for x in scored], [x.conditions for x in scored])
            if i is not None:
                b = scored[i]
                best = {"experiment_id": b.experiment_id, "conditions": b.conditions,
                        "outcomes": b.outcomes}
        return jsonable({
            "name": self.name,
            "run_dir": str(self.run_dir),
            "campaign": self.campaign.name if self.campaign is not None else None,
            "state": run_phase(st, live),
            "experiments_completed": len(st.completed),
            "experiments_failed": sum(x.status == "failed" for x in st.completed),
            "experiments_unfinished": [x.experiment_id for x in st.unfinished],
            "budget": st.budget,
            "prior_experiments": sum(len(p.get("rows") or []) for p in st.priors),
            "best": best,
            "stopped_reason": (st.stopped or {}).get("reason"),
            "last_seq": self.last_seq,
            "last_event_ts": st.last_ts,
            "active_seconds": active,
            "seconds_per_experiment": e.seconds_per_experiment,
            "eta_seconds": e.seconds_left if live or st.stopped is None else None,
        })

    def events_after(self, after: int, limit: int = MAX_EVENTS_PER_CALL) -> dict[str, Any]:
        """Events with seq > `after` (at most `limit`), as JSON."""
        with self._lock:
            evs = [ev for ev in self.events[max(0, after):] if ev.seq > after][:limit]
        return {"run": self.name, "after": after, "last_seq": self.last_seq,
                "events": [{"seq": ev.seq, "ts": ev.ts, "kind": ev.kind,
                            "experiment_id": ev.experiment_id, "payload": ev.payload,
                            "hash": ev.hash} for ev in evs]}

    def view(self) -> dict[str, Any]:
        """Everything the dashboard draws for this run."""
        with self._lock:
            return self._view()

    def _view(self) -> dict[str, Any]:
        from sdl.report.physical import first_target_hit, objective_traces, pareto_pairs
        from sdl.report.terms import PLAIN, UNITS

        st = self.state
        out: dict[str, Any] = {"summary": self.summary(), "traces": [], "pareto": [],
                               "target_hit": None, "units": UNITS, "plain": PLAIN}
        if self.campaign is not None:
            done = st.completed
            out["traces"] = [t.to_json() for t in objective_traces(self.campaign, done)]
            scored = [e for e in done if e.status == "scored"]
            out["pareto"] = [p.to_json() for p in pareto_pairs(self.campaign, scored)]
            hit = first_target_hit(self.campaign, done)
            out["target_hit"] = hit.experiment_id if hit else None
            out["objectives"] = [{"name": o.name, "goal": o.goal, "target": o.target,
                                  "tolerance": o.tolerance} for o in self.campaign.objectives]
        out["failures"] = [
            {"experiment_id": e.experiment_id, **(e.failure or {})}
            for e in st.completed if e.status == "failed"][-FAILURES_SHOWN:]
        out["safe_states"] = [{"seq": ev.seq, "ts": ev.ts, "detail": ev.payload.get("detail")}
                              for ev in self.events if ev.kind == "safe_state"][-10:]
        out["stops"] = [{"seq": ev.seq, "ts": ev.ts, "reason": ev.payload.get("reason"),
                         "detail": ev.payload.get("detail")}
                        for ev in self.events if ev.kind == "stopped"][-10:]
        out["latest"] = self._latest_raw()
        return jsonable(out)

    def _latest_raw(self) -> dict[str, Any] | None:
        """Spectra, g2 histogram, device-log tail and rig state of the most recently
        measured experiment with a raw file (sha256-checked, cached per experiment)."""
        cands = [e for e in self.state.experiments.values() if e.raw_file and e.measured_at]
        if not cands:
            return None
        e = max(cands, key=lambda x: x.measured_at or "")
        if e.experiment_id not in self._raw_cache:
            self._raw_cache[e.experiment_id] = _raw_view(self.run_dir, e)
        return {**self._raw_cache[e.experiment_id], "status": e.status}


def _campaign(started: dict[str, Any]) -> Any:
    from sdl.errors import CampaignError
    from sdl.schema.load import campaign_from_toml

    try:
        return campaign_from_toml(started["campaign_toml"], "record")
    except (CampaignError, KeyError, TypeError, AttributeError):
        return None


def _thin(x: np.ndarray, n: int = MAX_SPECTRUM_POINTS) -> np.ndarray:
    step = max(1, -(-len(x) // n))
    return x[::step]


def _raw_view(run_dir: Path, e: Any) -> dict[str, Any]:
    from sdl.report.raw import absorbance, coincidence_histogram, g2_window, load_checked

    raw, why = load_checked(run_dir, e)
    out: dict[str, Any] = {"experiment_id": e.experiment_id, "note": why}
    if raw is None:
        return out
    wl = np.asarray(raw.wavelengths_nm, np.float64)
    pl = np.asarray(raw.pl_sample_counts, np.float64) - np.asarray(raw.pl_dark_counts, np.float64)
    out["wavelengths_nm"] = _thin(wl)
    out["absorbance"] = _thin(absorbance(raw))
    out["pl_counts"] = _thin(pl)
    out["g2"] = None
    if raw.photon_timestamps_ps is not None and len(raw.photon_timestamps_ps) > 1:
        try:
            max_delay, bin_ps = g2_window(raw.sync_period_ps)
            h = coincidence_histogram(raw.photon_timestamps_ps, raw.photon_channels,
                                      max_delay, bin_ps)
            centres_ns = (h.edges_ps[:-1] + h.edges_ps[1:]) / 2e3
            out["g2"] = {"delay_ns": centres_ns, "counts": h.counts,
                         "detectors": list(h.detectors)}
        except ValueError as err:
            out["note"] = f"g2 histogram not drawn: {err}"
    out["device_log_tail"] = list(raw.device_log or [])[-LOG_TAIL:]
    md = raw.metadata or {}
    out["rig_state"] = {k: md.get(k) for k in ("temperature_c", "flows_ul_min",
                                               "material", "excitation_nm") if k in md}
    out["conditions"] = raw.conditions
    out["failure"] = None if raw.failure is None else {
        "kind": raw.failure.kind, "reason": raw.failure.reason, "detail": raw.failure.detail}
    return out


class RunCatalog:
    """The runs under the paths given to `sdl serve` (run dirs or folders of run dirs)."""

    def __init__(self, paths: list[Path]):
        self.paths = [Path(p) for p in paths]
        self._views: dict[str, RunView] = {}
        self._by_dir: dict[Path, str] = {}
        self._lock = threading.Lock()

    def _scan(self) -> list[Path]:
        found = []
        for p in self.paths:
            if is_run_dir(p):
                found.append(p)
            elif p.is_dir():
                found.extend(sorted(d for d in p.iterdir() if d.is_dir() and is_run_dir(d)))
        return found

    def views(self) -> list[RunView]:
        """All runs, newly found ones added; each refreshed."""
        with self._lock:
            for d in self._scan():
                key = d.resolve()
                if key in self._by_dir:
                    continue
                name = d.name
                i = 2
                while name in self._views:
                    name, i = f"{d.name}-{i}", i + 1
                self._views[name] = RunView(d, name)
                self._by_dir[key] = name
            views = list(self._views.values())
        for v in views:
            v.refresh()
        return views

    def get(self, name: str) -> RunView | None:
        with self._lock:
            v = self._views.get(name)
        if v is None:
            self.views()
            with self._lock:
                v = self._views.get(name)
        if v is not None:
            v.refresh()
        return v

    def close(self) -> None:
        for v in self._views.values():
            v.close()
