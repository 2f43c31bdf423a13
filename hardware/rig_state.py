"""FlowRig's state machine table, device log and internal control-flow exceptions.

`TRANSITIONS` is the literal transition table of one experiment (STYLE 8); every
transition is written to the `DeviceLog`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from hardware.interlocks import Trip
from sdl.vocab.measurement import Failure

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
ACTIVE_STATES = ("checking", "heating", "flushing", "measuring")
IDLE_SETPOINT_C = 25.0
SAFE_TIMEOUT_S = 0.3      # per-device reply deadline inside safe_state (one try, no retry)


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


class Failed(Exception):
    """Internal: end the experiment with `failure` (interlocks already handled)."""

    def __init__(self, failure: Failure, device: str = ""):
        super().__init__(failure.reason)
        self.failure = failure
        self.device = device


class Tripped(Exception):
    """Internal: an interlock tripped and the rig is already safe."""

    def __init__(self, trip: Trip, latency_s: float):
        super().__init__(trip.reason)
        self.trip = trip
        self.latency_s = latency_s
