"""Emulated Harvard Apparatus Pump 11 Elite / PHD ULTRA pumps on one line (bytes of
`hardware.drivers.harvard`).

Source: Pump 11 Elite manual 5420-002 Rev C pp. 51-58 (reply `\\n[aa:]text\\r` lines and
`\\n[aa]<prompt>`, prompts `:` `>` `<` `*` `T*`, command and argument errors), PHD ULTRA
manual 5419-002 Rev A p. 83 (`12:irat` addressing, `ul/min`). The pump mechanics
(dispensed volume on the injected clock, syringe content, stall, occlusion, target
volume) are the NE-1000 emulator's: a syringe pump is a syringe pump.

Emulated choices where the manuals are silent [U]: set commands reply with the prompt
only; replies at address 0 carry no prefix, other addresses a 2-digit one; the message
line under an error is "Unknown command" / "Out of range"; a stall shows `*` once (then
`:`); power cycle stops the pump, clears the volume counters and loses the first
command (no reset alarm exists on these pumps).

Faults: those of the NE-1000 emulator (stall, empty, occlusion, power_cycle, reject_next
as "?OOR" -> argument error / "?NA" -> command error); transport faults on the `Wire`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from hardware.emulators.ne1000 import Ne1000Emulator, add_to_bus
from hardware.emulators.wire import serve_requests

RATE_UL_MIN = {"u/m": 1.0, "m/m": 1000.0, "u/h": 1 / 60, "m/h": 1000 / 60, "n/m": 1e-3,
               "ul/min": 1.0, "ml/min": 1000.0, "ul/hr": 1 / 60, "ml/hr": 1000 / 60,
               "nl/min": 1e-3}
VOLUME_UL = {"ul": 1.0, "ml": 1000.0, "nl": 1e-3}
VERSION = "11 ELITE I/W Single 3.0.4"  # as flowchem reports it [U for other units]


class HarvardEmulator(Ne1000Emulator):
    """One Harvard pump (NE-1000 mechanics, Harvard grammar)."""

    def power_cycle(self) -> None:
        with self.world.lock:
            self.advance(self.world.now())
            self._stop()
            self.infused_ul = self.withdrawn_ul = 0.0
            self.fresh_power = True

    def _prompt(self) -> str:
        if self.alarm == "S":
            self.alarm = None
            return "*"
        self.alarm = None
        if self.running:
            return ">" if self.direction == "INF" else "<"
        if self.target_ul > 0 and self.phase_ul >= self.target_ul - 1e-9:
            return "T*"
        return ":"

    def handle_text(self, command: str) -> tuple[list[str], str] | None:
        """Process one command (address stripped): (text lines, prompt), None = lost."""
        if self._receive(command, False) is None:
            return None
        if self.forced_error is not None:
            code, n = self.forced_error
            self.forced_error = (code, n - 1) if n > 1 else None
            if code == "?OOR":
                return ["Argument error: " + (command.split()[1:2] or [""])[0], "   Out of range"], \
                    self._prompt()
            return ["Command error:", "   Not applicable now"], self._prompt()
        lines = self._execute_text(command.strip())
        if lines is None:
            return ["Command error:", "   Unknown command"], self._prompt()
        return lines, self._prompt()

    def _execute_text(self, command: str) -> list[str] | None:
        words = command.lower().split()
        if not words:
            return []
        cmd, args = words[0], words[1:]
        if cmd == "ver" and not args:
            return [VERSION]
        if cmd == "diameter":
            if not args:
                return [f"{self.diameter_mm:.4f} mm"]
            value = _float(args[0])
            if value is None or not 0.1 <= value <= 50.0 or self.running:
                return ["Argument error: " + args[0], "   Out of range"]
            self.diameter_mm = value
            return []
        if cmd in ("irate", "wrate"):
            if not args:
                return [f"{_fmt(self.rate_ul_min)} ul/min"]
            value = _float(args[0])
            k = RATE_UL_MIN.get(args[1]) if len(args) == 2 else None
            if value is None or k is None:
                return ["Argument error: " + " ".join(args), "   Out of range"]
            ul_min = value * k
            if not self.min_rate_ul_min() <= ul_min <= self.max_rate_ul_min():
                return ["Argument error: " + args[0], "   Out of range"]
            self.rate_ul_min = ul_min
            return []
        if cmd in ("irun", "wrun", "run"):
            self.direction = "WDR" if cmd == "wrun" else "INF"
            self.running, self.phase_ul = True, 0.0
            return []
        if cmd in ("stop", "stp"):
            self._stop()
            return []
        if cmd in ("ivolume", "wvolume"):
            return [f"{_fmt(self.infused_ul if cmd == 'ivolume' else self.withdrawn_ul)} ul"]
        if cmd == "cvolume":
            self.infused_ul = self.withdrawn_ul = 0.0
            return []
        if cmd in ("civolume", "cwvolume"):
            setattr(self, "infused_ul" if cmd == "civolume" else "withdrawn_ul", 0.0)
            return []
        if cmd == "ctvolume":
            self.target_ul = 0.0
            return []
        if cmd == "tvolume":
            if not args:
                return [f"{_fmt(self.target_ul)} ul" if self.target_ul else "Target volume not set"]
            value = _float(args[0])
            k = VOLUME_UL.get(args[1]) if len(args) == 2 else None
            if value is None or k is None:
                return ["Argument error: " + " ".join(args), "   Out of range"]
            self.target_ul = value * k
            return []
        return None


def _float(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _fmt(v: float) -> str:
    return f"{v:.4f}"


class HarvardBus:
    """Harvard pumps sharing one line (a `ByteDevice` for a `Wire`).

    Args:
        world: shared `EmulatedWorld`. dialect: "elite" (`12irate`) or "phd" (`12:irate`).
    """

    def __init__(self, world: Any, dialect: str = "elite"):
        self.world = world
        self.dialect = dialect
        self.pumps: dict[int, HarvardEmulator] = {}
        self._buf = b""

    def add(self, pump: HarvardEmulator) -> HarvardEmulator:
        return add_to_bus(self, pump, "line")

    def corrupt_checksum(self, frame: bytes) -> bytes:
        """No checksum: a control byte in the last text line (the driver rejects it at
        once), or, for a prompt-only reply, a prompt no pump sends (the frame never ends:
        the driver reports an incomplete frame at its deadline)."""
        idx = frame.rfind(b"\r")
        if idx > 0:
            return frame[:idx - 1] + b"\x7f" + frame[idx:]
        return frame[:-1] + b"?" if frame else frame

    def _dispatch(self, line: str) -> bytes | None:
        m = re.match(r"^(\d{1,2})(:?)(.*)$", line) if line[:1].isdigit() else None
        address, body = (int(m.group(1)), m.group(3)) if m else (0, line)
        pump = self.pumps.get(address)
        if pump is None:
            return None
        result = pump.handle_text(body)
        if result is None:
            return None
        lines, prompt = result
        tag = "" if address == 0 else f"{address:02d}"
        text = "".join(f"\n{tag}{':' if tag else ''}{t}\r" for t in lines)
        return f"{text}\n{tag}{prompt}".encode("ascii")

    def feed(self, data: bytes) -> list[bytes]:
        return serve_requests(self, data, self._take_line)

    def _take_line(self, out: list[bytes]) -> bool:
        idx = self._buf.find(b"\r")
        if idx < 0:
            return False
        line, self._buf = self._buf[:idx], self._buf[idx + 1:]
        reply = self._dispatch(line.decode("ascii", "replace").strip("\n "))
        if reply is not None:
            out.append(reply)
        return True
