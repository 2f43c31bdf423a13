"""VICI Valco universal electric actuator (EUH/EUD/EUT) driving the flow cell's
selector valve: sample (reactor outlet) / solvent blank / reference dye.

Source: VICI "Universal Electric Actuator" manual (Rev 1/20): p4 serial settings
(9600, 8 data bits, no parity, 1 stop bit, no handshake; ID disabled on RS-232 units),
p5-6 selector set-up (`AM3`, `NPnn`), p7-8 command delimiter (CR by default), p8-13
command table (`GOnn` go to position nn, `CP` current position -> `CPnn`, `NP` number of
positions -> `NPnn`, `VR` firmware, `IDn` multidrop prefix). Facts collected in
PROTOCOLS_WAVE2.md section 2.

Grammar held here:
  identify   `VR\\r` -> firmware line; `NP\\r` -> positions
  move_to    `GOn\\r` (an absolute move: idempotent; no reply expected)
  position   `CP\\r` -> `CPnn\\r` (or `Position is = n` with `LG1`)

Tolerant where no source confirms [U]:
- replies to `GO` (`IFM` default): none is expected; a reply that does come is flushed
  before the next exchange as stale bytes;
- zero padding of nn and the `LG1` format: `parse_position` accepts `CP3`, `CP03`,
  `Position is = 3`, `Position is 3`, `CPA`/`CPB` (two-position mode -> 1/2);
- `VR` may answer several lines (flowchem reads five): the first is used, the rest is
  flushed as stale before the next command;
- no serial error string is documented: an unknown command times out.
Moves take time (the manual's `TM`); the light path polls `position()` until it reads
the commanded one (FlowRig holds the waiting policy, not this driver).
"""

from __future__ import annotations

import re
from typing import Any

from hardware.drivers.ascii_line import line_framer, text_lines
from hardware.errors import ProtocolError, tag_device
from hardware.retry import RetryPolicy
from hardware.transport import Port, PortClient, open_port

BAUD = 9600
find_vici_frame = line_framer(b"\r")
_POSITION = re.compile(r"(?:CP|Position is)\s*=?\s*([0-9]{1,2}|[AB])\s*$", re.IGNORECASE)
_NP = re.compile(r"NP\s*=?\s*([0-9]{1,2})\s*$", re.IGNORECASE)


def build_vici_command(command: str, valve_id: str = "") -> bytes:
    """`[id]command` + CR (the ID prefix only for multidrop units with an ID set)."""
    return f"{valve_id}{command}\r".encode("ascii")


def parse_position(raw: bytes) -> int:
    """Position from a `CP` reply (see the module docstring for the accepted forms)."""
    lines = text_lines(raw)
    m = _POSITION.search(lines[-1]) if lines else None
    if m is None:
        raise ProtocolError("not a CP reply", raw=raw)
    value = m.group(1).upper()
    return {"A": 1, "B": 2}.get(value) or int(value)


def parse_positions_count(raw: bytes) -> int:
    lines = text_lines(raw)
    m = _NP.search(lines[-1]) if lines else None
    if m is None:
        raise ProtocolError("not an NP reply", raw=raw)
    return int(m.group(1))


class ViciSelectorValve(PortClient):
    """One actuator on a serial line (satisfies `capabilities.CellSelector`).

    Args:
        url: pyserial URL. baud: 9600 (factory). timeout_s: reply deadline.
        valve_id: multidrop ID prefix ("" = none, the RS-232 default).
        retry: policy for queries and moves (both idempotent). name: device name.
    """

    def __init__(self, url: str, *, baud: int = BAUD, timeout_s: float = 1.0,
                 valve_id: str = "", retry: RetryPolicy | None = None, name: str = ""):
        if valve_id and not re.fullmatch(r"[0-9A-Z]", valve_id):
            raise ValueError(f"valve_id must be one character 0-9 or A-Z, got {valve_id!r}")
        self.name = name or f"vici@{url}"
        self.valve_id = valve_id
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._port: Port | None = open_port(url, baud, timeout_s)

    def _ask(self, command: str) -> bytes:
        def once() -> bytes:
            with tag_device(self.name):
                return self.port.exchange(build_vici_command(command, self.valve_id),
                                          find_vici_frame, self.timeout_s, device=self.name)
        return self.retry.call(once, f"{self.name} {command}")

    def identify(self) -> str:
        """Firmware line (`VR`) and number of positions (`NP`)."""
        version = text_lines(self._ask("VR"))
        return f"VICI actuator {version[0] if version else '?'}, {self.positions()} positions"

    def positions(self) -> int:
        """Number of positions the actuator is set up for (`NP`)."""
        raw = self._ask("NP")
        with tag_device(self.name):
            return parse_positions_count(raw)

    def move_to(self, position: int) -> None:
        """Send `GOn` (no reply expected; confirm with `position()`)."""
        if not 1 <= int(position) <= 99:
            raise ValueError(f"position must be 1-99, got {position}")
        with self.port.lock:
            self.port.flush_input()
            self.port.write(build_vici_command(f"GO{int(position)}", self.valve_id))

    def position(self) -> int:
        """Current position read back (`CP`)."""
        def once() -> int:
            raw = self.port.exchange(build_vici_command("CP", self.valve_id), find_vici_frame,
                                     self.timeout_s, device=self.name)
            with tag_device(self.name):
                return parse_position(raw)
        return self.retry.call(once, f"{self.name} CP")


def _open(dev: Any, ctx: Any) -> ViciSelectorValve:
    return ViciSelectorValve(dev.port, baud=dev.baud, timeout_s=ctx.timeout(dev),
                             valve_id=str(dev.options.get("valve_id", "")), retry=ctx.retry,
                             name=dev.name)


def _probe(drv: ViciSelectorValve, dev: Any) -> str:
    pos = drv.position()
    cell = {p: c for c, p in dev.positions.items()}.get(pos, "unassigned")
    return f"{drv.identify()}, at position {pos} ({cell}; not moved)"


def _check(dev: Any) -> list[str]:
    vid = str(dev.options.get("valve_id", ""))
    return [] if not vid or re.fullmatch(r"[0-9A-Z]", vid) else \
        [f"options.valve_id must be one character 0-9 or A-Z, got {vid!r}"]


def _emulator(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
    from hardware.emulators.vici import ViciEmulator

    if line is not None:
        raise ValueError(f"{dev.name}: the emulated actuator needs its own serial line")
    emu = ViciEmulator(world, dev.name, positions=dict(dev.positions),
                       valve_id=str(dev.options.get("valve_id", "")))
    return emu, emu


def _driver_spec() -> Any:
    from hardware.capabilities import CellSelector
    from hardware.registry import DriverSpec

    return DriverSpec(
        name="vici_universal", roles=("cell_selector",), capability=CellSelector,
        driver_class=ViciSelectorValve, transport="RS-232 ASCII, 9600 8N1, CR; GOn / CP",
        open=_open, probe=_probe, emulator=_emulator, check=_check,
        options={"valve_id": "multidrop ID prefix, one character 0-9/A-Z (default none)"},
        source="VICI Universal Electric Actuator manual Rev 1/20, pp. 4-13")


DRIVER = _driver_spec()
