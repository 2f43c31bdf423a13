"""Emulated New Era NE-1000 pumps on one daisy-chained RS-232 line.

Speaks the bytes of `hardware.drivers.ne1000` (basic and safe mode) and keeps physics:
dispensed volume = rate x time integrated piecewise on the injected clock, syringe content
limits (empty syringe -> motor stall alarm), target volume, safe-mode watchdog, occlusion
with a pressure rise until the motor stalls, power cycle (first command ignored, then the
reset alarm). Faults are injected through methods on `Ne1000Emulator` (back channel).

Safe mode (manual 9.2.3): `SAF n` is non-volatile; in safe mode unframed basic commands are
ignored; the n-second timer runs from the last valid packet and, after a trip or power-up,
restarts only with the next valid packet; alarms are also sent unprompted (`poll`).

Simplifications (documented, not hidden): broadcast address `*` and pumping programs are
not emulated; safe packets are accepted in basic mode too; STP stops at once (the real pump
pauses first).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hardware.drivers.ne1000 import (
    ETX,
    STX,
    VOLUME_UNITS_UL,
    build_safe_packet,
    crc16_ccitt,
    format_ne1000_number,
)

RATE_UNITS = {"UM": 1.0, "MM": 1000.0, "UH": 1 / 60, "MH": 1000 / 60}
# Plunger speed limits of the NE-1000 mechanism, derived from the manual's rate table
# (e.g. 76.81 mL/min max for a 26.59 mm syringe); used to reject rates with ?OOR.
MAX_PLUNGER_MM_MIN = 138.0
MIN_PLUNGER_MM_H = 0.042
STALL_PRESSURE_BAR = 12.0
_NUM = re.compile(r"^(\d{1,4}(?:\.\d{0,3})?|\.\d{1,3})")


@dataclass
class LogEntry:
    """One command received by an emulated device."""

    t: float
    address: int
    command: str
    safe: bool


class Ne1000Emulator:
    """One emulated pump.

    Args:
        world: the shared `EmulatedWorld` (clock and lock).
        name: device name (rig file).
        address: 0-99.
        syringe_diameter_mm, syringe_volume_ul: the syringe fitted.
        fill_ul: liquid in the syringe at start (default: full).

    Attributes:
        command_log: every command addressed to this pump (`LogEntry`).
        pressure_bar: line pressure (rises during an occlusion).
    """

    def __init__(self, world, name: str, address: int = 0, *, syringe_diameter_mm: float = 14.57,
                 syringe_volume_ul: float = 10_000.0, fill_ul: float | None = None):
        self.world = world
        self.name = name
        self.address = address
        self.diameter_mm = syringe_diameter_mm
        self.syringe_volume_ul = syringe_volume_ul
        self.content_ul = syringe_volume_ul if fill_ul is None else fill_ul
        self.rate_ul_min = 0.0
        self.rate_units = "UM"
        self.units_override: str | None = None
        self.direction = "INF"
        self.target_ul = 0.0
        self.running = False
        self.purging = False
        self.infused_ul = 0.0
        self.withdrawn_ul = 0.0
        self.phase_ul = 0.0
        self.alarm: str | None = None
        self.fresh_power = False
        self.safe_timeout_s = 0            # SAF n (non-volatile); > 0 means safe mode
        self.watchdog_armed = False        # timer runs only after a valid packet
        self.auto_alarms: list[str] = []   # safe mode: alarms to transmit unprompted
        self.last_packet_t = world.now()
        self.pressure_bar = 0.0
        self.occlusion_bar_per_ul = 0.0
        self.stall_after_ul: float | None = None
        self.forced_error: tuple[str, int] | None = None
        self.command_log: list[LogEntry] = []
        self._t = world.now()

    # -- physics ---------------------------------------------------------------------------
    @property
    def volume_units(self) -> str:
        """Set by `VOL UL|ML`, else by the diameter (<= 14 mm: UL, larger: ML)."""
        if self.units_override:
            return self.units_override
        return "UL" if self.diameter_mm <= 14.0 else "ML"

    def _area_mm2(self) -> float:
        return math.pi * self.diameter_mm ** 2 / 4

    def max_rate_ul_min(self) -> float:
        return self._area_mm2() * MAX_PLUNGER_MM_MIN

    def min_rate_ul_min(self) -> float:
        return self._area_mm2() * MIN_PLUNGER_MM_H / 60

    def _speed_ul_s(self) -> float:
        if not self.running:
            return 0.0
        return (self.max_rate_ul_min() if self.purging else self.rate_ul_min) / 60.0

    def flow_ul_min(self, now: float) -> float:
        """Current infusion flow into the reactor, µL/min (0 unless infusing)."""
        self.advance(now)
        return self._speed_ul_s() * 60.0 if self.running and self.direction == "INF" else 0.0

    def _stop(self, alarm: str | None = None) -> None:
        self.running = False
        self.purging = False
        if alarm is not None:
            self.alarm = alarm
            if self.safe_timeout_s > 0:  # Auto-Alarm: safe mode transmits it unprompted
                self.auto_alarms.append(alarm)

    def advance(self, now: float) -> None:
        """Integrate pumping from the last update to `now`, stopping at events."""
        while self._t < now:
            events = []
            if self.safe_timeout_s > 0 and self.watchdog_armed:
                events.append((self.last_packet_t + self.safe_timeout_s, "watchdog"))
            v = self._speed_ul_s()
            if v > 0:
                room = self.content_ul if self.direction == "INF" else self.syringe_volume_ul - self.content_ul
                events.append((self._t + max(room, 0.0) / v, "empty"))
                if self.target_ul > 0:
                    events.append((self._t + max(self.target_ul - self.phase_ul, 0.0) / v, "target"))
                if self.stall_after_ul is not None:
                    events.append((self._t + max(self.stall_after_ul, 0.0) / v, "stall"))
                if self.occlusion_bar_per_ul > 0 and self.direction == "INF":
                    dp = max(STALL_PRESSURE_BAR - self.pressure_bar, 0.0)
                    events.append((self._t + dp / self.occlusion_bar_per_ul / v, "occlusion"))
            due = [(t, e) for t, e in events if t <= now]
            t_next, event = min(due) if due else (now, None)
            t_next = max(t_next, self._t)
            dv = v * (t_next - self._t)
            if dv > 0:
                if self.direction == "INF":
                    self.infused_ul += dv
                    self.content_ul -= dv
                    self.pressure_bar += self.occlusion_bar_per_ul * dv
                else:
                    self.withdrawn_ul += dv
                    self.content_ul += dv
                self.phase_ul += dv
                if self.stall_after_ul is not None:
                    self.stall_after_ul -= dv
            self._t = t_next
            if event == "watchdog":
                self._stop("T")
                self.watchdog_armed = False  # restarts with the next valid packet
            elif event in ("empty", "stall", "occlusion"):
                self.stall_after_ul = None if event == "stall" else self.stall_after_ul
                self._stop("S")
            elif event == "target":
                self._stop()
            if event is None:
                break

    # -- back channel faults ---------------------------------------------------------------
    def stall(self, after_ul: float = 0.0) -> None:
        """Motor stalls after `after_ul` more µL (0 = at the next update)."""
        with self.world.lock:
            self.advance(self.world.now())
            self.stall_after_ul = after_ul
            if after_ul <= 0:
                self._stop("S")
                self.stall_after_ul = None

    def empty_syringe(self, remaining_ul: float = 0.0) -> None:
        """Leave only `remaining_ul` in the syringe (it stalls when that is used up)."""
        with self.world.lock:
            self.advance(self.world.now())
            self.content_ul = remaining_ul

    def power_cycle(self) -> None:
        """Power lost and back: stop, counters cleared, reset alarm pending, next command
        ignored. Settings (diameter, rate, volume, safe mode) survive (non-volatile); the
        safe-mode timer stays off until the first valid packet (NE-1000 manual 9.2.3)."""
        with self.world.lock:
            self.advance(self.world.now())
            self.watchdog_armed = False
            self._stop("R")
            self.infused_ul = self.withdrawn_ul = 0.0
            self.fresh_power = True

    def trip_watchdog(self) -> None:
        """Act as if the safe-mode watchdog expired now."""
        with self.world.lock:
            self.advance(self.world.now())
            self._stop("T")
            self.watchdog_armed = False

    def reject_next(self, code: str = "?OOR", count: int = 1) -> None:
        """Answer the next `count` commands with error `code` ("?OOR", "?NA", ...)."""
        self.forced_error = (code, count)

    def occlude(self, bar_per_ul: float = 0.05) -> None:
        """Block the outlet: pressure rises `bar_per_ul` per µL pumped until the motor
        stalls at STALL_PRESSURE_BAR."""
        with self.world.lock:
            self.advance(self.world.now())
            self.occlusion_bar_per_ul = bar_per_ul

    def clear_occlusion(self) -> None:
        with self.world.lock:
            self.advance(self.world.now())
            self.occlusion_bar_per_ul = 0.0
            self.pressure_bar = 0.0

    # -- protocol --------------------------------------------------------------------------
    def _status_char(self) -> str:
        if self.running:
            return "X" if self.purging else ("I" if self.direction == "INF" else "W")
        return "S"

    def _receive(self, command: str, safe: bool) -> float | None:
        """Advance to now and log `command`; the emulated time (s), or None when the pump
        has just powered up and the command is lost."""
        now = self.world.now()
        self.advance(now)
        self.command_log.append(LogEntry(now, self.address, command, safe))
        if self.fresh_power:
            self.fresh_power = False
            return None
        return now

    def handle(self, command: str, safe: bool) -> str | None:
        """Process one command body (address stripped); return the reply body or None."""
        now = self._receive(command, safe)
        if now is None:
            return None
        if self.safe_timeout_s > 0 and not safe:
            return None  # safe mode: an unframed basic command is not a valid packet
        self.last_packet_t = now
        self.watchdog_armed = self.safe_timeout_s > 0
        prefix = f"{self.address:02d}"
        if self.alarm is not None:
            code, self.alarm = self.alarm, None
            return f"{prefix}A?{code}"
        if self.forced_error is not None:
            code, n = self.forced_error
            self.forced_error = (code, n - 1) if n > 1 else None
            return f"{prefix}{self._status_char()}{code}"
        data = self._execute(command.replace(" ", "").upper())
        return f"{prefix}{self._status_char()}{data}"

    def _number(self, arg: str) -> float | None:
        m = _NUM.match(arg)
        if not m or len(m.group(1).replace(".", "")) > 4:
            return None
        return float(m.group(1))

    def _execute(self, cmd: str) -> str:
        name, arg = cmd[:3], cmd[3:]
        if cmd == "":
            return ""
        if name == "VER" and not arg:
            return "NE1000V3.928"
        if name == "DIA":
            if not arg:
                return format_ne1000_number(self.diameter_mm)
            value = self._number(arg)
            if value is None or arg != _NUM.match(arg).group(1):
                return "?"
            if self.running:
                return "?NA"
            if not 0.1 <= value <= 50.0:
                return "?OOR"
            self.diameter_mm = value
            self.units_override = None
            return ""
        if name == "RAT":
            if not arg:
                k = RATE_UNITS[self.rate_units]
                return f"{format_ne1000_number(self.rate_ul_min / k)}{self.rate_units}"
            value = self._number(arg)
            if value is None:
                return "?"
            units = arg[len(_NUM.match(arg).group(1)):] or self.rate_units
            if units not in RATE_UNITS:
                return "?"
            ul_min = value * RATE_UNITS[units]
            if not self.min_rate_ul_min() <= ul_min <= self.max_rate_ul_min():
                return "?OOR"
            self.rate_ul_min, self.rate_units = ul_min, units
            return ""
        if name == "VOL":
            k = VOLUME_UNITS_UL[self.volume_units]
            if not arg:
                return f"{format_ne1000_number(self.target_ul / k)}{self.volume_units}"
            if arg in ("UL", "ML"):
                if self.running:
                    return "?NA"
                self.units_override = arg
                return ""
            value = self._number(arg)
            if value is None or arg != _NUM.match(arg).group(1):
                return "?"
            if value * k > self.syringe_volume_ul * 10:
                return "?OOR"
            self.target_ul = value * k
            return ""
        if name == "DIR":
            if not arg:
                return self.direction
            if arg == "REV":
                arg = "WDR" if self.direction == "INF" else "INF"
            if arg not in ("INF", "WDR"):
                return "?"
            self.direction = arg
            return ""
        if name == "RUN" and not arg:
            if self.rate_ul_min <= 0:
                return "?NA"
            self.running, self.purging, self.phase_ul = True, False, 0.0
            return ""
        if name == "PUR" and not arg:
            self.running, self.purging, self.phase_ul = True, True, 0.0
            return ""
        if name == "STP" and not arg:
            self._stop()
            return ""
        if name == "DIS" and not arg:
            k = VOLUME_UNITS_UL[self.volume_units]
            return (f"I{self.infused_ul / k:.3f}W{self.withdrawn_ul / k:.3f}{self.volume_units}")
        if name == "CLD":
            if arg == "INF":
                self.infused_ul = 0.0
            elif arg == "WDR":
                self.withdrawn_ul = 0.0
            else:
                return "?"
            return ""
        if name == "SAF":
            if not arg:
                return str(self.safe_timeout_s)
            if not arg.isdigit() or int(arg) > 255:
                return "?OOR"
            self.safe_timeout_s = int(arg)
            self.watchdog_armed = self.safe_timeout_s > 0
            return ""
        return "?"


INTERBYTE_GAP_S = 0.5  # manual 9.2.3 (safe mode): bytes > 0.5 s apart discard the packet


class Ne1000Bus:
    """Several emulated pumps sharing one RS-232 line (a `ByteDevice` for a `Wire`).

    Args:
        world: shared `EmulatedWorld`.
        byte_clock: wall-time source for the inter-byte gap rule (line timing, not device
            physics, so it is separate from the world clock); injectable for tests.
    """

    def __init__(self, world, byte_clock: Callable[[], float] = time.monotonic):
        self.world = world
        self.pumps: dict[int, Ne1000Emulator] = {}
        self._buf = b""
        self._last_byte_t = -math.inf
        self.byte_clock = byte_clock
        self.garbage: list[bytes] = []

    def add(self, pump: Ne1000Emulator) -> Ne1000Emulator:
        return add_to_bus(self, pump, "bus")

    def poll(self) -> list[bytes]:
        """Advance every pump to now; return Auto-Alarm packets to transmit unprompted
        (safe mode: "the pump automatically transmits a status packet when an alarm
        condition occurs", NE-1000 manual 9.2.3). The alarm also stays latched for the
        next reply."""
        out = []
        with self.world.lock:
            now = self.world.now()
            for pump in self.pumps.values():
                pump.advance(now)
                while pump.auto_alarms:
                    code = pump.auto_alarms.pop(0)
                    out.append(build_safe_packet(f"{pump.address:02d}A?{code}".encode("ascii")))
        return out

    def corrupt_checksum(self, frame: bytes) -> bytes:
        """Safe packet: flip the CRC low byte. Basic frame: flip a bit of the status char."""
        b = bytearray(frame)
        if len(b) >= 5 and b[1] == len(b) - 1:
            b[-2] ^= 0xFF
        elif len(b) > 3:
            b[3] ^= 0x01
        return bytes(b)

    def _dispatch(self, body: bytes, safe: bool) -> bytes | None:
        text = body.decode("ascii", "replace").strip()
        digits = len(text) - len(text.lstrip("0123456789"))
        digits = min(digits, 2)
        address = int(text[:digits]) if digits else 0
        pump = self.pumps.get(address)
        if pump is None:
            return None  # nobody at that address: silence
        reply = pump.handle(text[digits:], safe)
        if reply is None:
            return None
        data = reply.encode("ascii")
        return build_safe_packet(data) if safe else bytes([STX]) + data + bytes([ETX])

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        with self.world.lock:
            self.world.tick()
            now = self.byte_clock()
            if self._buf[:1] == bytes([STX]) and now - self._last_byte_t > INTERBYTE_GAP_S:
                self.garbage.append(self._buf)  # stale partial safe packet: discarded
                self._buf = b""
            self._last_byte_t = now
            self._buf += data
            while self._buf:
                if self._buf[0] == STX:
                    if len(self._buf) < 2:
                        break
                    end = 1 + self._buf[1]
                    if len(self._buf) < end:
                        break
                    packet, self._buf = self._buf[:end], self._buf[end:]
                    body = packet[2:-3]
                    if (packet[-1] != ETX or
                            crc16_ccitt(body) != (packet[-3] << 8 | packet[-2])):
                        self.garbage.append(packet)
                        m = re.match(rb"^(\d\d)", body)
                        if m and int(m.group(1)) in self.pumps:
                            out.append(build_safe_packet(m.group(1) + b"S?COM"))
                        continue
                    reply = self._dispatch(body, True)
                else:
                    idx = self._buf.find(b"\r")
                    if idx < 0:
                        stx = self._buf.find(bytes([STX]))
                        if stx > 0:  # junk then a safe packet
                            self.garbage.append(self._buf[:stx])
                            self._buf = self._buf[stx:]
                            continue
                        break
                    line, self._buf = self._buf[:idx], self._buf[idx + 1:]
                    reply = self._dispatch(line, False)
                if reply is not None:
                    out.append(reply)
        return out


def add_to_bus(bus: Any, pump: Any, where: str) -> Any:
    """Put `pump` on `bus` (its `.pumps` by address) and in the world (by name); a second
    pump at one address is a ValueError naming the `where` ("bus", "line")."""
    if pump.address in bus.pumps:
        raise ValueError(f"address {pump.address} already used on this {where}")
    bus.pumps[pump.address] = pump
    bus.world.pumps[pump.name] = pump
    return pump


def add_pump_emulator(world: Any, dev: Any, line: Any, bus_type: type,
                      emulator_type: type, **bus_options: Any) -> tuple[Any, Any]:
    """Emulate the syringe pump `dev` (a rig-file pump entry) on `line`, or on a new
    `bus_type(world, **bus_options)` when it is the first device of its port; registers
    the pump's inlet and stock concentration with the world. Returns (bus, emulator)."""
    bus = line if line is not None else bus_type(world, **bus_options)
    if not isinstance(bus, bus_type):
        raise ValueError(f"port {dev.port} is shared by devices of different kinds")
    emu = bus.add(emulator_type(world, dev.name, dev.address,
                                syringe_diameter_mm=dev.syringe_diameter_mm,
                                syringe_volume_ul=dev.syringe_volume_ul))
    world.inlet_of[dev.name] = dev.inlet
    world.stock_molar[dev.inlet] = dev.stock_molar
    return bus, emu
