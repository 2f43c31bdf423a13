"""Run-time interlocks: small classes that decide, from one snapshot of device readings,
whether the rig must go to its safe state now.

Each interlock has three methods, after bluesky's suspenders: `should_trip(snapshot)`,
`should_clear(snapshot)` and `justification()` (one sentence for the record, naming the
device). `FlowRig` polls the devices every `poll_s`, builds a `Snapshot`, and asks the
`Supervisor`; on a trip it calls `safe_state()` at once and marks the experiment failed
with kind "interlock" and reason `"<code>:<device>"`.

Trip latency = time to the next poll (<= poll_s) + the safe state itself; with the
default poll_s = 0.5 s the safe state is reached within 1 s of the fault being readable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hardware.errors import RigUnavailable

# NE-1000 alarm letter -> interlock reason code.
PUMP_ALARM_CODES = {"S": "pump_stall", "T": "lost_heartbeat", "R": "pump_reset",
                    "E": "pump_program_error", "O": "pump_phase_error"}


@dataclass(frozen=True)
class Snapshot:
    """One poll of the rig's devices.

    Attributes:
        t_s: rig clock, seconds.
        temperature_c: heater name -> measured temperature (PV), degC; absent if unreadable.
        output_pct: heater name -> working output, %.
        heater_alarm: heater name -> "sensor_break" | "loop_break" | "manual".
        pump_alarm: pump name -> NE-1000 alarm letter ("S", "T", "R", ...).
        pump_running: pump name -> True while infusing.
        pumps_expected: pumps that should be infusing now (empty outside the flush).
        silent: device name -> seconds since its last good answer (only devices whose
            last request failed after the retry policy).
        spectrometer: name of the spectrometer (its silence has its own reason code).
    """

    t_s: float
    temperature_c: Mapping[str, float] = field(default_factory=dict)
    output_pct: Mapping[str, float] = field(default_factory=dict)
    heater_alarm: Mapping[str, str] = field(default_factory=dict)
    pump_alarm: Mapping[str, str] = field(default_factory=dict)
    pump_running: Mapping[str, bool] = field(default_factory=dict)
    pumps_expected: frozenset[str] = frozenset()
    silent: Mapping[str, float] = field(default_factory=dict)
    spectrometer: str = ""


@runtime_checkable
class Interlock(Protocol):
    """A run-time safety condition. `code` and `device` describe the last trip."""

    code: str
    device: str

    def should_trip(self, s: Snapshot) -> bool: ...

    def should_clear(self, s: Snapshot) -> bool: ...

    def justification(self) -> str: ...


class OverTemperature:
    """Any heater above the rig's max_temperature_c; clears `hysteresis_c` below it."""

    code = "over_temperature"

    def __init__(self, max_c: float, hysteresis_c: float = 5.0):
        self.max_c, self.hysteresis_c = max_c, hysteresis_c
        self.device, self._t = "", 0.0

    def should_trip(self, s: Snapshot) -> bool:
        for name, t in s.temperature_c.items():
            if t > self.max_c:
                self.device, self._t = name, t
                return True
        return False

    def should_clear(self, s: Snapshot) -> bool:
        return all(t < self.max_c - self.hysteresis_c for t in s.temperature_c.values())

    def justification(self) -> str:
        return f"{self.device} reads {self._t:.1f} degC, above the rig limit {self.max_c:g} degC"


class RisingAtZeroOutput:
    """Temperature rising by >= `rise_c` over >= `window_s` while the controller output
    stays at 0 %: heat is coming from somewhere the controller does not command (stuck
    SSR, runaway). The window must exceed the plant dead time (a few s) so that heat
    already delivered after a setpoint drop does not trip it."""

    code = "rising_at_zero_output"

    def __init__(self, rise_c: float = 3.0, window_s: float = 30.0, zero_pct: float = 0.5):
        self.rise_c, self.window_s, self.zero_pct = rise_c, window_s, zero_pct
        self.device, self._rise = "", 0.0
        self._hist: dict[str, deque[tuple[float, float]]] = {}

    def _update(self, s: Snapshot) -> None:
        for name, t in s.temperature_c.items():
            hist = self._hist.setdefault(name, deque())
            if s.output_pct.get(name, 100.0) > self.zero_pct:
                hist.clear()  # output not zero: start a new window
                continue
            hist.append((s.t_s, t))

    def should_trip(self, s: Snapshot) -> bool:
        self._update(s)
        for name, hist in self._hist.items():
            # keep the newest sample at least window_s old as the window's start
            while len(hist) > 2 and hist[-1][0] - hist[1][0] >= self.window_s:
                hist.popleft()
            if len(hist) >= 2 and hist[-1][0] - hist[0][0] >= self.window_s:
                rise = hist[-1][1] - hist[0][1]
                if rise >= self.rise_c:
                    self.device, self._rise = name, rise
                    return True
        return False

    def reset(self) -> None:
        """Forget the history (a new run: no window spans the gap between runs)."""
        self._hist.clear()

    def should_clear(self, s: Snapshot) -> bool:
        return not self.should_trip(s)

    def justification(self) -> str:
        return (f"{self.device} rose {self._rise:.1f} degC in {self.window_s:g} s at 0 % output "
                "(heater stuck on or runaway)")


class HeaterAlarm:
    """The controller reports sensor break, loop break (heater failure) or manual mode."""

    def __init__(self) -> None:
        self.code, self.device = "sensor_break", ""

    def should_trip(self, s: Snapshot) -> bool:
        for name, alarm in s.heater_alarm.items():
            self.code, self.device = alarm, name
            return True
        return False

    def should_clear(self, s: Snapshot) -> bool:
        return not s.heater_alarm

    def justification(self) -> str:
        what = {"sensor_break": "thermocouple open (sensor break)",
                "loop_break": "loop break: heating has no effect (heater failure)",
                "manual": "controller switched to manual mode"}.get(self.code, self.code)
        return f"{self.device}: {what}"


class PumpAlarm:
    """A pump reports an alarm (stall, watchdog timeout, reset) or stopped while it
    should be infusing."""

    def __init__(self) -> None:
        self.code, self.device, self._letter = "pump_stall", "", ""

    def should_trip(self, s: Snapshot) -> bool:
        for name, letter in s.pump_alarm.items():
            self.code, self.device, self._letter = PUMP_ALARM_CODES.get(letter, "pump_alarm"), name, letter
            return True
        for name in sorted(s.pumps_expected):
            if name in s.pump_running and not s.pump_running[name]:
                self.code, self.device, self._letter = "pump_stopped", name, ""
                return True
        return False

    def should_clear(self, s: Snapshot) -> bool:
        return not s.pump_alarm

    def justification(self) -> str:
        if self.code == "pump_stopped":
            return f"{self.device} stopped while it should be infusing"
        return f"{self.device} alarm {self._letter} ({self.code.replace('_', ' ')})"


class LostHeartbeat:
    """A pump or heater did not answer (after the retry policy) for >= `timeout_s`."""

    code = "lost_heartbeat"

    def __init__(self, timeout_s: float = 0.0):
        self.timeout_s = timeout_s
        self.device, self._for = "", 0.0

    def should_trip(self, s: Snapshot) -> bool:
        for name, silent_s in s.silent.items():
            if name != s.spectrometer and silent_s >= self.timeout_s:
                self.device, self._for = name, silent_s
                return True
        return False

    def should_clear(self, s: Snapshot) -> bool:
        return not any(n != s.spectrometer for n in s.silent)

    def justification(self) -> str:
        return f"{self.device} did not answer for {self._for:.1f} s (after retries)"


class SpectrometerNotAnswering:
    """The spectrometer did not deliver a spectrum after the retry policy."""

    code = "spectrometer_not_answering"

    def __init__(self) -> None:
        self.device = ""

    def should_trip(self, s: Snapshot) -> bool:
        if s.spectrometer and s.spectrometer in s.silent:
            self.device = s.spectrometer
            return True
        return False

    def should_clear(self, s: Snapshot) -> bool:
        return s.spectrometer not in s.silent

    def justification(self) -> str:
        return f"{self.device} did not deliver a spectrum (after retries)"


@dataclass(frozen=True)
class Trip:
    """A tripped interlock: reason code, device, sentence, rig time."""

    code: str
    device: str
    justification: str
    t_s: float

    @property
    def reason(self) -> str:
        return f"{self.code}:{self.device}"


class Supervisor:
    """Evaluates interlocks in order; the first that trips wins."""

    def __init__(self, interlocks: Iterable[Interlock]):
        self.interlocks = list(interlocks)

    def reset(self) -> None:
        """Start of a run: interlocks with memory forget it."""
        for lock in self.interlocks:
            reset = getattr(lock, "reset", None)
            if callable(reset):
                reset()

    def check(self, s: Snapshot) -> Trip | None:
        for lock in self.interlocks:
            if lock.should_trip(s):
                return Trip(lock.code, lock.device, lock.justification(), s.t_s)
        return None


def default_interlocks(max_temperature_c: float, heartbeat_s: float = 1.0) -> Supervisor:
    """The standard set, most specific first."""
    return Supervisor([HeaterAlarm(), OverTemperature(max_temperature_c), RisingAtZeroOutput(),
                       PumpAlarm(), SpectrometerNotAnswering(), LostHeartbeat(heartbeat_s)])


class DeviceLost(RigUnavailable):
    """A device stayed unreachable after the reconnect policy: the campaign must stop.

    Raised out of `FlowRig.run()` after the rig is in its safe state; the loop records
    `stopped` with this message, and `sdl resume` re-runs the interrupted experiment.
    """

    def __init__(self, device: str, detail: str, attempts: int,
                 safe_state_problems: Sequence[str] = ()):
        self.device = device
        safe = ("the rig is in its safe state" if not safe_state_problems else
                "the safe state is INCOMPLETE (" + "; ".join(safe_state_problems)
                + "): make those devices safe by hand")
        super().__init__(
            f"{device} stopped answering and did not come back after {attempts} reconnect "
            f"attempt(s) ({detail}); {safe}; check the device and its "
            "cable, then `sdl resume` the run directory")


class RigNotReady(RigUnavailable):
    """`FlowRig.prepare()` could not bring a device up, or the rig lacks a capability."""
