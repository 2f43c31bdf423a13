"""Base of the emulated ASCII line devices (SC10, VICI actuator, Numato box, Harvard pumps)
and the emulated light path they switch together.

`LineDevice` is a `ByteDevice` (see `wire.py`): it buffers request bytes, cuts them into
commands at CR (and LF where the device accepts it), calls `respond(command)` and returns
the reply bytes. Device-level faults common to these devices (back channel only):
  no_answer[=n]   the next n commands get no reply (the command is still executed)
  garbled[=n]     the next n replies have one byte flipped (`corrupt_checksum`)
  power_cycle     state back to power-on defaults; the first command after it is lost
Transport faults (`Wire.inject`) work as on every line.

`LightElements` keeps what the shutters, LED enable and cell selector do to the flow cell
and writes the resulting `world.light` ("lamp" | "excitation" | "dark") and `world.cell`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hardware.emulators.wire import serve_requests

CELLS = ("sample", "solvent", "reference")


@dataclass
class LightElements:
    """States of the light-path elements of one emulated rig.

    Attributes:
        open: role -> open/on ("excitation_shutter", "lamp_shutter", "led_enable").
        positions: cell name -> selector position; position: current selector position.
    """

    open: dict[str, bool] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=lambda: {"sample": 1, "solvent": 2,
                                                               "reference": 3})
    position: int = 1

    def light(self) -> str:
        """The illumination the flow cell gets. The lamp dominates when both are open;
        excitation needs its shutter open and the LED on (when the rig has an LED enable)."""
        if self.open.get("lamp_shutter", False):
            return "lamp"
        exc = [self.open[r] for r in ("excitation_shutter", "led_enable") if r in self.open]
        return "excitation" if exc and all(exc) else "dark"

    def cell(self) -> str:
        by_pos = {p: c for c, p in self.positions.items()}
        return by_pos.get(self.position, "sample")


def light_elements(world: Any) -> LightElements:
    """The world's `LightElements` (created on first use)."""
    with world.lock:
        el = getattr(world, "light_elements", None)
        if el is None:
            el = LightElements()
            world.light_elements = el
        return el


def update_world(world: Any) -> None:
    """Write `world.light` / `world.cell` from the light elements (under the world lock)."""
    with world.lock:
        el = light_elements(world)
        world.light, world.cell = el.light(), el.cell()


def publish_light(world: Any, opened: dict[str, bool]) -> None:
    """Set the open (on) state of light elements by role, then `update_world`, all under
    the world lock."""
    with world.lock:
        light_elements(world).open.update(opened)
        update_world(world)


class LineDevice:
    """An ASCII device on its own line.

    Args:
        world: the shared `EmulatedWorld` (lock, clock).
        name: device name (rig file).
        terminators: bytes that end a command.

    Attributes:
        command_log: every command received (after the boot-lost one).
    """

    terminators: bytes = b"\r"

    def __init__(self, world: Any, name: str):
        self.world = world
        self.name = name
        self.command_log: list[str] = []
        self._buf = b""
        self._silent = 0
        self._garble = 0
        self._booting = 0

    # -- faults ------------------------------------------------------------------------
    def no_answer(self, count: int = 1) -> None:
        self._silent += max(int(count), 1)

    def garble(self, count: int = 1) -> None:
        self._garble += max(int(count), 1)

    def power_cycle(self) -> None:
        """Back to power-on defaults (`reset_state`); the first command is lost."""
        self.reset_state()
        self._booting = 1

    def reset_state(self) -> None:  # pragma: no cover - overridden
        pass

    # -- bytes -------------------------------------------------------------------------
    def respond(self, command: str) -> bytes | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def corrupt_checksum(self, frame: bytes) -> bytes:
        """No checksum in these protocols: flip a bit of the last letter or digit that
        carries data (the value, else the echo), as line noise would."""
        b = bytearray(frame)
        for i in range(len(b) - 1, -1, -1):
            if chr(b[i]).isalnum():
                b[i] = ord("#")
                break
        return bytes(b)

    def feed(self, data: bytes) -> list[bytes]:
        return serve_requests(self, data, self._take_line)

    def _take_line(self, out: list[bytes]) -> bool:
        cut = [i for i in (self._buf.find(bytes([t])) for t in self.terminators) if i >= 0]
        if not cut:
            return False
        idx = min(cut)
        line, self._buf = self._buf[:idx], self._buf[idx + 1:]
        text = line.decode("ascii", "replace").strip()
        if not text and not self.answers_empty():
            return True
        if self._booting:  # still starting up: the command is lost
            self._booting -= 1
            return True
        if self._silent:
            self._silent -= 1
            self.respond(text)  # executed, reply lost
            return True
        self.command_log.append(text)
        reply = self.respond(text)
        if reply is not None:
            if self._garble:
                self._garble -= 1
                reply = self.corrupt_checksum(reply)
            out.append(reply)
        return True

    def answers_empty(self) -> bool:
        """Whether a bare terminator is a command (Harvard: returns the prompt)."""
        return False
