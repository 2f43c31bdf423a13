"""Emulated Numato Lab USB relay / GPIO module (bytes of `hardware.drivers.numato`).

Source: Numato sample code and C relay demo (PROTOCOLS_WAVE2.md section 3): every
character echoed, EOL `\\n\\r` [U], value line for reads, prompt `>`; `relay on|off|read`,
`gpio set|clear|read`, `ver`, `id get`; channels >= 10 as letters A, B, ...
An unknown command gets echo + prompt only [U]. Several rig-file roles may use channels
of one module (one line).

Faults (back channel), besides `LineDevice`'s no_answer / garbled / power_cycle:
  stuck[=1|0]     the relay contacts weld: the channel no longer switches
Power cycle: every relay off, GPIO low [U], the first command is lost.
"""

from __future__ import annotations

from typing import Any

from hardware.emulators.line_device import LineDevice, publish_light

EOL = "\n\r"
VERSION = "00000008"
MODULE_ID = "00000000"


def _index(text: str) -> int | None:
    if len(text) == 1 and text.isdigit():
        return int(text)
    if len(text) == 1 and "A" <= text <= "Z":
        return 10 + ord(text) - ord("A")
    return None


class NumatoEmulator(LineDevice):
    """One module with up to 36 channels; `attach` ties a channel to a light-path role."""

    def __init__(self, world: Any, name: str):
        super().__init__(world, name)
        self.roles: dict[int, str] = {}
        self.stuck = False
        self.reset_state()

    def attach(self, channel: int, role: str, driver: str = "numato_relay") -> None:
        self.roles[channel] = role
        self._publish()

    def reset_state(self) -> None:
        if not getattr(self, "stuck", False):
            self.relay = [False] * 36
            self.gpio = [False] * 36
        self._publish()

    def stick(self, on: bool = True) -> None:
        self.stuck = bool(on)

    def _publish(self) -> None:
        roles = getattr(self, "roles", {})
        publish_light(self.world, {role: self.relay[ch] or self.gpio[ch]
                                   for ch, role in roles.items()})

    def respond(self, command: str) -> bytes:
        words = command.split()
        value: str | None = None
        if words == ["ver"]:
            value = VERSION
        elif words == ["id", "get"]:
            value = MODULE_ID
        elif len(words) == 3 and words[0] in ("relay", "gpio") and _index(words[2]) is not None:
            bank = self.relay if words[0] == "relay" else self.gpio
            ch = _index(words[2])
            on, off = ("on", "off") if words[0] == "relay" else ("set", "clear")
            if words[1] in (on, off):
                if not self.stuck:
                    bank[ch] = words[1] == on
                    self._publish()
            elif words[1] == "read":
                value = ("on" if bank[ch] else "off") if words[0] == "relay" else str(int(bank[ch]))
        text = command + EOL + (value + EOL if value is not None else "") + ">"
        return text.encode("ascii")
