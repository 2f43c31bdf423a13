"""FlowRig's polling, interlocks and device-failure handling (a mixin of `FlowRig`).

- `_poll`: read every heater, heartbeat every pump, build a `Snapshot`, ask the
  `Supervisor`; a trip puts the rig in its safe state and raises `Tripped`.
- `_device_call`: a driver call whose failure becomes a trip (silent device or alarm)
  or a failed experiment (rejected command).
- `_spectrum`: averaged acquisition; OBP not-ready (7) and unexpected reset (9) are
  retried through the `RetryPolicy` (a reset also restores the integration time).
- `_set_light` / `_set_cell`: light-path moves; a read-back that disagrees
  (`LightPathUnconfirmed`) trips `light_path_unconfirmed` (experiment failed, the
  campaign goes on), a silent element trips `lost_heartbeat` and is reconnected.
- `_recover` / `_reconnect`: after a trip, bring a silent device back or raise
  `DeviceLost` after the safe state.
Silent-device bookkeeping (`_answered`, `_no_answer`) is in one place for every role.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hardware.errors import CommandRejected, DeviceAlarm, HardwareError, LightPathUnconfirmed
from hardware.interlocks import PUMP_ALARM_CODES, DeviceLost, Snapshot, Trip
from hardware.retry import RetryPolicy
from hardware.rig_state import Failed, Tripped
from sdl.vocab.measurement import Failure


class Polling:
    """Mixin: needs FlowRig's clock, sleep, log, devices, supervisor and state."""

    # -- bookkeeping ---------------------------------------------------------------------
    def _answered(self, name: str, now: float | None = None) -> None:
        self._last_ok[name] = self.clock() if now is None else now
        self._silent.discard(name)

    def _no_answer(self, name: str, err: HardwareError, now: float) -> float:
        """Record a device that did not answer after retries; return seconds silent."""
        self._silent.add(name)
        self.log.add(name, "no_answer", err.message)
        return now - self._last_ok.get(name, now)

    # -- polling -------------------------------------------------------------------------
    def _poll(self) -> Snapshot:
        """Read every heater and heartbeat every pump; check the interlocks (trip ->
        `Tripped` after the safe state)."""
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
                reading = self._read_heater(heater)
            except HardwareError as e:
                silent[name] = self._no_answer(name, e, now)
                continue
            self._answered(name, now)
            if reading[0] is not None:
                h_alarm[name] = reading[0]
                self.log.add(name, "alarm", reading[0])
            else:
                temps[name], outputs[name] = reading[1], reading[2]
                self.log.add(name, "reading_c", temps[name])
                self.log.add(name, "output_pct", outputs[name])
        for name, pump in self.pumps.items():
            try:
                state = pump.heartbeat()
            except DeviceAlarm as e:
                self._answered(name, now)
                p_alarm[name] = e.code
                self._pump_running[name] = False
                self.log.add(name, "alarm", e.code)
                continue
            except CommandRejected as e:  # it answered: alive, state unknown this poll
                self._answered(name, now)
                self.log.add(name, "rejected", str(e.code))
                continue
            except HardwareError as e:
                silent[name] = self._no_answer(name, e, now)
                continue
            self._answered(name, now)
            running = bool(state.moving)
            if running != self._pump_running.get(name):
                self.log.add(name, "state", state.name)
            self._pump_running[name] = running
        snap = Snapshot(now, temps, outputs, h_alarm, p_alarm, dict(self._pump_running),
                        self._expected, silent, self.devices.spec_name)
        trip = self.supervisor.check(snap)
        if trip is not None:
            self._trip(trip)
        return snap

    def _read_heater(self, heater: Any) -> tuple[str | None, float, float]:
        """(alarm or None, PV degC, working output %) from registers 1-4 and the status
        word. A Modbus exception is retried like a lost reply (`RetryPolicy` on
        CommandRejected; the driver's own policy retries only timeouts/garbles)."""
        from hardware.drivers.eurotherm3216 import SENSOR_BREAK_RAW, Reg, scaled

        def log_exception(e: BaseException, attempt: int) -> None:
            self.log.add(heater.name, "alarm", f"modbus_exception_{getattr(e, 'code', '?')}")

        policy = RetryPolicy(self.retry.attempts, retry_on=(CommandRejected,))
        try:
            regs, st = policy.call(lambda: (heater.read_registers(Reg.PV, 4), heater.read_status()),
                                   f"{heater.name} PV", on_retry=log_exception)
        except CommandRejected as e:
            log_exception(e, policy.attempts)
            raise
        if regs[0] in SENSOR_BREAK_RAW or st.sensor_break:
            return "sensor_break", 0.0, 0.0
        if st.loop_break or st.heater_fail:
            return "loop_break", 0.0, 0.0
        if st.manual:
            return "manual", 0.0, 0.0
        return None, scaled(regs[0]), scaled(regs[3])

    # -- failures ------------------------------------------------------------------------
    def _trip(self, trip: Trip) -> None:
        t0 = time.perf_counter()
        self.log.add(trip.device, "interlock", {"code": trip.code, "why": trip.justification})
        self._goto("trip")
        self.safe_state()
        latency = time.perf_counter() - t0
        self._goto("safe")
        raise Tripped(trip, latency)

    def _silent_trip(self, name: str, err: HardwareError) -> None:
        silent_for = self._no_answer(name, err, self.clock())
        code = "spectrometer_not_answering" if name == self.devices.spec_name else "lost_heartbeat"
        self._trip(Trip(code, name, f"{name} did not answer after retries "
                                    f"({silent_for:.1f} s): {err.message}", self.clock()))

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
            raise Failed(Failure("device", f"command_rejected:{name}", str(e)), name) from None
        except HardwareError as e:
            self._silent_trip(name, e)
        self._answered(name)
        return out

    def _spectrum(self, scans: int) -> np.ndarray:
        """Average `scans` spectra; device errors (OBP not ready 7, reset 9) are retried
        through the RetryPolicy, waiting a poll interval; a reset restores the
        integration time first."""
        name = self.devices.spec_name
        us = self.devices.spec_dev.integration_time_us

        def before_retry(e: BaseException, attempt: int) -> None:
            self.log.add(name, "alarm", f"obp_error_{getattr(e, 'code', '?')}")
            if getattr(e, "code", None) == 9:  # unexpected reset: settings back to defaults
                self._device_call(name, lambda: self.spectrometer.set_integration_time_us(us))
            self.sleep(self.poll_s)

        policy = RetryPolicy(self.retry.attempts, retry_on=(CommandRejected,))
        acc = np.zeros(len(self.wavelengths_nm), dtype=np.float64)
        for _ in range(scans):
            self._require_light_confirmed()
            try:
                acc += policy.call(self.spectrometer.raw_spectrum, f"{name} spectrum",
                                   on_retry=before_retry)
            except CommandRejected as e:
                self.log.add(name, "alarm", f"obp_error_{e.code}")
                self._silent.add(name)
                self._trip(Trip("spectrometer_not_answering", name, f"{name}: {e.message}",
                                self.clock()))
            except HardwareError as e:
                self._no_answer(name, e, self.clock())
                self._trip(Trip("spectrometer_not_answering", name,
                                f"{name} did not deliver a spectrum: {e.message}", self.clock()))
            self._answered(name)
        return acc / scans

    # -- light path ----------------------------------------------------------------------
    def _light_move(self, fn: Callable[[], None], kind: str, value: str) -> None:
        try:
            fn()
        except LightPathUnconfirmed as e:
            name = e.device or "optics"
            self.log.add(name, "light_unconfirmed", {"role": e.role, "wanted": e.wanted,
                                                     "read_back": e.read_back})
            self._trip(Trip("light_path_unconfirmed", name, e.message, self.clock()))
        except HardwareError as e:
            self._silent_trip(e.device or "optics", e)
        if kind:
            self.log.add("optics", kind, value)

    def _set_light(self, mode: str) -> None:
        self._light_move(lambda: self.light.set_light(mode), "setpoint_light", mode)

    def _set_cell(self, cell: str) -> None:
        self._light_move(lambda: self.light.set_cell(cell), "setpoint_cell", cell)

    def _require_light_confirmed(self) -> None:
        """Refuse to acquire through an unconfirmed light path (composed light paths)."""
        check = getattr(self.light, "require_confirmed", None)
        if callable(check):
            self._light_move(check, "", "")

    # -- after a trip --------------------------------------------------------------------
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
        elif name == self.devices.spec_name:
            self.spectrometer.serial_number()
            self.spectrometer.set_integration_time_us(self.devices.spec_dev.integration_time_us)
        elif name in self.devices.light_names():
            self.light.ping(name)
        self._last_ok[name] = self.clock()
