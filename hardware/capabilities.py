"""Capabilities: what FlowRig needs from each kind of device, as `typing.Protocol`s.

Drivers never subclass these; they conform structurally (bluesky-style devices). The
driver registry (`hardware.registry`) names, for each driver, the Protocol its class must
satisfy; `missing_members` is checked when a rig file loads, so a plugin that lacks a
method fails with one clear error naming it instead of mid-run.

Roles -> capability:
  pump -> Pump; heater -> Heater; spectrometer -> Spectrometer;
  photon_timer -> PhotonCounter;
  excitation_shutter, lamp_shutter, led_enable -> Shutter (an LED enable is a shutter for
  the light it gates: open = on); cell_selector -> CellSelector.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Pump(Protocol):
    """A syringe pump (NE-1000, Harvard Pump 11 Elite / PHD ULTRA).

    Attributes:
        name: device name in logs and errors.
        safe_mode: True while a pump-side communications watchdog is armed.
        last_alarm: the last alarm code the pump reported (None if none).
    """

    name: str
    safe_mode: bool
    last_alarm: str | None

    def connect(self) -> str:
        """Wake the pump, clear power-up alarms; return its firmware/model string."""
        ...

    def status(self) -> Any:
        """State with `.moving` (bool) and `.name` (str); alarms raise `DeviceAlarm`."""
        ...

    def heartbeat(self) -> Any:
        """A harmless query that also feeds a watchdog; same return as `status`."""
        ...

    def stop(self) -> Any:
        """Stop pumping (idempotent)."""
        ...

    def set_diameter(self, mm: float) -> None:
        """Syringe inner diameter, mm."""
        ...

    def set_direction(self, direction: str) -> None:
        """"INF" (infuse) or "WDR" (withdraw)."""
        ...

    def set_volume(self, ul: float) -> None:
        """Target volume, µL (0 = no target)."""
        ...

    def set_rate(self, ul_min: float) -> None:
        """Pumping rate, µL/min."""
        ...

    def run(self) -> Any:
        """Start pumping (an action: never resent blindly); returns the state."""
        ...

    def dispensed(self) -> Any:
        """Volumes since the last clear: `.infused_ul`, `.withdrawn_ul`."""
        ...

    def clear_dispensed(self) -> None:
        ...

    def enable_watchdog(self, seconds: int) -> None:
        """Arm (seconds > 0) or disarm (0) a pump-side comms watchdog, if it has one."""
        ...

    def close(self) -> None:
        ...


@runtime_checkable
class Heater(Protocol):
    """A temperature controller (Eurotherm 3216)."""

    name: str

    def instrument_id(self) -> int:
        ...

    def read_status(self) -> Any:
        """Status with `.sensor_break`, `.loop_break`, `.heater_fail`, `.manual`."""
        ...

    def read_registers(self, start: int, count: int) -> list[int]:
        ...

    def set_comms_setpoint(self, c: float) -> None:
        ...

    def set_ramp_rate(self, c_per_min: float) -> None:
        ...

    def set_auto(self) -> None:
        ...

    def close(self) -> None:
        ...


@runtime_checkable
class Spectrometer(Protocol):
    """A spectrometer: serial (OBP) or USB (seabreeze).

    Attributes:
        saturation_counts: counts at which the detector saturates (STS 16383).
    """

    name: str
    saturation_counts: float

    def serial_number(self) -> str:
        ...

    def set_integration_time_us(self, us: int) -> None:
        ...

    def wavelengths(self) -> Any:
        """Pixel wavelengths, nm, float64 array of shape (n_pixels,)."""
        ...

    def raw_spectrum(self) -> Any:
        """One spectrum now, counts, shape (n_pixels,); dark not subtracted."""
        ...

    def close(self) -> None:
        ...


@runtime_checkable
class PhotonCounter(Protocol):
    """A time tagger that writes photon files into a folder."""

    name: str

    def check(self) -> None:
        ...

    def mark_existing_seen(self) -> None:
        ...

    def poll(self) -> Any:
        """A new complete photon file (`.path`, `.data`) or None."""
        ...


@runtime_checkable
class Shutter(Protocol):
    """A binary light element: a shutter (open) or an LED / lamp enable (on)."""

    name: str

    def identify(self) -> str:
        """Model / firmware as the device reports it."""
        ...

    def set_open(self, open_: bool) -> None:
        """Command open (True) or closed (False); the caller confirms with `is_open`."""
        ...

    def is_open(self) -> bool:
        """The state read back from the device."""
        ...

    def close(self) -> None:
        """Release the port (does not move the shutter)."""
        ...


@runtime_checkable
class CellSelector(Protocol):
    """A selector valve choosing what flows through the flow cell."""

    name: str

    def identify(self) -> str:
        ...

    def move_to(self, position: int) -> None:
        """Command position `position` (1-based); the caller confirms with `position`."""
        ...

    def position(self) -> int:
        """The position read back from the valve."""
        ...

    def close(self) -> None:
        ...


CAPABILITIES: dict[str, type] = {
    "Pump": Pump, "Heater": Heater, "Spectrometer": Spectrometer,
    "PhotonCounter": PhotonCounter, "Shutter": Shutter, "CellSelector": CellSelector,
}


def protocol_members(protocol: type) -> list[str]:
    """Public methods and attributes a Protocol declares (its own, in order)."""
    names = list(getattr(protocol, "__annotations__", {}))
    names += [n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")]
    return list(dict.fromkeys(names))


def missing_members(cls: type, protocol: type) -> list[str]:
    """Members of `protocol` that `cls` lacks: methods must be callable on the class;
    attributes may be set in `__init__`, so they count as present when the class
    annotates them, defines them or its `__init__` mentions them."""
    import inspect

    try:
        init_src = inspect.getsource(cls.__init__)  # type: ignore[misc]
    except (OSError, TypeError):
        init_src = ""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        hints.update(getattr(klass, "__annotations__", {}))
    missing = []
    for name in protocol_members(protocol):
        wanted = vars(protocol).get(name)
        if callable(wanted):
            if not callable(getattr(cls, name, None)):
                missing.append(f"{name}()")
        elif not (hasattr(cls, name) or name in hints or f"self.{name}" in init_src):
            missing.append(name)
    return missing
