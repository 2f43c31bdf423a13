"""Harvard Apparatus Pump 11 Elite and PHD ULTRA syringe pumps (RS-232 / USB serial).

Sources: Pump 11 Elite manual, publication 5420-002 Rev C, pp. 51-58 ("RS-232
communication": syntax, reply format, prompts, command set, error replies) and p. 26
(baud); PHD ULTRA manual 5419-002 Rev A, pp. 83 and 88 (address syntax `12:irat ...`,
`ul/min` units, status layout). Facts collected in PROTOCOLS_WAVE2.md section 4.

Grammar held here (same `capabilities.Pump` protocol as the NE-1000 driver):
  request   `[addr]command [args]\\r`; Elite address prefix `12irate`, PHD `12:irate`
  reply     `\\n[aa:]text\\r` lines, then `\\n[aa]<prompt>` with no CR
  prompts   `:` idle, `>` infusing, `<` withdrawing, `*` stalled, `T*` target reached
  errors    `Command error:` / `Argument error: x` lines, then a message line
  commands  `ver`, `diameter <mm>`, `irate <v> <units>`, `irun`, `wrun`, `stop`,
            `ivolume`, `wvolume` (-> `# xl`), `cvolume`, `ctvolume`, `tvolume <v> <units>`
Units: Elite `u/m`, `m/m` [E11 p56]; PHD `ul/min`, `ml/min` [PHD p83].

Tolerant where no source confirms [U]: the default baud (we default to 115200 as
flowchem assumes; set `baud` in the rig file), 8N1, the exact error message texts (any
line starting "Command error" or "Argument error" rejects), whether set commands reply
with a value (extra lines are ignored), and the address prefix at address 0 (a 2-digit
prefix on reply lines is stripped whatever the address).

The pumps have no pump-side communications watchdog: `enable_watchdog` records nothing
on the pump and `safe_mode` stays False; FlowRig's poll interlocks and safe state stop
the pump instead. A stall (`*`) is reported as `DeviceAlarm(code="S")`, as the NE-1000's.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from hardware.drivers.ne1000 import Dispensed
from hardware.errors import CommandRejected, DeviceAlarm, DeviceTimeout, ProtocolError, tag_device
from hardware.retry import RetryPolicy
from hardware.transport import Port, PortClient, open_port

BAUD = 115200
_PROMPT_LINE = re.compile(r"^(\d{0,2})(T\*|[:<>*])$")
_ADDR = re.compile(r"^\d{1,2}:")
VOLUME_UL = {"pl": 1e-6, "nl": 1e-3, "ul": 1.0, "ml": 1000.0, "l": 1e6}


class HarvardState(enum.Enum):
    """Prompt character of a Harvard reply."""

    IDLE = ":"
    INFUSING = ">"
    WITHDRAWING = "<"
    STALLED = "*"
    TARGET_REACHED = "T*"

    @property
    def moving(self) -> bool:
        return self in (HarvardState.INFUSING, HarvardState.WITHDRAWING)


@dataclass(frozen=True)
class HarvardReply:
    """Text lines (address prefix stripped) and the prompt state."""

    lines: tuple[str, ...]
    state: HarvardState


def find_harvard_frame(buf: bytes) -> tuple[int, int] | None:
    """Complete when the text after the last LF is a prompt (`[aa]:`, `>`, `<`, `*`, `T*`)."""
    idx = buf.rfind(b"\n")
    if idx < 0:
        return None
    tail = buf[idx + 1:].decode("ascii", "replace")
    return (0, len(buf)) if _PROMPT_LINE.match(tail) else None


def parse_harvard_reply(raw: bytes) -> HarvardReply:
    """Split a reply into text lines and the prompt; raise ProtocolError if garbled,
    CommandRejected for a command or argument error."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError("reply is not ASCII", raw=raw) from None
    parts = text.split("\n")
    m = _PROMPT_LINE.match(parts[-1])
    if m is None:
        raise ProtocolError("reply does not end in a prompt", raw=raw)
    lines = []
    for part in parts[1:-1]:  # text before the first LF is noise
        line = _ADDR.sub("", part.strip("\r"), count=1).strip()
        if line:
            if any(not c.isprintable() for c in line):
                raise ProtocolError("reply has control characters", raw=raw)
            lines.append(line)
    if lines and lines[0].lower().startswith(("command error", "argument error")):
        raise CommandRejected(" ".join(lines), code=lines[0].split(":")[0].lower().replace(" ", "_"))
    return HarvardReply(tuple(lines), HarvardState(m.group(2)))


def parse_volume_ul(line: str) -> float:
    """`0.1234 ml` -> 123.4 (µL)."""
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([pnuml]?l)\s*", line)
    if m is None:
        raise ProtocolError(f"not a volume: {line!r}", raw=line.encode("ascii", "replace"))
    return float(m.group(1)) * VOLUME_UL[m.group(2)]


def format_harvard_number(value: float) -> str:
    """Up to 4 decimals, no exponent, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


class HarvardPump(PortClient):
    """One Pump 11 Elite or PHD ULTRA at `address` (0-99) on a serial line.

    Args:
        url: pyserial URL. address: pump address (0 = no prefix). baud: the pump's setting.
        dialect: "elite" or "phd" (address separator and rate units).
        timeout_s: reply deadline. retry: policy for queries. name: device name.
    """

    def __init__(self, url: str, address: int = 0, *, dialect: str = "elite", baud: int = BAUD,
                 timeout_s: float = 1.0, retry: RetryPolicy | None = None, name: str = ""):
        if dialect not in ("elite", "phd"):
            raise ValueError(f"dialect must be 'elite' or 'phd', got {dialect!r}")
        if not 0 <= address <= 99:
            raise ValueError(f"address must be 0-99, got {address}")
        self.address, self.dialect = address, dialect
        self.name = name or f"harvard@{url}#{address}"
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.safe_mode = False  # no pump-side watchdog on these pumps
        self.last_alarm: str | None = None
        self.direction = "INF"
        self._port: Port | None = open_port(url, baud, timeout_s)

    # -- plumbing ------------------------------------------------------------------------
    def build(self, command: str) -> bytes:
        prefix = "" if self.address == 0 else (f"{self.address}:" if self.dialect == "phd"
                                                 else f"{self.address}")
        return f"{prefix}{command}\r".encode("ascii")

    def _send_once(self, command: str) -> HarvardReply:
        raw = self.port.exchange(self.build(command), find_harvard_frame, self.timeout_s,
                                 device=self.name)
        with tag_device(self.name, ProtocolError, CommandRejected):
            reply = parse_harvard_reply(raw)
        if reply.state is HarvardState.STALLED:
            self.last_alarm = "S"
            raise DeviceAlarm("pump stalled (prompt '*')", code="S", device=self.name,
                              next_step="check the syringe and the line for an occlusion")
        return reply

    def query(self, command: str) -> HarvardReply:
        return self.retry.call(lambda: self._send_once(command), f"{self.name} {command}")

    def _rate_units(self, ul_min: float) -> tuple[float, str]:
        ml = ul_min >= 1000.0
        units = ("m/m" if ml else "u/m") if self.dialect == "elite" else \
            ("ml/min" if ml else "ul/min")
        return (ul_min / 1000.0 if ml else ul_min), units

    # -- Pump protocol -------------------------------------------------------------------
    def connect(self) -> str:
        """Regain the link (a bare CR, as after screen use), return `ver`."""
        try:
            self._send_once("")
        except (DeviceTimeout, ProtocolError):
            pass  # a pump coming out of screen mode may not answer the first CR
        lines = self.query("ver").lines
        return lines[0] if lines else "Harvard pump"

    def status(self) -> HarvardState:
        """The prompt state (a bare CR returns the prompt)."""
        return self.query("").state

    def heartbeat(self) -> HarvardState:
        return self.status()

    def stop(self) -> HarvardState:
        return self.query("stop").state

    def set_diameter(self, mm: float) -> None:
        self.query(f"diameter {mm:.4f}")

    def set_direction(self, direction: str) -> None:
        """Kept on the host: `run()` sends `irun` (INF) or `wrun` (WDR)."""
        if direction not in ("INF", "WDR"):
            raise ValueError(f"direction must be 'INF' or 'WDR', got {direction!r}")
        self.direction = direction

    def set_volume(self, ul: float) -> None:
        """Target volume, µL; 0 clears the target (`ctvolume`)."""
        if ul <= 0:
            self.query("ctvolume")
        else:
            self.query(f"tvolume {format_harvard_number(ul)} ul")

    def set_rate(self, ul_min: float) -> None:
        value, units = self._rate_units(ul_min)
        word = "irate" if self.direction == "INF" else "wrate"
        self.query(f"{word} {format_harvard_number(value)} {units}")

    def run(self) -> HarvardState:
        """`irun` / `wrun` once; after a lost reply the prompt tells whether it runs."""
        word = "irun" if self.direction == "INF" else "wrun"
        try:
            return self._send_once(word).state
        except (DeviceTimeout, ProtocolError) as e:
            state = self.status()
            if state.moving:
                return state
            raise DeviceTimeout(f"{word} not confirmed; pump is {state.name}", device=self.name,
                                next_step="check the pump, then run() again") from e

    def dispensed(self) -> Dispensed:
        inf = self.query("ivolume").lines
        wdr = self.query("wvolume").lines
        if not inf or not wdr:
            raise ProtocolError("volume reply without a value", device=self.name)
        return Dispensed(parse_volume_ul(inf[-1]), parse_volume_ul(wdr[-1]))

    def clear_dispensed(self) -> None:
        self.query("cvolume")

    def enable_watchdog(self, seconds: int) -> None:
        """No pump-side watchdog on Harvard pumps: nothing is sent."""
        self.safe_mode = False


def _opener(dialect: str) -> Any:
    def _open(dev: Any, ctx: Any) -> HarvardPump:
        return HarvardPump(dev.port, dev.address, dialect=dialect, baud=dev.baud,
                           timeout_s=ctx.timeout(dev), retry=ctx.retry, name=dev.name)
    return _open


def _probe(drv: HarvardPump, dev: Any) -> str:
    return f"{drv.connect()}, address {dev.address}, {drv.status().name.lower()}"


def _emulator(dialect: str) -> Any:
    def make(world: Any, dev: Any, line: Any) -> tuple[Any, Any]:
        from hardware.emulators.harvard import HarvardBus, HarvardEmulator
        from hardware.emulators.ne1000 import add_pump_emulator

        return add_pump_emulator(world, dev, line, HarvardBus, HarvardEmulator,
                                 dialect=dialect)
    return make


def _spec(name: str, dialect: str, source: str) -> Any:
    from hardware.capabilities import Pump
    from hardware.registry import DriverSpec

    return DriverSpec(
        name=name, roles=("pump",), capability=Pump, driver_class=HarvardPump,
        transport=f"RS-232 ASCII ({dialect}), CR; prompts : > < * T*", open=_opener(dialect),
        probe=_probe, emulator=_emulator(dialect), source=source)


DRIVER_ELITE = _spec("harvard_elite", "elite",
                     "Harvard Pump 11 Elite manual 5420-002 Rev C, pp. 26, 51-58")
DRIVER_PHD = _spec("harvard_phd", "phd", "Harvard PHD ULTRA manual 5419-002 Rev A, pp. 83, 88")
