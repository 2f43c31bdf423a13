"""ACME SH-1 shutter: driver, emulator and registry entry for qd-sdl (worked plugin)."""

from __future__ import annotations

from typing import Any

from hardware.capabilities import Shutter
from hardware.drivers.ascii_line import line_framer, text_lines
from hardware.emulators.line_device import LineDevice, publish_light
from hardware.errors import ProtocolError
from hardware.registry import DriverSpec
from hardware.retry import RetryPolicy
from hardware.transport import PortClient, open_port

find_frame = line_framer(b"\r")


class AcmeShutter(PortClient):
    """One SH-1 (satisfies qd-sdl's `Shutter` capability)."""

    def __init__(self, url: str, *, baud: int = 9600, timeout_s: float = 1.0,
                 retry: RetryPolicy | None = None, name: str = "acme"):
        self.name, self.timeout_s = name, timeout_s
        self.retry = retry or RetryPolicy()
        self._port = open_port(url, baud, timeout_s)

    def _ask(self, command: str, allowed: tuple[str, ...] = ()) -> str:
        def once() -> str:
            raw = self.port.exchange(command.encode("ascii") + b"\r", find_frame,
                                     self.timeout_s, device=self.name)
            lines = text_lines(raw)
            if not lines or (allowed and lines[0] not in allowed):
                raise ProtocolError(f"unexpected reply to {command}", raw=raw, device=self.name)
            return lines[0]
        return self.retry.call(once, f"{self.name} {command}")

    def identify(self) -> str:
        return self._ask("*IDN?")

    def set_open(self, open_: bool) -> None:
        self._ask("OPEN" if open_ else "CLOSE", ("OK",))

    def is_open(self) -> bool:
        return self._ask("STATE?", ("OPEN", "CLOSED")) == "OPEN"


class AcmeEmulator(LineDevice):
    """The SH-1 at the byte level, gating the emulated flow cell's light."""

    def __init__(self, world: Any, name: str, role: str):
        super().__init__(world, name)
        self.role, self.opened = role, False
        self._publish()

    def _publish(self) -> None:
        publish_light(self.world, {self.role: self.opened})

    def reset_state(self) -> None:
        self.opened = False
        self._publish()

    def respond(self, command: str) -> bytes | None:
        if command == "*IDN?":
            return b"ACME,SH-1,0042,1.0\r"
        if command in ("OPEN", "CLOSE"):
            self.opened = command == "OPEN"
            self._publish()
            return b"OK\r"
        if command == "STATE?":
            return b"OPEN\r" if self.opened else b"CLOSED\r"
        return None


def _open(dev: Any, ctx: Any) -> AcmeShutter:
    return AcmeShutter(dev.port, baud=dev.baud, timeout_s=ctx.timeout(dev), retry=ctx.retry,
                       name=dev.name)


def _probe(drv: AcmeShutter, dev: Any) -> str:
    return f"{drv.identify()}, {'open' if drv.is_open() else 'closed'} (not switched)"


def _emulator(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
    emu = AcmeEmulator(world, dev.name, dev.role)
    return emu, emu


DRIVER = DriverSpec(
    name="acme_shutter", roles=("lamp_shutter", "excitation_shutter", "led_enable"),
    capability=Shutter, driver_class=AcmeShutter, transport="RS-232 ASCII, 9600 8N1, CR",
    open=_open, probe=_probe, emulator=_emulator, source="ACME SH-1 manual (fictional)")
