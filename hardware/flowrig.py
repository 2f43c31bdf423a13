"""`FlowRig`: the `Rig` protocol over real drivers (pumps, heaters, a spectrometer, a
photon-file folder and a light path), opened through the driver registry
(`hardware.devices.RigDevices`, `hardware.registry.open_device`).

Split by concept: this module holds the Rig protocol (prepare, run, safe_state, close)
and the state machine; `hardware.sequencing` the steps of one experiment;
`hardware.polling` polling, interlocks, light-path confirmation and recovery;
`hardware.rig_state` the transition table and device log.

One experiment (`run`), as a literal state machine (`TRANSITIONS`, every transition in
the device log):

    idle -> checking -> heating -> flushing -> measuring -> idle
    any active state -> tripped -> safe -> idle          (interlock: experiment failed)
    checking -> idle                                     (plan rejected: no device moved)

- checking: conditions -> inlet flows (`sdl.vocab.flows.flows_from_conditions`, stocks
  from the rig file) and `hardware.limits.check_plan` (limits, syringe volume remaining
  for flush + measurement, ramp rate). A rejected plan returns a measurement with
  failure kind "rejected" before any device command.
- heating: comms setpoint (register 26, RAM) and the ramp rate (EEPROM, written only
  when it changes); wait until every heater is within `reactor.temperature_band_c` of
  its setpoint for `reactor.stable_for_s`.
- flushing: pumps at their rates (safe-mode watchdog armed) for `reactor.flush_volumes`
  residence times of the whole path: t = n (V_core / Q_core + V_stage2 / Q_total) 60 s.
- measuring: solvent in the cell: dark, lamp reference; reference dye (when the optics
  device declares one): excitation (reference PL for relative PLQY); sample: lamp, dark,
  excitation (PL); photon file when asked. The optics device's constants (excitation
  line, solvent index, dilution, reference dye) go into the metadata. Every light or
  cell move is read back; the rig never acquires through an unconfirmed light path (a
  disagreement fails the experiment as interlock `light_path_unconfirmed`). Then pumps
  stop, watchdog disarmed, heaters stay at their setpoint for the next experiment (the
  loop's final `safe_state` idles them).

Interlocks (`hardware.interlocks`) are checked on every poll (every `poll_s`) and
between acquisitions. Device failures go through the drivers' retry policy first; a
device still silent trips the interlock, then `reconnects` attempts are made to bring it
back: if it returns, the experiment is failed and the campaign continues; if not,
`DeviceLost` (an `sdl.errors.HardwareUnavailable`) is raised after the safe state and the
loop stops cleanly.

Clock and sleep are injected (`clock() -> s`, `sleep(s)`): tests drive the emulators'
`ManualClock` through them, never sleeping on the wall clock.
"""


from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hardware.devices import RigDevices
from hardware.errors import DeviceAlarm, HardwareError
from hardware.flowplan import flush_seconds, plan_flows  # noqa: F401 - re-exported for tests
from hardware.interlocks import RigNotReady, Supervisor, default_interlocks
from hardware.polling import Polling
from hardware.retry import RetryPolicy
from hardware.rig_state import (  # noqa: F401 - TRANSITIONS re-exported
    ACTIVE_STATES,
    IDLE_SETPOINT_C,
    TRANSITIONS,
    DeviceLog,
    Failed,
    Tripped,
)
from hardware.sequencing import Sequencing
from sdl.vocab.constants import STS_FULL_SCALE_COUNTS
from sdl.vocab.measurement import Failure, RawMeasurement
from sdl.vocab.rig import LightPath

log = logging.getLogger(__name__)


class _OpenDevice:
    """A read-only FlowRig attribute that is the same-named attribute of its opened
    devices (`RigDevices`)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, rig: Any, owner: type | None = None) -> Any:
        return self if rig is None else getattr(rig.devices, self.name)

    def __set__(self, rig: Any, value: Any) -> None:
        raise AttributeError(f"FlowRig.{self.name} is read-only (it is devices.{self.name})")


class FlowRig(Sequencing, Polling):
    """A flow reactor driven over registered drivers.

    Args:
        rig_file: validated `sdl.schema.rig.RigFile`.
        clock: rig time in seconds (default: monotonic wall time x the optics device's
            `time_scale`). sleep: waits that long on that clock.
        poll_s: interval between device polls (interlock latency bound), rig seconds.
        retry: per-query retry policy of the drivers.
        reconnects: attempts to bring a silent device back before `DeviceLost`.
        light_path: overrides the rig file's optics device.
        material: chemistry preset for the conditions -> flows map (stocks from the rig).
        idle_setpoint_c: heater setpoint of the safe state.
        heat_timeout_s: extra time beyond the ramp to reach a stable temperature.
        measure_allowance_s: pump time planned for the measurement after the flush.
        photon_timeout_s: wait for a photon file.
    """

    def __init__(self, rig_file: Any, *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, poll_s: float = 0.5,
                 retry: RetryPolicy | None = None, reconnects: int = 2,
                 light_path: LightPath | None = None, material: str = "CdSe",
                 idle_setpoint_c: float = IDLE_SETPOINT_C, heat_timeout_s: float = 900.0,
                 measure_allowance_s: float = 60.0, photon_timeout_s: float = 120.0,
                 photon_reader: Callable[[Any], Any] | None = None):
        self.rig_file = rig_file
        optics = next((d for d in rig_file.devices if d.role == "optics"), None)
        scale = optics.time_scale if optics is not None else 1.0
        self.clock = clock or (lambda: time.monotonic() * scale)
        self.sleep = sleep or (lambda s: time.sleep(max(s, 0.0) / scale))
        self.poll_s = poll_s
        self.retry = retry or RetryPolicy()
        self.reconnects = reconnects
        self.material = material
        self.idle_setpoint_c = idle_setpoint_c
        self.heat_timeout_s = heat_timeout_s
        self.measure_allowance_s = measure_allowance_s
        self.photon_timeout_s = photon_timeout_s
        self.devices = RigDevices(rig_file, retry=self.retry, clock=self.clock,
                                  sleep=self.sleep, poll_s=poll_s, light_path=light_path,
                                  photon_reader=photon_reader)
        self.state = "idle"
        self.log = DeviceLog(self.clock)
        self.supervisor: Supervisor = default_interlocks(rig_file.limits.max_temperature_c)
        self.syringe_remaining_ul = {p.name: p.syringe_volume_ul for p in rig_file.pumps()}
        self.setpoints_c: dict[str, float] = {}
        self.wavelengths_nm: np.ndarray | None = None
        self._identities: dict[str, str] = {}
        self._last_ok: dict[str, float] = {}
        self._silent: set[str] = set()  # devices whose last request failed after retries
        self._external_safe = False
        self._expected: frozenset[str] = frozenset()
        self._pump_running: dict[str, bool] = {}
        self._safe_lock = threading.Lock()
        self.last_safe_state_s: float | None = None
        self.safe_state_problems: list[str] = []  # devices the last safe_state() could not reach
        self.safe_state_done_at: float | None = None  # time.perf_counter() of the last one
        self.prepared = False

    # -- devices ---------------------------------------------------------------------------
    pumps = _OpenDevice()  # dict[str, Pump] by name
    heaters = _OpenDevice()  # dict[str, Heater] by name
    spectrometer = _OpenDevice()
    photon_folder = _OpenDevice()
    light = _OpenDevice()  # the LightPath

    @property
    def saturation_counts(self) -> float:
        """Detector saturation of the spectrometer (STS 16383; USB models their own)."""
        return float(getattr(self.spectrometer, "saturation_counts", STS_FULL_SCALE_COUNTS))

    def device_identities(self) -> dict[str, str]:
        """Device name -> identity as read from the devices by `probe()` / `prepare()`
        (firmware, model, serial, instrument id); for provenance. Empty before either."""
        return dict(self._identities)

    # -- Rig protocol ----------------------------------------------------------------------
    @property
    def reactor_volume_ul(self) -> float:
        return float(self.rig_file.reactor.volume_ul)

    def limits(self) -> Any:
        return self.rig_file.limits

    def connect(self) -> None:
        """Open every device's port (idempotent). Raises `HardwareError` naming the device."""
        try:
            self.devices.open()
        except ValueError as e:
            raise RigNotReady(f"{e}; fix the rig file") from None

    def probe(self) -> None:
        """Connect and ask every serial device who it is (one quick exchange each).
        Raises `HardwareError` naming the first device that cannot be opened or does
        not answer, or `RigNotReady` when the rig has no light path."""
        self.connect()
        self._require_light_path()
        ids: dict[str, str] = {}
        for name, pump in self.pumps.items():
            ids[name] = pump.connect()
        for name, heater in self.heaters.items():
            ids[name] = _heater_id(heater.instrument_id())
        ids[self.devices.spec_name] = self._spectrometer_id()
        prepare = getattr(self.light, "prepare", None)
        if callable(prepare):
            ids.update(prepare())
        self._identities = ids

    def _require_light_path(self) -> None:
        if self.light is None:
            raise RigNotReady(
                "the rig file has no optics device (lamp/excitation shutter and "
                "sample/solvent valve), so dark/reference/sample spectra cannot be taken; "
                "add [[devices]] role = \"optics\" with the light-path devices (see "
                "campaigns/rigs/example_rig.toml) or run without --rig")

    def prepare(self) -> None:
        """Connect, identify and configure every device; raise `RigNotReady` if one fails
        or the rig has no light path (optics device)."""
        ids: dict[str, str] = {}
        try:
            self.connect()
            self._require_light_path()
            spec_dev = self.devices.spec_dev
            for dev in self.rig_file.pumps():
                pump = self.pumps[dev.name]
                ids[dev.name] = version = pump.connect()
                self.log.add(dev.name, "identify", version)
                if pump.last_alarm:
                    self.log.add(dev.name, "alarm_cleared", pump.last_alarm)
                if pump.safe_mode:  # left armed by a previous process
                    pump.enable_watchdog(0)
                pump.stop()
                pump.set_diameter(dev.syringe_diameter_mm)
                pump.set_direction("INF")
                pump.set_volume(0.0)
                self._pump_running[dev.name] = False
                self.log.add(dev.name, "setpoint_diameter_mm", dev.syringe_diameter_mm)
            ramp = float(self.rig_file.limits.max_ramp_c_per_min)
            for name, heater in self.heaters.items():
                ident = heater.instrument_id()
                ids[name] = _heater_id(ident)
                self.log.add(name, "identify", ident)
                st = heater.read_status()
                if st.sensor_break:
                    raise DeviceAlarm("sensor break", code="sensor_break", device=name,
                                      next_step="check the thermocouple")
                if st.manual:
                    heater.set_auto()
                    self.log.add(name, "setpoint_mode", "auto")
                heater.set_ramp_rate(ramp)
                self.log.add(name, "setpoint_ramp_c_per_min", ramp)
            self.spectrometer.set_integration_time_us(spec_dev.integration_time_us)
            ids[spec_dev.name] = self._spectrometer_id()
            self.log.add(spec_dev.name, "identify", ids[spec_dev.name])
            self.log.add(spec_dev.name, "setpoint_integration_us", spec_dev.integration_time_us)
            self.wavelengths_nm = self.spectrometer.wavelengths()
            if self.photon_folder is not None:
                self.photon_folder.check()
                ids[self.photon_folder.name] = f"photon folder {self.photon_folder.folder}"
            prepare = getattr(self.light, "prepare", None)
            if callable(prepare):  # composed light path: set up and identify every element
                for name, ident in prepare().items():
                    ids[name] = ident
                    self.log.add(name, "identify", ident)
            self.light.set_light("dark")
            self.light.set_cell("sample")
        except HardwareError as e:
            raise RigNotReady(f"rig not ready: {e}") from None
        now = self.clock()
        self._last_ok = {n: now for n in [*self.pumps, *self.heaters, self.devices.spec_name]}
        self._identities = ids
        self.prepared = True

    def safe_state(self) -> None:
        """Stop all pumps, heaters to the idle setpoint, light dark. Idempotent; one try
        per device with a short deadline (bounded, never blocks forever); never raises."""
        if not self._safe_lock.acquire(blocking=False):
            return  # already in progress (re-entered from a signal handler)
        t0 = time.perf_counter()
        problems = []
        if self.state in ACTIVE_STATES:
            self._external_safe = True  # requested mid-run (signal, loop): fail this run
        try:
            for name, pump in self.devices.safe_pumps.items():
                main = self.pumps.get(name)
                pump.safe_mode = bool(getattr(main, "safe_mode", False))
                for _ in range(2):  # a pending alarm is reported instead of stopping
                    try:
                        pump.stop()
                        break
                    except DeviceAlarm as e:
                        self.log.add(name, "alarm", e.code)
                    except HardwareError as e:
                        problems.append(f"{name}: {e.message}")
                        break
                self._pump_running[name] = False
                self.log.add(name, "setpoint_rate_ul_min", 0.0)
            for name, heater in self.devices.safe_heaters.items():
                try:
                    heater.set_comms_setpoint(self.idle_setpoint_c)
                    self.setpoints_c[name] = self.idle_setpoint_c
                    self.log.add(name, "setpoint_c", self.idle_setpoint_c)
                except HardwareError as e:
                    problems.append(f"{name}: {e.message}")
            self._expected = frozenset()
            if self.light is not None:
                try:
                    self.light.set_light("dark")
                    self.log.add("optics", "setpoint_light", "dark")
                except (HardwareError, OSError) as e:
                    problems.append(f"optics: {e}")
        finally:
            self.safe_state_done_at = time.perf_counter()
            self.last_safe_state_s = self.safe_state_done_at - t0
            self.safe_state_problems = problems
            self.log.add("rig", "safe_state", {"seconds": round(self.last_safe_state_s, 4),
                                               "problems": problems})
            self._safe_lock.release()
        if problems:
            log.warning("safe state incomplete: %s", "; ".join(problems))

    def close(self) -> None:
        """Safe state, then release every port."""
        self.safe_state()
        self.devices.close()
        self.prepared = False

    # -- one experiment --------------------------------------------------------------------
    def run(self, conditions: Mapping[str, Any], experiment_id: str, *,
            photons: bool = False) -> RawMeasurement:
        """Run one experiment (see the module docstring). Failures come back in
        `RawMeasurement.failure`; `DeviceLost` is raised when a device is gone for good."""
        if not self.prepared:
            self.prepare()
        cond = dict(conditions)
        self.log.take()
        self.supervisor.reset()
        self._external_safe = False
        t_start = self.clock()
        self._goto("start")
        spectra: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"rig": "FlowRig", "rig_name": self.rig_file.rig.name,
                                "material": self.material,
                                "path_length_cm": self.rig_file.reactor.flow_cell_path_cm,
                                "saturation_counts": self.saturation_counts,
                                **self._optics_metadata(cond)}
        try:
            flows, planned_s, problems = self._plan(cond, photons)
            meta["flows_ul_min"] = {k: round(v, 6) for k, v in flows.items()}
            if problems:
                self._goto("rejected")
                return self._measurement(experiment_id, cond, spectra, meta,
                                         Failure("rejected", "rejected:plan", "; ".join(problems)))
            self._goto("accepted")
            self._wake_pumps()
            self._heat(cond)
            self._goto("stable")
            self._flush(flows)
            self._goto("flushed")
            self._measure(spectra, meta, photons)
            self._stop_pumps()
            self._goto("done")
            meta["temperature_c"] = cond.get("temperature_c")
            meta["run_seconds"] = round(self.clock() - t_start, 3)
            self._read_dispensed()
            return self._measurement(experiment_id, cond, spectra, meta, None)
        except Tripped as tr:
            meta["safe_state_latency_s"] = tr.latency_s
            self._read_dispensed(quiet=True)
            self._recover(tr.trip)  # raises DeviceLost if a silent device stays silent
            return self._measurement(experiment_id, cond, spectra, meta,
                                     Failure("interlock", tr.trip.reason, tr.trip.justification))
        except Failed as f:
            self.safe_state()
            self._goto("failed")
            self._goto("reset")
            self._read_dispensed(quiet=True)
            return self._measurement(experiment_id, cond, spectra, meta, f.failure)
        except BaseException:
            self.safe_state()
            self.state = "idle"
            raise

    def _spectrometer_id(self) -> str:
        serial = self.spectrometer.serial_number()
        return f"{getattr(self.spectrometer, 'model', '')} serial {serial}".strip()

    def _goto(self, event: str) -> None:
        nxt = TRANSITIONS.get(self.state, {}).get(event)
        if nxt is None:
            raise RuntimeError(f"FlowRig: no transition from {self.state!r} on {event!r}")
        self.log.add("rig", "state", f"{self.state}->{nxt}")
        self.state = nxt


def _heater_id(ident: Any) -> str:
    return f"instrument {ident:#06x}" if isinstance(ident, int) else str(ident)
