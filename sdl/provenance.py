"""Provenance: what drives a run, so that resume re-attaches only the same kind of driver
and the audit can say, for every experiment, what produced it.

Every session records its driver: `campaign_started.driver` for the first one and
`resumed.driver` for each later one. A driver is one of

    {"kind": "simulator", "material": "CdSe", "seed": 7}
    {"kind": "simulator", "material": ..., "seed": ..., "fallback_for_rig_sha256": "...",
     "fallback_reason": "..."}                    # --fallback-to-simulator took over
    {"kind": "hardware", "rig_name": "...", "rig_file": "rig.toml",
     "rig_sha256": "<sha256 of the rig file>", "devices": {device: identity} | None}
    {"kind": "external", "via": "python_api"}     # sdl.api ask/tell: the lab's own loop

A run's kind is the kind of its first session. A later session of another kind is a mix
the record must explain: the only explanations are an explicit `--fallback-to-simulator`
(the session's driver says so) and, between two rig files or two sets of devices, a
`rig_changed` event (`sdl resume RUN --rig NEW.toml`). Device identities (serial numbers,
firmware) are read when the rig is prepared; when the rig cannot report them before, a
`rig_identified` event right after `prepare()` records them.

Records written before provenance have no `driver`: the kind is read from the older
`rig_kind` field when there is one ("flowrig" -> hardware, "external", "simulator",
"simulator-fallback"), and is "unknown" otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sdl.record import Event

EXTERNAL_DRIVER: dict[str, Any] = {"kind": "external", "via": "python_api"}
KINDS = ("simulator", "hardware", "external", "unknown")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def simulator_driver(material: str, seed: int, *, fallback_for_rig_sha256: str | None = None,
                     fallback_reason: str | None = None) -> dict[str, Any]:
    """The built-in simulator (`simulator.SimulatedRig(material, seed)`)."""
    d: dict[str, Any] = {"kind": "simulator", "material": material, "seed": int(seed)}
    if fallback_for_rig_sha256 is not None:
        d["fallback_for_rig_sha256"] = fallback_for_rig_sha256
        d["fallback_reason"] = fallback_reason or ""
    return d


def hardware_driver(rig_bytes: bytes, rig_name: str,
                    devices: Mapping[str, str] | None) -> dict[str, Any]:
    """A rig file driving real (or emulated) devices, identified by the file's sha256 and
    the identities its devices reported (None when not read yet)."""
    return {"kind": "hardware", "rig_name": rig_name, "rig_file": "rig.toml",
            "rig_sha256": sha256_bytes(rig_bytes),
            "devices": None if devices is None else {str(k): str(v) for k, v in devices.items()}}


def driver_of_started(started: Mapping[str, Any] | None) -> dict[str, Any]:
    """The driver a `campaign_started` payload records (inferred for older records)."""
    if not started:
        return {"kind": "unknown"}
    d = started.get("driver")
    if isinstance(d, dict) and d.get("kind") in KINDS:
        return dict(d)
    rig_kind = started.get("rig_kind")
    if rig_kind == "external":
        return dict(EXTERNAL_DRIVER, inferred=True)
    if rig_kind == "flowrig":
        text = started.get("rig_toml")
        return {"kind": "hardware", "rig_file": "rig.toml", "inferred": True, "devices": None,
                "rig_sha256": sha256_bytes(text.encode()) if isinstance(text, str) else None}
    if rig_kind in ("simulator", "simulator-fallback"):
        campaign = started.get("campaign") or {}
        material = (campaign.get("campaign") or {}).get("material")
        d = {"kind": "simulator", "material": material, "seed": started.get("seed"),
             "inferred": True}
        if rig_kind == "simulator-fallback":
            d["fallback_for_rig_sha256"] = None
            d["fallback_reason"] = "--fallback-to-simulator (recorded before provenance)"
        return d
    return {"kind": "unknown"}


def _driver_of_resumed(payload: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    d = payload.get("driver")
    if isinstance(d, dict) and d.get("kind") in KINDS:
        return dict(d)
    # Before provenance: the API recorded previous_phase="ask_tell"; `sdl resume` went on
    # with the rig file for hardware runs and with the simulator for everything else.
    if payload.get("previous_phase") == "ask_tell":
        return dict(EXTERNAL_DRIVER, inferred=True)
    if run.get("kind") == "hardware":
        return dict(run, inferred=True)
    if run.get("kind") == "unknown":
        return {"kind": "unknown"}
    return {"kind": "simulator", "inferred": True}


def describe(driver: Mapping[str, Any]) -> str:
    """One short phrase: what the driver is."""
    kind = driver.get("kind")
    if kind == "simulator":
        s = f"simulator ({driver.get('material')}, seed {driver.get('seed')})"
        if "fallback_for_rig_sha256" in driver:
            s += " as --fallback-to-simulator"
        return s
    if kind == "hardware":
        sha = driver.get("rig_sha256") or "?"
        name = driver.get("rig_name")
        return f"hardware rig{' ' + repr(name) if name else ''} (rig file sha256 {sha[:12]})"
    if kind == "external":
        return "external driver (Python ask/tell API)"
    return "unknown driver (the record predates provenance)"


@dataclass
class Session:
    """One session of a run: from campaign_started or a resumed event to the next one."""

    index: int  # 1 for the first session
    seq: int  # seq of its campaign_started / resumed event
    driver: dict[str, Any]
    rig_sha256: str | None = None  # rig file in force during the session (hardware)
    devices: dict[str, str] | None = None  # device identities in force
    rig_changes: int = 0  # rig_changed events in this session
    problems: list[str] = field(default_factory=list)  # unexplained changes of driver


@dataclass
class Provenance:
    """What drove a run: its kind, each session's driver and each experiment's session."""

    run_driver: dict[str, Any]
    sessions: list[Session] = field(default_factory=list)
    produced_by: dict[str, int] = field(default_factory=dict)  # experiment id -> session index
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.run_driver.get("kind", "unknown"))

    def session_of(self, experiment_id: str) -> Session | None:
        i = self.produced_by.get(experiment_id)
        return None if i is None else self.sessions[i - 1]


def provenance(events: Iterable[Event]) -> Provenance:
    """Walk the events: the driver of every session, which session produced each
    experiment (the one that measured it, or that closed it without a measurement), and
    every change of driver that the record does not explain."""
    prov: Provenance | None = None
    current: Session | None = None
    expected_sha: str | None = None  # rig file the run is entitled to (after rig changes)
    expected_devices: dict[str, str] | None = None
    for ev in events:
        p = ev.payload if isinstance(ev.payload, dict) else {}
        if ev.kind == "campaign_started":
            run = driver_of_started(p)
            prov = Provenance(run)
            current = Session(1, ev.seq, run)
            prov.sessions.append(current)
            if run.get("kind") == "hardware":
                expected_sha, expected_devices = run.get("rig_sha256"), run.get("devices")
                current.rig_sha256, current.devices = expected_sha, expected_devices
            if run.get("kind") == "unknown":
                prov.notes.append("provenance: the record predates provenance, so what drove "
                                  "this run is unknown")
            elif run.get("inferred"):
                prov.notes.append(f"provenance: inferred from an older record: {describe(run)}")
            continue
        if prov is None or current is None:
            continue
        if ev.kind == "resumed":
            d = _driver_of_resumed(p, prov.run_driver)
            current = Session(len(prov.sessions) + 1, ev.seq, d)
            prov.sessions.append(current)
            _check_session_kind(prov, current)
            if d.get("kind") == "hardware":
                sha = d.get("rig_sha256")
                if sha and expected_sha and sha != expected_sha:
                    current.problems.append(
                        f"session {current.index} (event {ev.seq}) ran rig file sha256 "
                        f"{sha[:12]} but the run was on {expected_sha[:12]} and no rig_changed "
                        "event explains the change")
                current.rig_sha256 = sha or expected_sha
                current.devices = d.get("devices") if d.get("devices") is not None else None
                if current.devices is not None:
                    _check_devices(current, expected_devices, ev.seq)
                    expected_devices = current.devices
        elif ev.kind == "rig_changed":
            current.rig_changes += 1
            expected_sha = p.get("to_sha256")
            expected_devices = None  # the new rig's devices are identified afresh
            current.rig_sha256 = expected_sha
        elif ev.kind == "rig_identified":
            devices = p.get("devices")
            if isinstance(devices, dict):
                current.devices = dict(devices)
                _check_devices(current, expected_devices, ev.seq)
                expected_devices = current.devices
        elif ev.experiment_id is not None and ev.kind in ("measured", "failed", "scored"):
            eid = ev.experiment_id
            if ev.kind == "measured" or eid not in prov.produced_by:
                prov.produced_by[eid] = current.index
            if ev.kind == "measured" and p.get("source") == "external" \
                    and current.driver.get("kind") not in ("external", "unknown"):
                current.problems.append(
                    f"event {ev.seq} ({eid}): outcomes told from outside (ask/tell) in a "
                    f"session driven by the {describe(current.driver)}")
    if prov is None:
        return Provenance({"kind": "unknown"})
    for s in prov.sessions:
        prov.problems += s.problems
    return prov


def _check_session_kind(prov: Provenance, s: Session) -> None:
    run_kind, kind = prov.kind, s.driver.get("kind")
    if kind == run_kind or "unknown" in (run_kind, kind):
        if kind == "unknown" and run_kind != "unknown":
            prov.notes.append(f"provenance: session {s.index} (event {s.seq}) does not say what "
                              "drove it (recorded before provenance)")
        return
    if run_kind == "hardware" and kind == "simulator" and "fallback_for_rig_sha256" in s.driver:
        prov.notes.append(f"provenance: session {s.index} (event {s.seq}) ran on the simulator "
                          f"by --fallback-to-simulator ({s.driver.get('fallback_reason') or 'rig unavailable'})")
        return
    s.problems.append(
        f"session {s.index} (event {s.seq}) was driven by the {describe(s.driver)}, but this run "
        f"is driven by the {describe(prov.run_driver)}; the record explains no change of driver")


def _check_devices(s: Session, expected: dict[str, str] | None, seq: int) -> None:
    if expected is not None and s.devices is not None and s.devices != expected:
        s.problems.append(f"event {seq}: the devices answering ({_diff(expected, s.devices)}) are "
                          "not the ones recorded before, and no rig_changed event explains it")


def _diff(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    parts = []
    for k in sorted(set(before) | set(after)):
        if before.get(k) != after.get(k):
            parts.append(f"{k}: {before.get(k)!r} -> {after.get(k)!r}")
    return "; ".join(parts) or "same"


def expected_rig(events: Iterable[Event]) -> tuple[str | None, str | None, dict[str, str] | None]:
    """(rig file text, its sha256, device identities) the run is entitled to continue
    with: the started rig, or the latest `rig_changed` one."""
    text = sha = None
    devices: dict[str, str] | None = None
    for ev in events:
        p = ev.payload if isinstance(ev.payload, dict) else {}
        if ev.kind == "campaign_started":
            d = driver_of_started(p)
            text = p.get("rig_toml")
            sha = d.get("rig_sha256") if d.get("kind") == "hardware" else None
            devices = d.get("devices") if d.get("kind") == "hardware" else None
        elif ev.kind == "rig_changed":
            text, sha, devices = p.get("rig_toml"), p.get("to_sha256"), None
        elif ev.kind == "rig_identified" and isinstance(p.get("devices"), dict):
            devices = dict(p["devices"])
        elif ev.kind == "resumed":
            d = p.get("driver")
            if isinstance(d, dict) and d.get("kind") == "hardware" and isinstance(d.get("devices"), dict):
                devices = dict(d["devices"])
    return text, sha, devices
