"""Emulated VICI universal electric actuator on a selector valve (bytes of
`hardware.drivers.vici`).

Source: VICI Universal Electric Actuator manual Rev 1/20, pp. 8-13 (`GOnn`, `CP` ->
`CPnn`, `NP` -> `NPnn`, `VR`); PROTOCOLS_WAVE2.md section 2. Emulated choices where the
manual is silent [U]: `GO` gets no reply (IFM0), `CP` answers zero-padded `CP03`, `VR`
answers one line, an unknown command gets no reply. Moves complete at once.

Faults (back channel), besides `LineDevice`'s no_answer / garbled / power_cycle:
  wrong_position[=n]  the next n moves land one position further on (a slipped detent)
Power cycle: the rotor stays where it was; the first command after power-up is lost.
"""

from __future__ import annotations

from typing import Any

from hardware.emulators.line_device import LineDevice, light_elements, update_world

VERSION_TEXT = "EUH 2.20"  # [U]


class ViciEmulator(LineDevice):
    """One actuator.

    Args:
        world: shared world. name: device name.
        positions: cell name -> valve position (the rig file's `positions`).
        n_positions: positions the valve has (`NP`). valve_id: multidrop prefix ("").
    """

    terminators = b"\r\n"

    def __init__(self, world: Any, name: str, *, positions: dict[str, int] | None = None,
                 n_positions: int = 6, valve_id: str = ""):
        super().__init__(world, name)
        self.n_positions = n_positions
        self.valve_id = valve_id
        self.wrong_moves = 0
        with world.lock:
            el = light_elements(world)
            if positions:
                el.positions = dict(positions)
            self.position = el.position
        self._publish()

    def land_wrong(self, count: int = 1) -> None:
        self.wrong_moves += max(int(count), 1)

    def _publish(self) -> None:
        with self.world.lock:
            light_elements(self.world).position = self.position
            update_world(self.world)

    def respond(self, command: str) -> bytes | None:
        if self.valve_id:
            if not command.startswith(self.valve_id):
                return None  # another unit's ID on the bus
            command = command[len(self.valve_id):]
        cmd = command.upper()
        if cmd == "CP":
            return f"CP{self.position:02d}\r".encode("ascii")
        if cmd == "NP":
            return f"NP{self.n_positions:02d}\r".encode("ascii")
        if cmd == "VR":
            return f"{VERSION_TEXT}\r".encode("ascii")
        if cmd.startswith("GO") and cmd[2:].isdigit() and 1 <= int(cmd[2:]) <= self.n_positions:
            target = int(cmd[2:])
            if self.wrong_moves:
                self.wrong_moves -= 1
                target = target % self.n_positions + 1
            self.position = target
            self._publish()
            return None
        if cmd == "HM":
            self.position = 1
            self._publish()
            return None
        return None  # [U] no documented error reply
