"""Typed exceptions of the hardware layer.

Every error carries the data needed to diagnose it (the raw bytes, the alarm code, the
device name) and says the next step. `HardwareLayerError` is the layer's base (the CLI
maps it to one line and exit code 3, `sdl.errors.exit_code_of`); under it `HardwareError`
(a device or port problem, which drivers retry and the loop and `sdl devices check` catch)
and `RigUnavailable` (the rig as a whole cannot go on).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class HardwareLayerError(Exception):
    """Base of every error of the hardware layer; exit code 3 (the rig needs attention)."""

    exit_code = 3


class RigUnavailable(HardwareLayerError):
    """The rig as a whole cannot go on: a device that cannot be brought up, or one that
    stayed silent after the reconnect policy. The message says what to do next."""


class HardwareError(HardwareLayerError):
    """A device or port problem.

    Attributes:
        device: name or URL of the device ("" when unknown).
        next_step: what the operator or the calling code should do next.
    """

    default_next_step = "check the device and its cable, then retry"

    def __init__(self, message: str, *, device: str = "", next_step: str = ""):
        self.message = message
        self.device = device
        self.next_step = next_step or self.default_next_step
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.device}: " if self.device else ""
        return f"{where}{self.message}; next: {self.next_step}"


class PortUnavailable(HardwareError):
    """The serial port cannot be opened or vanished (USB unplugged, emulator stopped).

    Attributes:
        url: the pyserial URL that failed.
    """

    default_next_step = "check the cable / USB adapter and the port path in the rig file"

    def __init__(self, message: str, *, url: str, device: str = "", next_step: str = ""):
        self.url = url
        super().__init__(message, device=device or url, next_step=next_step)


class DeviceTimeout(HardwareError):
    """No complete reply before the deadline.

    Attributes:
        sent: the request bytes.
        received: bytes received before the deadline (empty: no reply at all).
        timeout_s: the deadline that expired.
    """

    default_next_step = ("queries may be retried; after an action (RUN) query the status "
                         "to learn whether it happened before resending")

    def __init__(self, message: str, *, sent: bytes = b"", received: bytes = b"",
                 timeout_s: float = 0.0, device: str = "", next_step: str = ""):
        self.sent = bytes(sent)
        self.received = bytes(received)
        self.timeout_s = timeout_s
        super().__init__(message, device=device, next_step=next_step)


class ProtocolError(HardwareError):
    """A reply that does not parse: bad framing, bad checksum, unexpected content.

    Attributes:
        raw: the offending bytes.
    """

    default_next_step = "retry the query; if it persists check baud rate, address and wiring"

    def __init__(self, message: str, *, raw: bytes = b"", device: str = "", next_step: str = ""):
        self.raw = bytes(raw)
        super().__init__(f"{message} (raw {self.raw.hex(' ') or 'empty'})", device=device,
                         next_step=next_step)


class ChecksumError(ProtocolError):
    """A frame whose CRC / checksum does not match (line noise, wrong baud rate)."""


class DeviceAlarm(HardwareError):
    """The device reports an alarm (pump stall, reset, watchdog; heater sensor break).

    Attributes:
        code: the device's alarm code, e.g. "S" (NE-1000 stall), "sensor_break".
    """

    default_next_step = "put the rig in its safe state and inspect the device"

    def __init__(self, message: str, *, code: str, device: str = "", next_step: str = ""):
        self.code = code
        super().__init__(message, device=device, next_step=next_step)


class CommandRejected(HardwareError):
    """The device understood the frame but refused the command.

    Attributes:
        code: device error code: "?OOR"/"?NA"/"?COM"/"?IGN"/"?" (NE-1000), Modbus exception
            number as int, or OBP error number as int.
    """

    default_next_step = "check the value against the device limits and its current state"

    def __init__(self, message: str, *, code: str | int, device: str = "", next_step: str = ""):
        self.code = code
        super().__init__(message, device=device, next_step=next_step)


class LightPathUnconfirmed(HardwareError):
    """A light-path element did not read back the state it was commanded to (shutter
    stuck, valve in the wrong position, LED relay not switched). FlowRig refuses to
    measure and fails the experiment as an interlock.

    Attributes:
        role: the rig-file role ("excitation_shutter", "cell_selector", ...).
        wanted: the commanded state (open/closed, position).
        read_back: what the device reported.
    """

    default_next_step = ("the light path is unconfirmed: inspect the shutter / valve / relay "
                         "named, then resume")

    def __init__(self, message: str, *, role: str, wanted: object, read_back: object,
                 device: str = "", next_step: str = ""):
        self.role, self.wanted, self.read_back = role, wanted, read_back
        super().__init__(message, device=device, next_step=next_step)


@contextmanager
def tag_device(device: str, *kinds: type[HardwareError]) -> Iterator[None]:
    """Name `device` on the errors of `kinds` (default: ProtocolError) raised inside, then
    let them propagate. The reply parsers are pure functions of the bytes and do not know
    whose bytes they read; the driver wraps them with its name."""
    caught = kinds or (ProtocolError,)
    try:
        yield
    except caught as e:
        e.device = device
        raise
