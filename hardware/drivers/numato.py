"""Numato Lab USB relay / GPIO modules (LED or lamp enable of the flow cell).

Sources: Numato Lab sample code `RelayAndGPIOModules/USBRelayAndGPIOModules/python`
(`relay on|off|read N`, `gpio set|clear|read N`, `ver`, `id get`, CR-terminated commands,
19200 baud in the samples) and the Numato C relay demo (the module echoes every
character; `relay read 0` has its state at byte offset 14, i.e. echo + 2 EOL bytes),
collected in PROTOCOLS_WAVE2.md section 3. Channel indices >= 10 are upper-case letters
(10 = "A", 11 = "B", ...; not hex) [Numato samples; Keating blog].

Grammar held here:
  identify  `ver\\r` -> firmware (e.g. 00000008), `id get\\r` -> module ID
  relay     `relay on N\\r` / `relay off N\\r`; `relay read N\\r` -> on | off
  gpio      `gpio set N\\r` / `gpio clear N\\r`; `gpio read N\\r` -> 1 | 0
Reply: echo, EOL, value line (reads only), EOL, prompt `>`.

Tolerant where no source confirms [U]: the EOL bytes (`\\n\\r` inferred; any CR/LF mix
accepted, as numato-gpio does since commit 615388d), 8N1 framing, the power-on state
(relays off), and errors (none documented: an unknown command returns only the prompt,
which `parse_numato_reply` rejects for a read). On some firmware `gpio read` turns the
pin into an input [U]: `numato_gpio` is for modules whose GPIO read reports the output
latch; prefer `numato_relay` for an LED enable.
"""

from __future__ import annotations

from typing import Any

from hardware.drivers.ascii_line import drop_echo, prompt_framer, text_lines
from hardware.errors import ProtocolError, tag_device
from hardware.retry import RetryPolicy
from hardware.transport import Port, PortClient, open_port

BAUD = 19200
find_numato_frame = prompt_framer(b">")
MAX_CHANNEL = 35  # 0-9 then A-Z


def numato_index(channel: int) -> str:
    """Channel number as the module spells it: 0-9, then A, B, ... (not hex)."""
    if not 0 <= channel <= MAX_CHANNEL:
        raise ValueError(f"channel must be 0-{MAX_CHANNEL}, got {channel}")
    return str(channel) if channel < 10 else chr(ord("A") + channel - 10)


def build_numato_command(command: str) -> bytes:
    return command.encode("ascii") + b"\r"


def parse_numato_reply(raw: bytes, command: str) -> str:
    """The value line after the echo ("" when the reply is only echo + prompt)."""
    lines = drop_echo(text_lines(raw, strip_prompt=">"), command, raw)
    return lines[0] if lines else ""


class _NumatoChannel(PortClient):
    kind = "relay"
    on_word, off_word, read_on, read_off = "on", "off", "on", "off"

    def __init__(self, url: str, channel: int, *, baud: int = BAUD, timeout_s: float = 1.0,
                 retry: RetryPolicy | None = None, name: str = ""):
        self.index = numato_index(channel)
        self.channel = channel
        self.name = name or f"numato@{url}#{channel}"
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._port: Port | None = open_port(url, baud, timeout_s)

    def query(self, command: str, allowed: tuple[str, ...] = ()) -> str:
        """Send a command (all of them idempotent here) and return its value line; with
        `allowed`, a value outside it is a garbled reply (retried)."""
        def once() -> str:
            raw = self.port.exchange(build_numato_command(command), find_numato_frame,
                                     self.timeout_s, device=self.name)
            with tag_device(self.name):
                value = parse_numato_reply(raw, command)
                if allowed and value not in allowed:
                    raise ProtocolError(f"{command!r}: expected {' or '.join(allowed)}", raw=raw)
                return value
        return self.retry.call(once, f"{self.name} {command}")

    def identify(self) -> str:
        return f"Numato {self.kind} module, firmware {self.query('ver')}, ID {self.query('id get')}"

    def set_open(self, open_: bool) -> None:
        """Switch the channel on (open) or off."""
        self.query(f"{self.kind} {self.on_word if open_ else self.off_word} {self.index}")

    def is_open(self) -> bool:
        """The channel state read back."""
        value = self.query(f"{self.kind} read {self.index}", (self.read_on, self.read_off))
        return value == self.read_on


class NumatoRelay(_NumatoChannel):
    """One relay of a Numato USB relay module (satisfies `capabilities.Shutter`: on = open)."""


class NumatoGpio(_NumatoChannel):
    """One GPIO output of a Numato module (`gpio set|clear|read`; see [U] above)."""

    kind = "gpio"
    on_word, off_word, read_on, read_off = "set", "clear", "1", "0"


def _opener(cls: type) -> Any:
    def _open(dev: Any, ctx: Any) -> Any:
        return cls(dev.port, dev.channel, baud=dev.baud, timeout_s=ctx.timeout(dev),
                   retry=ctx.retry, name=dev.name)
    return _open


def _probe(drv: _NumatoChannel, dev: Any) -> str:
    state = "on" if drv.is_open() else "off"
    return f"{drv.identify()}, {drv.kind} {drv.index} {state} (not switched)"


def _emulator(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
    from hardware.emulators.numato import NumatoEmulator

    box = line if line is not None else NumatoEmulator(world, dev.name)
    if not isinstance(box, NumatoEmulator):
        raise ValueError(f"{dev.name}: port shared with a device that is not a Numato module")
    box.attach(dev.channel, dev.role, dev.driver)
    return box, box


def _spec(name: str, cls: type) -> Any:
    from hardware.capabilities import Shutter
    from hardware.registry import DriverSpec

    return DriverSpec(
        name=name, roles=("led_enable", "lamp_shutter", "excitation_shutter"), capability=Shutter,
        driver_class=cls, transport="USB CDC-ACM ASCII, 19200 8N1, CR; echo + '>' prompt",
        open=_opener(cls), probe=_probe, emulator=_emulator,
        source="Numato Lab USB relay/GPIO sample code (python, C relay demo)")


DRIVER_RELAY = _spec("numato_relay", NumatoRelay)
DRIVER_GPIO = _spec("numato_gpio", NumatoGpio)
