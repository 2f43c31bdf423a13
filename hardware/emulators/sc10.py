"""Emulated Thorlabs SC10 shutter controller (bytes of `hardware.drivers.sc10`).

Source: SC10 manual 8654-D02, Keywords table; reply layout echo + CR, value + CR
(queries), prompt "> " (PROTOCOLS_WAVE2.md section 1). The emulated shutter gates one
light of the flow cell (its rig-file role: excitation or lamp shutter).

Faults (back channel), besides `LineDevice`'s no_answer / garbled / power_cycle:
  stuck[=1|0]     the shutter no longer moves (stays where it is); `stuck=0` frees it
  interlock[=1|0] the interlock loop opens: the shutter closes and cannot open
Power-on state [U in the manual]: manual mode, output disabled, shutter closed.
"""

from __future__ import annotations

from typing import Any

from hardware.emulators.line_device import LineDevice, publish_light

ID_TEXT = "THORLABS SC10 VERSION 1.07"  # [U]: the exact id? text is not documented


class Sc10Emulator(LineDevice):
    """One SC10 and the shutter it drives.

    Args:
        world: shared `EmulatedWorld`. name: device name. role: rig-file role of the
            shutter ("excitation_shutter" | "lamp_shutter").
    """

    def __init__(self, world: Any, name: str, role: str = "lamp_shutter"):
        super().__init__(world, name)
        self.role = role
        self.stuck = False
        self.interlock = False
        self.reset_state()

    def reset_state(self) -> None:
        self.mode = 1
        self.enabled = False
        if not self.stuck:
            self.shutter_open = False
        self._publish()

    # -- faults --------------------------------------------------------------------------
    def stick(self, on: bool = True) -> None:
        self.stuck = bool(on)

    def trip_interlock(self, on: bool = True) -> None:
        self.interlock = bool(on)
        if on and not self.stuck:
            self.shutter_open = False
            self._publish()

    # -- device --------------------------------------------------------------------------
    def _publish(self) -> None:
        publish_light(self.world, {self.role: self.shutter_open})

    def _apply_enable(self) -> None:
        if not self.stuck:
            self.shutter_open = self.enabled and not self.interlock and self.mode == 1
            self._publish()

    def respond(self, command: str) -> bytes:
        value: str | None = None
        if command == "id?":
            value = ID_TEXT
        elif command == "ens?":
            value = str(int(self.enabled))
        elif command == "ens":
            self.enabled = not self.enabled
            self._apply_enable()
        elif command == "closed?":
            value = str(int(not self.shutter_open))
        elif command == "interlock?":
            value = str(int(self.interlock))
        elif command == "mode?":
            value = str(self.mode)
        elif command.startswith("mode=") and command[5:] in ("1", "2", "3", "4", "5"):
            self.mode = int(command[5:])
            self._apply_enable()
        else:
            value = "CMD_NOT_DEFINED"  # [U] exact error text
        body = command + "\r" + (value + "\r" if value is not None else "")
        return (body + "> ").encode("ascii")
