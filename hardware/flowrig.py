"""`FlowRig`: the `Rig` protocol over real drivers (NE-1000 pumps, Eurotherm 3216
heaters, an OBP spectrometer, a photon-file folder) and a `LightPath`.

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
  line, solvent index, dilution, reference dye) go into the metadata. Then pumps stop, watchdog disarmed, heaters stay at
  their setpoint for the next experiment (the loop's final `safe_state` idles them).

Interlocks (`hardware.interlocks`) are checked on every poll (every `poll_s`) and
between acquisitions. Device failures go through the drivers' retry policy first; a
device still silent trips the interlock, then `reconnects` attempts are made to bring it
back: if it returns, the experiment is failed and the campaign continues; if not,
`DeviceLost` (a `hardware.errors.RigUnavailable`) is raised after the safe state and the
loop stops cleanly.

Clock and sleep are injected (`clock() -> s`, `sleep(s)`): tests drive the emulators'
`ManualClock` through them, never sleeping on the wall clock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hardware.errors import CommandRejected, DeviceAlarm, HardwareError
from hardware.flowplan import flush_seconds, photon_stream, plan_flows
from hardware.interlocks import (
    PUMP_ALARM_CODES,
    DeviceLost,
    RigNotReady,
    Snapshot,
    Supervisor,
    Trip,
    default_interlocks,
)
from hardware.limits import check_plan
from hardware.optics_path import open_light_path
from hardware.retry import NO_RETRY, RetryPolicy
from sdl.vocab.measurement import Failure, RawMeasurement
from sdl.vocab.rig import LightPath

log = logging.getLogger(__name__)

# state -> event -> next state. Anything not listed is a programming error.
TRANSITIONS: dict[str, dict[str, str]] = {
    "idle": {"start": "checking", "trip": "tripped"},
    "checking": {"accepted": "heating", "rejected": "idle", "trip": "tripped"},
    "heating": {"stable": "flushing", "trip": "tripped", "failed": "safe"},
    "flushing": {"flushed": "measuring", "trip": "tripped", "failed": "safe"},
    "measuring": {"done": "idle", "trip": "tripped", "failed": "safe"},
    "tripped": {"safe": "safe"},
    "safe": {"reset": "idle"},
}
IDLE_SETPOINT_C = 25.0
SAFE_TIMEOUT_S = 0.3      # per-device reply deadline inside safe_state (one try, no retry)
SATURATION_COUNTS = 16383


class _Failed(Exception):
    """Internal: end the experiment with `failure` (interlocks already handled)."""

    def __init__(self, failure: Failure, device: str = ""):
        super().__init__(failure.reason)
        self.failure = failure
        self.device = device


class DeviceLog:
    """Timestamped device log: every setpoint, reading, alarm and state transition."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, device: str, kind: str, value: Any) -> None:
        with self._lock:
            self.entries.append({"t_s": round(float(self.clock()), 6), "device": device,
                                 "kind": kind, "value": value})

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            out, self.entries = self.entries, []
        return out


class FlowRig:
    """A flow reactor driven over serial drivers.

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
        photon_reader: parses a photon file (path -> object with timestamps_ps, channels,
            sync_period_ps); needed when the rig has a photon_timer (`sdl.rigs` passes
            `sdl.analysis.photon_files.read_photon_file`).
    """

    def __init__(self, rig_file: Any, *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, poll_s: float = 0.5,
                 retry: RetryPolicy | None = None, reconnects: int = 2,
                 light_path: LightPath | None = None, material: str = "CdSe",
                 idle_setpoint_c: float = IDLE_SETPOINT_C, heat_timeout_s: float = 900.0,
                 measure_allowance_s: float = 60.0, photon_timeout_s: float = 120.0,
                 photon_reader: Callable[[Path], Any] | None = None):
        self.rig_file = rig_file
        self.photon_reader = photon_reader
        optics = [d for d in rig_file.devices if d.role == "optics"]
        self._optics_dev = optics[0] if optics else None
        scale = self._optics_dev.time_scale if self._optics_dev is not None else 1.0
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
        self.light: LightPath | None = light_path
        self.state = "idle"
        self.log = DeviceLog(self.clock)
        self.supervisor: Supervisor = default_interlocks(rig_file.limits.max_temperature_c)
        self.pumps: dict[str, Any] = {}
        self.heaters: dict[str, Any] = {}
        self.spectrometer: Any = None
        self.photon_folder: Any = None
        self._safe_pumps: dict[str, Any] = {}
        self._safe_heaters: dict[str, Any] = {}
        self.syringe_remaining_ul = {p.name: p.syringe_volume_ul for p in rig_file.pumps()}
        self.setpoints_c: dict[str, float] = {}
        self.wavelengths_nm: np.ndarray | None = None
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

    # -- Rig protocol ----------------------------------------------------------------------
    @property
    def reactor_volume_ul(self) -> float:
        return float(self.rig_file.reactor.volume_ul)

    def limits(self) -> Any:
        return self.rig_file.limits

    def connect(self) -> None:
        """Open every device's port (idempotent). Raises `HardwareError` naming the device."""
        from hardware.drivers.eurotherm3216 import Eurotherm3216
        from hardware.drivers.ne1000 import Ne1000Pump
        from hardware.drivers.ocean_obp import OceanObpSpectrometer
        from hardware.drivers.photon_folder import PhotonFolder

        for dev in self.rig_file.devices:
            try:
                if dev.role == "pump" and dev.name not in self.pumps:
                    self.pumps[dev.name] = Ne1000Pump(dev.port, dev.address, baud=dev.baud,
                                                      timeout_s=dev.timeout_s, retry=self.retry,
                                                      name=dev.name)
                    self._safe_pumps[dev.name] = Ne1000Pump(
                        dev.port, dev.address, baud=dev.baud, retry=NO_RETRY, name=dev.name,
                        timeout_s=min(dev.timeout_s, SAFE_TIMEOUT_S))
                elif dev.role == "heater" and dev.name not in self.heaters:
                    self.heaters[dev.name] = Eurotherm3216(dev.port, dev.address, baud=dev.baud,
                                                           timeout_s=dev.timeout_s,
                                                           retry=self.retry, name=dev.name)
                    self._safe_heaters[dev.name] = Eurotherm3216(
                        dev.port, dev.address, baud=dev.baud, retry=NO_RETRY, name=dev.name,
                        timeout_s=min(dev.timeout_s, SAFE_TIMEOUT_S))
                elif dev.role == "spectrometer" and self.spectrometer is None:
                    self.spectrometer = OceanObpSpectrometer(dev.port, baud=dev.baud,
                                                             timeout_s=dev.timeout_s,
                                                             retry=self.retry, name=dev.name)
                elif dev.role == "photon_timer" and self.photon_folder is None:
                    if self.photon_reader is None:
                        raise RigNotReady(f"{dev.name}: a photon_timer needs a photon-file "
                                          "reader (FlowRig(photon_reader=...))")
                    self.photon_folder = PhotonFolder(dev.folder, reader=self.photon_reader,
                                                      settle_s=dev.settle_s,
                                                      poll_s=self.poll_s, clock=self.clock,
                                                      sleep=self.sleep, name=dev.name)
                elif dev.role == "optics" and self.light is None:
                    self.light = open_light_path(dev)
            except HardwareError as e:
                e.device = dev.name
                raise
            except ValueError as e:
                raise RigNotReady(f"{dev.name}: {e}; fix the rig file") from None

    def probe(self) -> None:
        """Connect and ask every serial device who it is (one quick exchange each).
        Raises `HardwareError` naming the first device that cannot be opened or does
        not answer, or `RigNotReady` when the rig has no light path."""
        self.connect()
        self._require_light_path()
        for pump in self.pumps.values():
            pump.connect()
        for heater in self.heaters.values():
            heater.instrument_id()
        self.spectrometer.serial_number()

    def _require_light_path(self) -> None:
        if self.light is None:
            raise RigNotReady(
                "the rig file has no optics device (lamp/excitation shutter and "
                "sample/solvent valve), so dark/reference/sample spectra cannot be taken; "
                "add [[devices]] role = \"optics\" (driver \"emulator_backchannel\" for an "
                "emulated rig) or run without --rig")

    def prepare(self) -> None:
        """Connect, identify and configure every device; raise `RigNotReady` if one fails
        or the rig has no light path (optics device)."""
        try:
            self.connect()
            self._require_light_path()
            spec_dev = next(d for d in self.rig_file.devices if d.role == "spectrometer")
            for dev in self.rig_file.pumps():
                pump = self.pumps[dev.name]
                version = pump.connect()
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
                self.log.add(name, "identify", heater.instrument_id())
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
            self.log.add(spec_dev.name, "identify", self.spectrometer.serial_number())
            self.log.add(spec_dev.name, "setpoint_integration_us", spec_dev.integration_time_us)
            self.wavelengths_nm = self.spectrometer.wavelengths()
            if self.photon_folder is not None:
                self.photon_folder.check()
            self._set_light("dark")
            self._set_cell("sample")
        except HardwareError as e:
            raise RigNotReady(f"rig not ready: {e}") from None
        now = self.clock()
        self._last_ok = {n: now for n in [*self.pumps, *self.heaters, self._spec_name]}
        self.prepared = True

    def safe_state(self) -> None:
        """Stop all pumps, heaters to the idle setpoint, light dark. Idempotent; one try
        per device with a short deadline (bounded, never blocks forever); never raises."""
        if not self._safe_lock.acquire(blocking=False):
            return  # already in progress (re-entered from a signal handler)
        t0 = time.perf_counter()
        problems = []
        if self.state in ("checking", "heating", "flushing", "measuring"):
            self._external_safe = True  # requested mid-run (signal, loop): fail this run
        try:
            for name, pump in self._safe_pumps.items():
                main = self.pumps.get(name)
                pump.safe_mode = bool(getattr(main, "safe_mode", False))
                for _ in range(2):  # a pending alarm is reported instead of running STP
                    try:
                        pump.action("STP")
                        break
                    except DeviceAlarm as e:
                        self.log.add(name, "alarm", e.code)
                    except HardwareError as e:
                        problems.append(f"{name}: {e.message}")
                        break
                self._pump_running[name] = False
                self.log.add(name, "setpoint_rate_ul_min", 0.0)
            for name, heater in self._safe_heaters.items():
                try:
                    heater.set_comms_setpoint(self.idle_setpoint_c)
                    self.setpoints_c[name] = self.idle_setpoint_c
                    self.log.add(name, "setpoint_c", self.idle_setpoint_c)
                except HardwareError as e:
                    problems.append(f"{name}: {e.message}")
            self._expected = frozenset()
            if self.light is not None:
                try:
                    self._set_light("dark")
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
        for drv in [*self.pumps.values(), *self._safe_pumps.values(), *self.heaters.values(),
                    *self._safe_heaters.values(), self.spectrometer]:
            if drv is not None:
                drv.close()
        if self.light is not None:
            self.light.close()
        self.pumps.clear()
        self._safe_pumps.clear()
        self.heaters.clear()
        self._safe_heaters.clear()
        self.spectrometer = None
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
                                "saturation_counts": SATURATION_COUNTS,
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
        except _Tripped as tr:
            meta["safe_state_latency_s"] = tr.latency_s
            self._read_dispensed(quiet=True)
            self._recover(tr.trip)  # raises DeviceLost if a silent device stays silent
            return self._measurement(experiment_id, cond, spectra, meta,
                                     Failure("interlock", tr.trip.reason, tr.trip.justification))
        except _Failed as f:
            self.safe_state()
            self._goto("failed")
            self._goto("reset")
            self._read_dispensed(quiet=True)
            return self._measurement(experiment_id, cond, spectra, meta, f.failure)
        except BaseException:
            self.safe_state()
            self.state = "idle"
            raise

    def _optics_metadata(self, cond: Mapping[str, Any]) -> dict[str, Any]:
        """What the analysis needs beyond the counts (`sdl.analysis.score`): the optics
        device's constants (excitation line, solvent index, dilution before the cell,
        reference dye) and the metal concentration fed (yield). Without a reference dye
        the reference keys are absent and PLQY is not scored."""
        out: dict[str, Any] = {}
        conc = cond.get("metal_conc_mm")
        if isinstance(conc, (int, float)):
            out["feed_metal_molar"] = float(conc) * 1e-3
        dev = self._optics_dev
        if dev is None:
            return out
        out.update(excitation_nm=dev.excitation_nm, solvent_index=dev.solvent_index,
                   sample_dilution=dev.sample_dilution)
        if dev.reference_dye:
            out.update(reference_dye=dev.reference_dye, reference_plqy=dev.reference_plqy,
                       reference_absorbance=dev.reference_absorbance,
                       reference_solvent_index=dev.reference_solvent_index)
        else:
            out["reference_dye"] = None
        return out

    # -- steps -----------------------------------------------------------------------------
    def _plan(self, cond: dict[str, Any], photons: bool) -> tuple[dict[str, float], float, list[str]]:
        from sdl.vocab.flows import FlowInfeasible

        try:
            flows = plan_flows(cond, self.rig_file, self.material)
        except FlowInfeasible as e:
            return {}, 0.0, [str(e)]
        planned_s = flush_seconds(flows, self.rig_file.reactor) + self.measure_allowance_s
        if photons and self.photon_folder is not None:
            planned_s += self.photon_timeout_s
        problems = check_plan(cond, self.rig_file, self.syringe_remaining_ul, flows_ul_min=flows,
                              planned_s=planned_s,
                              ramp_c_per_min=float(self.rig_file.limits.max_ramp_c_per_min))
        if photons and self.photon_folder is None:
            problems.append("the campaign needs photon statistics (g2) but the rig file has no "
                            "photon_timer device")
        self.log.add("rig", "plan", {"flows_ul_min": {k: round(v, 4) for k, v in flows.items()},
                                     "planned_s": round(planned_s, 3), "problems": problems})
        return flows, planned_s, problems

    def _wake_pumps(self) -> None:
        """Clear alarms left from before (watchdog after a trip, stall of the last run) and
        disarm the watchdog: each run starts from stopped, alarm-free pumps."""
        for name, pump in self.pumps.items():
            for _ in range(2):
                try:
                    pump.status()
                    break
                except DeviceAlarm as e:
                    self.log.add(name, "alarm_cleared", e.code)
                except HardwareError:
                    break  # the poll below reports it
            if pump.safe_mode:
                self._device_call(name, lambda p=pump: p.enable_watchdog(0))

    def _heat(self, cond: Mapping[str, Any]) -> None:
        targets: dict[str, float] = {}
        for dev in self.rig_file.devices:
            if dev.role == "heater":
                key = "temperature_c" if dev.stage == "core" else "shell_temperature_c"
                if cond.get(key) is not None:
                    targets[dev.name] = float(cond[key])
        for name, sp in targets.items():
            if self.setpoints_c.get(name) != sp:
                self._device_call(name, lambda h=self.heaters[name], sp=sp: h.set_comms_setpoint(sp))
                self.setpoints_c[name] = sp
            self.log.add(name, "setpoint_c", sp)
        ramp = float(self.rig_file.limits.max_ramp_c_per_min)
        snap = self._poll()
        span = max((abs(sp - snap.temperature_c.get(n, sp)) for n, sp in targets.items()), default=0.0)
        band = self.rig_file.reactor.temperature_band_c
        stable_for = self.rig_file.reactor.stable_for_s
        deadline = self.clock() + span / ramp * 60.0 + self.heat_timeout_s + stable_for
        stable_since: float | None = None
        while True:
            within = all(abs(snap.temperature_c.get(n, math.inf) - sp) <= band
                         for n, sp in targets.items())
            if within:
                stable_since = snap.t_s if stable_since is None else stable_since
                if snap.t_s - stable_since >= stable_for:
                    self.log.add("rig", "temperature_stable", {n: snap.temperature_c.get(n)
                                                               for n in targets})
                    return
            else:
                stable_since = None
            if snap.t_s > deadline:
                raise _Failed(Failure("equipment", "heater:not_settled",
                                      f"temperature not within {band:g} degC of the setpoint for "
                                      f"{stable_for:g} s before the deadline"))
            self.sleep(self.poll_s)
            snap = self._poll()

    def _flush(self, flows: Mapping[str, float]) -> None:
        inlet_pump = {p.inlet: p for p in self.rig_file.pumps()}
        running = []
        for inlet, q in flows.items():
            dev = inlet_pump.get(inlet)
            if dev is None:
                continue
            pump = self.pumps[dev.name]
            if q > 1e-9:
                self._device_call(dev.name, lambda p=pump, q=q: p.set_rate(q))
                self.log.add(dev.name, "setpoint_rate_ul_min", round(q, 6))
                running.append(dev)
        for dev in running:
            pump = self.pumps[dev.name]
            self._device_call(dev.name, pump.clear_dispensed)
            if dev.safe_mode and dev.watchdog_s > 0:
                self._device_call(dev.name, lambda p=pump, s=dev.watchdog_s: p.enable_watchdog(s))
                self.log.add(dev.name, "setpoint_watchdog_s", dev.watchdog_s)
        for dev in running:
            state = self._device_call(dev.name, self.pumps[dev.name].run)
            self._pump_running[dev.name] = bool(state.moving)
            self.log.add(dev.name, "run", state.name)
        self._expected = frozenset(d.name for d in running)
        t_flush = flush_seconds(flows, self.rig_file.reactor)
        self.log.add("rig", "flush_s", round(t_flush, 3))
        end = self.clock() + t_flush
        while True:
            self._poll()
            if self.clock() >= end:
                return
            self.sleep(min(self.poll_s, max(end - self.clock(), 0.0)))

    def _measure(self, spectra: dict[str, np.ndarray], meta: dict[str, Any], photons: bool) -> None:
        spec_dev = next(d for d in self.rig_file.devices if d.role == "spectrometer")
        itime_s = spec_dev.integration_time_us * 1e-6
        meta.update({"abs_integration_s": itime_s, "pl_integration_s": itime_s,
                     "scans_to_average": spec_dev.scans_to_average})
        if photons and self.photon_folder is not None:
            self.photon_folder.mark_existing_seen()
        dye = self._optics_dev is not None and bool(self._optics_dev.reference_dye)
        steps = (("solvent", "dark", "abs_dark_counts"), ("solvent", "lamp", "abs_reference_counts"),
                 *((("reference", "excitation", "pl_reference_counts"),) if dye else ()),
                 ("sample", "lamp", "abs_sample_counts"), ("sample", "dark", "pl_dark_counts"),
                 ("sample", "excitation", "pl_sample_counts"))
        for cell, light, key in steps:
            self._set_cell(cell)
            self._set_light(light)
            spectra[key] = self._spectrum(spec_dev.scans_to_average)
            self.log.add(spec_dev.name, "acquire", {"field": key, "cell": cell, "light": light,
                                                    "max_counts": float(spectra[key].max())})
            self._poll()
        if not dye:  # no reference dye position: no relative PLQY
            spectra["pl_reference_counts"] = spectra["pl_dark_counts"].copy()
        if any(float(v.max()) >= SATURATION_COUNTS for v in spectra.values()):
            self.log.add(spec_dev.name, "alarm", "saturated")
        self._set_light("dark")
        if photons and self.photon_folder is not None:
            self._collect_photons(spectra, meta)

    def _collect_photons(self, spectra: dict[str, Any], meta: dict[str, Any]) -> None:
        from hardware.errors import DeviceTimeout

        self._set_light("excitation")
        name = self.photon_folder.name
        end = self.clock() + self.photon_timeout_s
        found = None
        while found is None:
            self._poll()
            try:
                found = self.photon_folder.poll()
            except HardwareError as e:
                raise _Failed(Failure("device", f"photon_timer:{name}", str(e))) from None
            if found is None:
                if self.clock() >= end:
                    err = DeviceTimeout(f"no photon file within {self.photon_timeout_s:g} s",
                                        device=name)
                    self._set_light("dark")
                    raise _Failed(Failure("device", f"photon_timeout:{name}", str(err)))
                self.sleep(self.poll_s)
        self._set_light("dark")
        ts, ch, sync = photon_stream(found.data)
        spectra["photon_timestamps_ps"], spectra["photon_channels"] = ts, ch
        spectra["sync_period_ps"] = sync
        span_ps = int(ts[-1] - ts[0]) if ts.size > 1 else 0
        meta["acquisition_s"] = span_ps * 1e-12
        meta["photon_file"] = found.path.name
        self.log.add(name, "photon_file", {"file": found.path.name, "photons": int(ts.size)})

    def _stop_pumps(self) -> None:
        for name in sorted(self._expected):
            pump = self.pumps[name]
            self._device_call(name, pump.stop)
            self._pump_running[name] = False
            self.log.add(name, "setpoint_rate_ul_min", 0.0)
            if pump.safe_mode:
                self._device_call(name, lambda p=pump: p.enable_watchdog(0))
        self._expected = frozenset()

    def _read_dispensed(self, quiet: bool = False) -> None:
        """Subtract what each pump infused from its syringe's remaining volume."""
        for dev in self.rig_file.pumps():
            try:
                d = self.pumps[dev.name].dispensed()
                self.pumps[dev.name].clear_dispensed()
            except HardwareError as e:
                if not quiet:
                    log.warning("%s: dispensed volume unknown: %s", dev.name, e)
                continue
            left = self.syringe_remaining_ul[dev.name] - d.infused_ul
            self.syringe_remaining_ul[dev.name] = left
            if d.infused_ul > 0:
                self.log.add(dev.name, "dispensed_ul", round(d.infused_ul, 4))

    # -- polling and interlocks ------------------------------------------------------------
    @property
    def _spec_name(self) -> str:
        return next(d.name for d in self.rig_file.devices if d.role == "spectrometer")

    def _poll(self) -> Snapshot:
        """Read every heater and heartbeat every pump; check the interlocks (trip ->
        `_Tripped` after the safe state)."""
        from hardware.drivers.eurotherm3216 import SENSOR_BREAK_RAW, scaled

        now = self.clock()
        if self._external_safe:
            self._external_safe = False
            self._trip(Trip("safe_state_requested", "rig", "the rig was put in its safe state "
                            "during the run (signal or operator)", now))
        temps: dict[str, float] = {}
        outputs: dict[str, float] = {}
        h_alarm: dict[str, str] = {}
        p_alarm: dict[str, str] = {}
        silent: dict[str, float] = {}
        for name, heater in self.heaters.items():
            try:
                regs, st = self._read_heater(heater)
            except HardwareError as e:
                silent[name] = now - self._last_ok.get(name, now)
                self._silent.add(name)
                self.log.add(name, "no_answer", e.message)
                continue
            self._last_ok[name] = now
            self._silent.discard(name)
            if regs[0] in SENSOR_BREAK_RAW or st.sensor_break:
                h_alarm[name] = "sensor_break"
            elif st.loop_break or st.heater_fail:
                h_alarm[name] = "loop_break"
            elif st.manual:
                h_alarm[name] = "manual"
            else:
                temps[name] = scaled(regs[0])
                outputs[name] = scaled(regs[3])
                self.log.add(name, "reading_c", temps[name])
                self.log.add(name, "output_pct", outputs[name])
            if name in h_alarm:
                self.log.add(name, "alarm", h_alarm[name])
        for name, pump in self.pumps.items():
            try:
                state = pump.heartbeat()
            except DeviceAlarm as e:
                self._last_ok[name] = now
                p_alarm[name] = e.code
                self._pump_running[name] = False
                self.log.add(name, "alarm", e.code)
                continue
            except CommandRejected as e:  # it answered: alive, state unknown this poll
                self._last_ok[name] = now
                self.log.add(name, "rejected", str(e.code))
                continue
            except HardwareError as e:
                silent[name] = now - self._last_ok.get(name, now)
                self._silent.add(name)
                self.log.add(name, "no_answer", e.message)
                continue
            self._last_ok[name] = now
            self._silent.discard(name)
            running = bool(state.moving)
            if running != self._pump_running.get(name):
                self.log.add(name, "state", state.name)
            self._pump_running[name] = running
        snap = Snapshot(now, temps, outputs, h_alarm, p_alarm, dict(self._pump_running),
                        self._expected, silent, self._spec_name)
        trip = self.supervisor.check(snap)
        if trip is not None:
            self._trip(trip)
        return snap

    def _read_heater(self, heater: Any) -> tuple[list[int], Any]:
        """PV..working output (registers 1-4) and the status word; a Modbus exception is
        retried like a lost reply (the driver's policy retries only timeouts/garbles)."""
        from hardware.drivers.eurotherm3216 import Reg

        for attempt in range(1, self.retry.attempts + 1):
            try:
                return heater.read_registers(Reg.PV, 4), heater.read_status()
            except CommandRejected as e:
                self.log.add(heater.name, "alarm", f"modbus_exception_{e.code}")
                if attempt == self.retry.attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _trip(self, trip: Trip) -> None:
        t0 = time.perf_counter()
        self.log.add(trip.device, "interlock", {"code": trip.code, "why": trip.justification})
        self._goto("trip")
        self.safe_state()
        latency = time.perf_counter() - t0
        self._goto("safe")
        raise _Tripped(trip, latency)

    def _device_call(self, name: str, fn: Callable[[], Any]) -> Any:
        """Call a driver method; a device error becomes a trip (silent device), a rejected
        command or an alarm a failed experiment."""
        try:
            out = fn()
        except DeviceAlarm as e:
            self.log.add(name, "alarm", e.code)
            self._trip(Trip(PUMP_ALARM_CODES.get(e.code, e.code), name, str(e), self.clock()))
        except CommandRejected as e:
            self.log.add(name, "rejected", str(e.code))
            raise _Failed(Failure("device", f"command_rejected:{name}", str(e)), name) from None
        except HardwareError as e:
            self.log.add(name, "no_answer", e.message)
            self._silent.add(name)
            silent_for = self.clock() - self._last_ok.get(name, self.clock())
            code = "spectrometer_not_answering" if name == self._spec_name else "lost_heartbeat"
            self._trip(Trip(code, name, f"{name} did not answer after retries "
                                        f"({silent_for:.1f} s): {e.message}", self.clock()))
        self._last_ok[name] = self.clock()
        return out

    def _spectrum(self, scans: int) -> np.ndarray:
        """Average `scans` spectra; not-ready (7) and reset (9) are retried per policy."""
        name = self._spec_name
        acc = np.zeros(len(self.wavelengths_nm), dtype=np.float64)
        for _ in range(scans):
            for attempt in range(1, self.retry.attempts + 1):
                try:
                    acc += self.spectrometer.raw_spectrum()
                    self._last_ok[name] = self.clock()
                    break
                except CommandRejected as e:
                    self.log.add(name, "alarm", f"obp_error_{e.code}")
                    if attempt == self.retry.attempts:
                        self._silent.add(name)
                        self._trip(Trip("spectrometer_not_answering", name,
                                        f"{name}: {e.message}", self.clock()))
                    if e.code == 9:  # unexpected reset: settings back to defaults
                        us = next(d for d in self.rig_file.devices
                                  if d.role == "spectrometer").integration_time_us
                        self._device_call(name, lambda us=us: self.spectrometer.set_integration_time_us(us))
                    self.sleep(self.poll_s)
                except HardwareError as e:
                    self.log.add(name, "no_answer", e.message)
                    self._silent.add(name)
                    self._trip(Trip("spectrometer_not_answering", name,
                                    f"{name} did not deliver a spectrum: {e.message}", self.clock()))
        return acc / scans

    def _set_light(self, mode: str) -> None:
        self.light.set_light(mode)
        self.log.add("optics", "setpoint_light", mode)

    def _set_cell(self, cell: str) -> None:
        self.light.set_cell(cell)
        self.log.add("optics", "setpoint_cell", cell)

    def _goto(self, event: str) -> None:
        nxt = TRANSITIONS.get(self.state, {}).get(event)
        if nxt is None:
            raise RuntimeError(f"FlowRig: no transition from {self.state!r} on {event!r}")
        self.log.add("rig", "state", f"{self.state}->{nxt}")
        self.state = nxt

    # -- after a trip ----------------------------------------------------------------------
    def _recover(self, trip: Trip) -> None:
        """After a trip: if the device went silent, try to bring it back (`reconnects`
        attempts); raise `DeviceLost` if it does not answer. Then back to idle."""
        self._goto("reset")
        if trip.device not in self._silent:  # the device answered (alarm): nothing to restore
            return
        last = ""
        for attempt in range(1, self.reconnects + 1):
            self.sleep(self.poll_s)
            try:
                self._reconnect(trip.device)
                self._silent.discard(trip.device)
                self.log.add(trip.device, "reconnected", attempt)
                return
            except HardwareError as e:
                last = e.message
                self.log.add(trip.device, "reconnect_failed", {"attempt": attempt, "error": last})
        self.safe_state()
        raise DeviceLost(trip.device, last or trip.justification, self.reconnects,
                         self.safe_state_problems)

    def _reconnect(self, name: str) -> None:
        if name in self.pumps:
            pump = self.pumps[name]
            pump.safe_mode = False
            pump.connect()
            pump.stop()
        elif name in self.heaters:
            self.heaters[name].instrument_id()
        elif name == self._spec_name:
            dev = next(d for d in self.rig_file.devices if d.role == "spectrometer")
            self.spectrometer.serial_number()
            self.spectrometer.set_integration_time_us(dev.integration_time_us)
        self._last_ok[name] = self.clock()

    def _measurement(self, eid: str, cond: dict[str, Any], spectra: dict[str, Any],
                     meta: dict[str, Any], failure: Failure | None) -> RawMeasurement:
        wl = self.wavelengths_nm if self.wavelengths_nm is not None else np.linspace(350, 800, 1024)
        zero = np.zeros(len(wl))
        fields = {k: np.asarray(spectra.get(k, zero), dtype=np.float64)
                  for k in RawMeasurement.SPECTRUM_FIELDS if k != "wavelengths_nm"}
        meta["syringe_remaining_ul"] = {k: round(v, 3) for k, v in self.syringe_remaining_ul.items()}
        raw = RawMeasurement(experiment_id=eid, conditions=cond,
                             wavelengths_nm=np.asarray(wl, dtype=np.float64), metadata=meta,
                             device_log=self.log.take(), failure=failure, **fields)
        if failure is None and "photon_timestamps_ps" in spectra:
            raw.photon_timestamps_ps = spectra["photon_timestamps_ps"]
            raw.photon_channels = spectra["photon_channels"]
            raw.sync_period_ps = spectra["sync_period_ps"]
        return raw


class _Tripped(Exception):
    """Internal: an interlock tripped and the rig is already safe."""

    def __init__(self, trip: Trip, latency_s: float):
        super().__init__(trip.reason)
        self.trip = trip
        self.latency_s = latency_s
