"""New Era NE-1000 family syringe pump driver (basic and safe RS-232 modes).

Source: NE-1000 user manual (New Era Pump Systems, publication 1200-01), RS-232 chapter:
- basic mode: command `[addr]CMD[data]\\r`; reply `STX AA S data ETX`, S = status char;
- alarms: `STX AA A?x ETX` with x in R (reset), S (stall), T (safe-mode timeout),
  E (program error), O (phase out of range); cleared by reporting it;
- errors in the data field: `?`, `?NA`, `?OOR`, `?COM`, `?IGN`;
- safe mode: `STX len data CRChi CRClo ETX`, len = len(data) + 4, CRC-16/CCITT
  (`binascii.crc_hqx(data, 0)`), enabled by `SAF n` (n s watchdog);
- numbers have at most 4 digits and at most 3 after the decimal point;
- the pump ignores the first command after power-up.

Pumps are daisy-chained: several `Ne1000Pump` objects share one `Port` (same URL).
Commands are either queries (idempotent, retried through the `RetryPolicy`) or actions
(RUN, PUR, clearing counters: sent once; after a lost reply the driver asks the pump).
"""

from __future__ import annotations

import binascii
import enum
import logging
import re
from dataclasses import dataclass

from hardware.errors import (
    ChecksumError,
    CommandRejected,
    DeviceAlarm,
    DeviceTimeout,
    ProtocolError,
)
from hardware.retry import RetryPolicy
from hardware.transport import Port, PortClient, open_port

log = logging.getLogger(__name__)

STX, ETX, CR = 0x02, 0x03, b"\r"
ALARMS = {
    "R": "pump reset / power lost",
    "S": "motor stalled (empty syringe, occlusion or end of travel)",
    "T": "safe-mode communications timeout (watchdog)",
    "E": "pumping program error",
    "O": "pumping program phase out of range",
}
ERRORS = {
    "?": "command not recognised",
    "?NA": "command not applicable now",
    "?OOR": "data out of range",
    "?COM": "invalid communications packet",
    "?IGN": "command ignored (new phase started)",
}
# Volume units the pump reports (set by syringe diameter), in microlitres.
VOLUME_UNITS_UL = {"UL": 1.0, "ML": 1000.0}
RATE_UNITS_UL_MIN = {"UM": 1.0, "MM": 1000.0, "UH": 1.0 / 60.0, "MH": 1000.0 / 60.0}


class PumpState(enum.Enum):
    """Status character of an NE-1000 reply."""

    INFUSING = "I"
    WITHDRAWING = "W"
    STOPPED = "S"
    PAUSED = "P"
    TIMED_PAUSE = "T"
    WAITING_TRIGGER = "U"
    PURGING = "X"

    @property
    def moving(self) -> bool:
        return self in (PumpState.INFUSING, PumpState.WITHDRAWING, PumpState.PURGING)


@dataclass(frozen=True)
class Ne1000Reply:
    """A parsed reply.

    Attributes:
        address: pump address 0-99.
        state: pump state (None in an alarm reply).
        alarm: alarm letter (None unless an alarm reply).
        data: the data field (text after the status char), possibly an error like "?OOR".
    """

    address: int
    state: PumpState | None
    alarm: str | None
    data: str

    @property
    def error(self) -> str | None:
        """The error code in the data field ("?OOR" ...) or None."""
        return self.data if self.data.startswith("?") else None


@dataclass(frozen=True)
class Dispensed:
    """Volume counters. Units: microlitres."""

    infused_ul: float
    withdrawn_ul: float


# ---------------------------------------------------------------------------- pure functions
def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT (XModem variant, init 0) used by safe mode: `binascii.crc_hqx(data, 0)`."""
    return binascii.crc_hqx(bytes(data), 0)


def format_ne1000_number(value: float) -> str:
    """Format a number for the pump: at most 4 digits, at most 3 after the point.

    Raises:
        ValueError: negative, non-finite, or >= 10000 (does not fit 4 digits).
    """
    if not (value >= 0 and value < 9999.5):
        raise ValueError(f"{value!r} does not fit the NE-1000 number format (0..9999)")
    int_digits = len(str(int(round(value)))) if value >= 1 else 1
    decimals = min(3, 4 - int_digits)
    text = f"{value:.{decimals}f}"
    if len(text.replace(".", "")) > 4:  # rounding carried into a new digit (e.g. 9.9996)
        text = f"{value:.{max(decimals - 1, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def build_ne1000_command(address: int, command: str, *, safe: bool = False) -> bytes:
    """Bytes for one command: basic `AACMD\\r` or the safe-mode packet around `AACMD`."""
    if not 0 <= address <= 99:
        raise ValueError(f"NE-1000 address must be 0-99, got {address}")
    body = f"{address:02d}{command}".encode("ascii")
    if not safe:
        return body + CR
    return build_safe_packet(body)


def build_safe_packet(data: bytes) -> bytes:
    """Safe-mode packet: STX, len(data)+4, data, CRC high, CRC low, ETX."""
    if len(data) + 4 > 255:
        raise ValueError("safe-mode packet too long")
    crc = crc16_ccitt(data)
    return bytes([STX, len(data) + 4]) + data + bytes([crc >> 8, crc & 0xFF, ETX])


def find_basic_frame(buf: bytes) -> tuple[int, int] | None:
    """Framer for basic-mode replies: first STX ... ETX (bytes before STX are noise)."""
    start = buf.find(bytes([STX]))
    if start < 0:
        return None
    end = buf.find(bytes([ETX]), start + 1)
    return None if end < 0 else (start, end + 1)


def find_safe_frame(buf: bytes) -> tuple[int, int] | None:
    """Framer for safe-mode packets: STX, length byte, then length-1 more bytes."""
    start = buf.find(bytes([STX]))
    if start < 0 or len(buf) < start + 2:
        return None
    length = buf[start + 1]
    if length < 4:
        raise ProtocolError("safe-mode length byte below 4", raw=buf[start:])
    end = start + 1 + length
    return (start, end) if len(buf) >= end else None


def parse_safe_packet(raw: bytes) -> bytes:
    """Check a safe-mode packet and return its data field.

    Raises:
        ProtocolError: bad framing or length; `ChecksumError` on CRC mismatch.
    """
    raw = bytes(raw)
    if len(raw) < 5 or raw[0] != STX or raw[-1] != ETX:
        raise ProtocolError("not a safe-mode packet (STX len data CRC ETX)", raw=raw)
    if raw[1] != len(raw) - 1:
        raise ProtocolError(f"safe-mode length byte {raw[1]} != {len(raw) - 1}", raw=raw)
    data = raw[2:-3]
    crc = (raw[-3] << 8) | raw[-2]
    if crc16_ccitt(data) != crc:
        raise ChecksumError(f"safe-mode CRC {crc:04x} != {crc16_ccitt(data):04x}", raw=raw)
    return data


_BODY = re.compile(rb"^(\d\d)(?:([IWSPTUX])(.*)|A\?([A-Z]))$", re.S)


def parse_ne1000_body(body: bytes, raw: bytes | None = None) -> Ne1000Reply:
    """Parse `AA S data` or `AA A?x` (the part between STX/ETX or a safe packet's data)."""
    m = _BODY.match(bytes(body))
    if not m:
        raise ProtocolError("reply is not 'AA S data' or 'AA A?x'", raw=raw or body)
    try:
        data = (m.group(3) or b"").decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError("non-ASCII reply data", raw=raw or body) from None
    address = int(m.group(1))
    if m.group(4):
        return Ne1000Reply(address, None, m.group(4).decode("ascii"), "")
    return Ne1000Reply(address, PumpState(m.group(2).decode("ascii")), None, data)


def parse_ne1000_reply(raw: bytes) -> Ne1000Reply:
    """Parse one basic-mode reply frame `STX AA S data ETX`.

    Raises:
        ProtocolError: anything else.
    """
    raw = bytes(raw)
    if len(raw) < 4 or raw[0] != STX or raw[-1] != ETX:
        raise ProtocolError("basic reply must be STX ... ETX", raw=raw)
    return parse_ne1000_body(raw[1:-1], raw)


def parse_ne1000_safe_reply(raw: bytes) -> Ne1000Reply:
    """Parse one safe-mode reply packet (CRC checked)."""
    return parse_ne1000_body(parse_safe_packet(raw), raw)


_DIS = re.compile(r"^I(\d*\.?\d+)W(\d*\.?\d+)(UL|ML)$")


def parse_dispensed(data: str) -> Dispensed:
    """Parse the `DIS` data field `I<vol>W<vol><UL|ML>` into microlitres."""
    m = _DIS.match(data)
    if not m:
        raise ProtocolError("DIS reply is not I<vol>W<vol><UL|ML>", raw=data.encode("ascii", "replace"))
    k = VOLUME_UNITS_UL[m.group(3)]
    return Dispensed(float(m.group(1)) * k, float(m.group(2)) * k)


_RATE = re.compile(r"^(\d*\.?\d+)(UM|MM|UH|MH)$")


def parse_rate(data: str) -> float:
    """Parse a `RAT` query reply `<value><UM|MM|UH|MH>` into microlitres per minute."""
    m = _RATE.match(data)
    if not m:
        raise ProtocolError("RAT reply is not <value><units>", raw=data.encode("ascii", "replace"))
    return float(m.group(1)) * RATE_UNITS_UL_MIN[m.group(2)]


def rate_command(ul_min: float) -> str:
    """`RAT` command text for a rate in µL/min, choosing units so it fits 4 digits."""
    if ul_min < 0:
        raise ValueError(f"rate must be >= 0 µL/min, got {ul_min}")
    for units, k in (("UM", 1.0), ("MM", 1000.0)):
        value = ul_min / k
        if value < 9999.5:
            if units == "UM" and value < 1.0 and ul_min > 0:
                return f"RAT{format_ne1000_number(ul_min * 60.0)}UH"
            return f"RAT{format_ne1000_number(value)}{units}"
    raise ValueError(f"rate {ul_min} µL/min beyond the NE-1000 range")


# ------------------------------------------------------------------------------------ driver
class Ne1000Pump(PortClient):
    """One NE-1000 pump at `address` on a (possibly shared) serial line.

    Args:
        url: pyserial URL of the line.
        address: pump address 0-99 (set on the pump's keypad, `Ad:nn`).
        baud: baud rate configured on the pump.
        timeout_s: reply deadline per command.
        safe_mode: use safe-mode packets (CRC, watchdog) instead of basic mode.
        retry: retry policy for queries; actions are never retried.
        name: device name for logs and errors.
    """

    def __init__(self, url: str, address: int = 0, *, baud: int = 19200, timeout_s: float = 1.0,
                 safe_mode: bool = False, retry: RetryPolicy | None = None, name: str = ""):
        if not 0 <= address <= 99:
            raise ValueError(f"NE-1000 address must be 0-99, got {address}")
        self.address = address
        self.safe_mode = safe_mode
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.name = name or f"ne1000@{url}#{address}"
        self.last_alarm: str | None = None
        self._port: Port | None = open_port(url, baud, timeout_s)

    # -- plumbing ------------------------------------------------------------------------
    def _send_once(self, command: str) -> Ne1000Reply:
        request = build_ne1000_command(self.address, command, safe=self.safe_mode)
        framer = find_safe_frame if self.safe_mode else find_basic_frame
        raw = self.port.exchange(request, framer, self.timeout_s, device=self.name)
        reply = parse_ne1000_safe_reply(raw) if self.safe_mode else parse_ne1000_reply(raw)
        if reply.address != self.address:
            raise ProtocolError(f"reply from address {reply.address}, expected {self.address}",
                                raw=raw, device=self.name)
        if reply.alarm is not None:
            self.last_alarm = reply.alarm
            raise DeviceAlarm(f"pump alarm {reply.alarm}: {ALARMS.get(reply.alarm, 'unknown')}",
                              code=reply.alarm, device=self.name,
                              next_step="the command may not have run; query status(), "
                                        "fix the cause, then resend")
        if reply.error is not None:
            raise CommandRejected(f"{command!r} rejected: {reply.error} "
                                  f"({ERRORS.get(reply.error, 'unknown error')})",
                                  code=reply.error, device=self.name)
        return reply

    def _state(self, reply: Ne1000Reply) -> PumpState:
        if reply.state is None:  # unreachable: alarm replies raise in _send_once
            raise ProtocolError("reply without a status character", device=self.name)
        return reply.state

    def query(self, command: str) -> Ne1000Reply:
        """Send an idempotent command (retried on timeout / garbled reply)."""
        return self.retry.call(lambda: self._send_once(command), f"{self.name} {command}")

    def action(self, command: str) -> Ne1000Reply:
        """Send a non-idempotent command exactly once (no retry)."""
        return self._send_once(command)

    # -- API -----------------------------------------------------------------------------
    def connect(self) -> str:
        """Wake the pump and return its firmware version.

        Sends `VER` up to three times in the configured framing, then up to three times in
        the other one (a pump left in safe mode ignores basic commands; SAF is stored in
        non-volatile memory), without the retry policy. A lost first reply (the pump ignores
        the first command after power-up) and a pending reset `R` or comms-timeout `T` alarm
        (recorded in `last_alarm`, cleared by being reported) are expected on the way.
        `safe_mode` ends up as the framing that worked.
        """
        configured = self.safe_mode
        for framing in (configured, not configured):
            self.safe_mode = framing
            for _ in range(3):
                try:
                    return self._send_once("VER").data
                except DeviceAlarm as e:
                    if e.code not in ("R", "T"):
                        raise
                except (DeviceTimeout, ProtocolError):
                    continue
        self.safe_mode = configured
        raise DeviceTimeout("pump does not answer VER in basic or safe mode", device=self.name,
                            next_step="check address, baud rate, cable and that the pump is on")

    def read_auto_alarm(self, timeout_s: float = 0.0) -> Ne1000Reply | None:
        """Read one unprompted safe-mode Auto-Alarm packet if one is waiting, sending nothing.

        Returns the parsed packet (its `address` may be another pump on the bus; its alarm
        is also reported in that pump's next reply), or None if nothing arrives in
        `timeout_s`.
        """
        try:
            raw = self.port.read_frame(find_safe_frame, timeout_s, device=self.name)
        except DeviceTimeout:
            return None
        reply = parse_ne1000_safe_reply(raw)
        if reply.alarm is not None and reply.address == self.address:
            self.last_alarm = reply.alarm
        return reply

    def version(self) -> str:
        """Firmware version string, e.g. 'NE1000V3.928'."""
        return self.query("VER").data

    def status(self) -> PumpState:
        """Current pump state (empty command = status query)."""
        return self._state(self.query(""))

    def heartbeat(self) -> PumpState:
        """Feed the safe-mode watchdog with a harmless status query; returns the state."""
        return self.status()

    def set_diameter(self, mm: float) -> None:
        """Set the syringe inner diameter (mm); also sets the pump's volume units."""
        self.query(f"DIA{format_ne1000_number(mm)}")

    def diameter(self) -> float:
        """Syringe inner diameter in mm."""
        data = self.query("DIA").data
        try:
            return float(data)
        except ValueError:
            raise ProtocolError("DIA reply not a number", raw=data.encode(), device=self.name) from None

    def set_rate(self, ul_min: float) -> None:
        """Set the pumping rate in µL/min (units chosen to fit 4 digits)."""
        self.query(rate_command(ul_min))

    def rate(self) -> float:
        """Current rate setting in µL/min."""
        return parse_rate(self.query("RAT").data)

    def set_direction(self, direction: str) -> None:
        """Set pumping direction: 'INF' (infuse) or 'WDR' (withdraw)."""
        if direction not in ("INF", "WDR"):
            raise ValueError(f"direction must be 'INF' or 'WDR', got {direction!r}")
        self.query(f"DIR{direction}")

    def volume_units(self) -> str:
        """The pump's volume units, 'UL' or 'ML' (from the `VOL` query reply)."""
        data = self.query("VOL").data
        units = data[-2:]
        if units not in VOLUME_UNITS_UL:
            raise ProtocolError("VOL reply does not end in UL or ML", raw=data.encode("ascii", "replace"),
                                device=self.name)
        return units

    def set_volume(self, ul: float, units: str | None = None) -> None:
        """Set the volume to dispense before stopping (0 = no limit), in µL.

        Args:
            ul: target volume, µL.
            units: the pump's volume units ('UL' or 'ML'); queried from the pump if None
                (the pump picks them from the syringe diameter: <= 14 mm UL, else ML).
                Not needed (and not queried) for 0.
        """
        if ul == 0:
            self.query("VOL0")  # zero in any units: no need to ask for them
            return
        units = units or self.volume_units()
        if units not in VOLUME_UNITS_UL:
            raise ValueError(f"units must be 'UL' or 'ML', got {units!r}")
        self.query(f"VOL{format_ne1000_number(ul / VOLUME_UNITS_UL[units])}")

    def run(self) -> PumpState:
        """Start pumping (action: never resent).

        If the reply is lost, the pump is asked for its status: the run is confirmed if
        it is moving; otherwise `DeviceTimeout` is raised saying the pump did not start.
        """
        try:
            reply = self.action("RUN")
        except (DeviceTimeout, ProtocolError) as e:
            state = self.status()
            if state.moving:
                log.info("%s: RUN reply lost but pump is %s", self.name, state.name)
                return state
            raise DeviceTimeout(f"RUN not confirmed; pump is {state.name}",
                                sent=getattr(e, "sent", b""), device=self.name,
                                next_step="the pump did not start; check alarms, then run() again") from e
        return self._state(reply)

    def stop(self) -> PumpState:
        """Stop pumping (idempotent, retried)."""
        return self._state(self.query("STP"))

    def dispensed(self) -> Dispensed:
        """Infused and withdrawn volume since the last clear, µL."""
        return parse_dispensed(self.query("DIS").data)

    def clear_dispensed(self) -> None:
        """Zero both volume counters (CLD INF, CLD WDR)."""
        self.query("CLDINF")
        self.query("CLDWDR")

    def enable_watchdog(self, seconds: int) -> None:
        """Enter safe mode with a pump-side watchdog of `seconds` (0 = back to basic mode).

        After this, the pump stops with alarm T if no valid packet arrives for `seconds`:
        call `heartbeat()` more often than that.
        """
        if not 0 <= seconds <= 255:
            raise ValueError(f"watchdog must be 0-255 s, got {seconds}")
        self._send_once(f"SAF{seconds}")
        self.safe_mode = seconds > 0
