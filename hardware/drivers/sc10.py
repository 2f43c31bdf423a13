"""Thorlabs SC10 shutter controller (excitation / lamp shutter of the flow cell).

Source: Thorlabs SC10 manual 8654-D02, "Keywords" table (command set, lower-case
keywords, `ens` toggles enable, `closed?` 1 = closed, `interlock?` 1 = tripped,
`mode=n` 1 manual ... 5 external gate, "error string" on a bad keyword), RS-232
section (9600 baud 8N1, no handshake). Reply layout as documented by open drivers that
talk to the device (PROTOCOLS_WAVE2.md section 1): the controller echoes the command and
`\\r`, then the value and `\\r` (queries only), then the prompt "> " (no CR).

Grammar held here (STYLE 2: no sleeps, retries or safety policy in a driver):
  identify  `id?\\r`      -> model/firmware line
  setup     `mode=1\\r`   (manual mode, as Micro-Manager's adapter does at start-up)
  enabled   `ens?\\r`     -> 0 | 1
  toggle    `ens\\r`      (an action: sent once, never resent blindly)
  is_open   `closed?\\r`  -> 1 closed | 0 open (the read-back FlowRig confirms against)
  interlock `interlock?\\r` -> 1 tripped

Tolerant where no source confirms [U]: the exact error text (we treat any reply line
containing "CMD_NOT_DEFINED", "CMD_ARG_INVALID" or "error" as a rejection), the `id?`
text, and whether the space after ">" arrives (both accepted: `prompt_framer`).
Power-on state (mode, enable) is [U]: `setup()` sets manual mode and the light path
reads the state back before trusting it.
"""

from __future__ import annotations

from typing import Any

from hardware.drivers.ascii_line import drop_echo, prompt_framer, text_lines
from hardware.errors import CommandRejected, DeviceAlarm, DeviceTimeout, ProtocolError, tag_device
from hardware.retry import RetryPolicy
from hardware.transport import Port, PortClient, open_port

BAUD = 9600
find_sc10_frame = prompt_framer(b">", optional_tail=b" ")
ERROR_MARKERS = ("CMD_NOT_DEFINED", "CMD_ARG_INVALID", "ERROR")


def build_sc10_command(command: str) -> bytes:
    """`command` + CR, ASCII (keywords are lower case)."""
    return command.encode("ascii") + b"\r"


def parse_sc10_reply(raw: bytes, command: str) -> str:
    """The value line of a reply ("" for set commands). Raises ProtocolError for a
    missing echo or non-ASCII bytes, CommandRejected for an error string."""
    lines = drop_echo(text_lines(raw, strip_prompt=">"), command, raw)
    value = lines[0] if lines else ""
    if any(m in value.upper() for m in ERROR_MARKERS):
        raise CommandRejected(f"{command!r} rejected: {value}", code=value)
    return value


def parse_flag(value: str, raw: bytes) -> bool:
    """A 0/1 reply value."""
    if value not in ("0", "1"):
        raise ProtocolError(f"expected 0 or 1, got {value!r}", raw=raw)
    return value == "1"


class Sc10Shutter(PortClient):
    """One SC10 controller on its own serial line (satisfies `capabilities.Shutter`).

    Args:
        url: pyserial URL. baud: 9600 (factory) or 115200 after `baud=1`.
        timeout_s: reply deadline. retry: policy for queries. name: device name.
    """

    def __init__(self, url: str, *, baud: int = BAUD, timeout_s: float = 1.0,
                 retry: RetryPolicy | None = None, name: str = ""):
        self.name = name or f"sc10@{url}"
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._port: Port | None = open_port(url, baud, timeout_s)

    def _send_once(self, command: str) -> str:
        raw = self.port.exchange(build_sc10_command(command), find_sc10_frame, self.timeout_s,
                                 device=self.name)
        with tag_device(self.name, ProtocolError, CommandRejected):
            return parse_sc10_reply(raw, command)

    def query(self, command: str) -> str:
        """An idempotent command (queries, absolute settings): retried by the policy."""
        return self.retry.call(lambda: self._send_once(command), f"{self.name} {command}")

    def query_flag(self, command: str) -> bool:
        """A 0/1 query; a garbled value is retried like a garbled frame."""
        def once() -> bool:
            value = self._send_once(command)
            with tag_device(self.name):
                return parse_flag(value, value.encode("ascii", "replace"))
        return self.retry.call(once, f"{self.name} {command}")

    def identify(self) -> str:
        """Model and firmware (`id?`)."""
        return self.query("id?")

    def setup(self) -> None:
        """Manual mode (`mode=1`); refuse a tripped interlock (the shutter cannot open)."""
        self.query("mode=1")
        if self.interlock_tripped():
            raise DeviceAlarm("SC10 interlock tripped: the shutter cannot open", code="interlock",
                              device=self.name, next_step="close the interlock loop of the SC10")

    def enabled(self) -> bool:
        """`ens?`: True while the output is enabled (shutter commanded open)."""
        return self.query_flag("ens?")

    def is_open(self) -> bool:
        """`closed?` read back: True when the shutter reports open."""
        return not self.query_flag("closed?")

    def interlock_tripped(self) -> bool:
        return self.query_flag("interlock?")

    def set_open(self, open_: bool) -> None:
        """Command open/closed: `ens` only toggles, so read `ens?` and toggle if needed.
        The toggle is sent once; if its reply is lost the state is asked instead."""
        if self.enabled() == open_:
            return
        try:
            self._send_once("ens")
        except (DeviceTimeout, ProtocolError) as e:
            if self.enabled() != open_:
                raise DeviceTimeout("ens toggle not confirmed", device=self.name,
                                    next_step="read the state, then toggle again") from e


def _open(dev: Any, ctx: Any) -> Sc10Shutter:
    return Sc10Shutter(dev.port, baud=dev.baud, timeout_s=ctx.timeout(dev), retry=ctx.retry,
                       name=dev.name)


def _probe(drv: Sc10Shutter, dev: Any) -> str:
    state = "open" if drv.is_open() else "closed"
    return f"{drv.identify()}, shutter {state} (not switched)"


def _emulator(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
    from hardware.emulators.sc10 import Sc10Emulator

    if line is not None:
        raise ValueError(f"{dev.name}: an SC10 needs its own serial line")
    emu = Sc10Emulator(world, dev.name, dev.role)
    return emu, emu


def _driver_spec() -> Any:
    from hardware.capabilities import Shutter
    from hardware.registry import DriverSpec

    return DriverSpec(
        name="thorlabs_sc10", roles=("excitation_shutter", "lamp_shutter"), capability=Shutter,
        driver_class=Sc10Shutter, transport="RS-232 ASCII, 9600 8N1, CR; echo + '> ' prompt",
        open=_open, probe=_probe, emulator=_emulator,
        source="Thorlabs SC10 manual 8654-D02, Keywords table and RS-232 section")


DRIVER = _driver_spec()
