"""One emulated serial line: a byte device plus transport-level fault injection.

A `Wire` sits between a transport (pty, in-process `emu://` URL) and a byte device
(`ByteDevice`: `feed(bytes) -> list[bytes]` of complete reply frames). Faults are injected
through the Python back channel (`inject`), never through the serial line. Every fault in
PROTOCOLS.md "Transport" is here: no reply, late reply, stale bytes, truncated frame, bad
CRC, noise before the frame, port vanishes and returns.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

Sink = Callable[[bytes], None]

TRANSPORT_FAULTS = ("no_reply", "late_reply", "stale_bytes", "truncated", "bad_crc", "noise",
                    "vanish")


class ByteDevice(Protocol):
    """A device emulator at the byte level."""

    def feed(self, data: bytes) -> list[bytes]:
        """Consume request bytes; return complete reply frames (possibly none)."""
        ...

    def corrupt_checksum(self, frame: bytes) -> bytes:
        """Return `frame` with its checksum made wrong (protocol-specific)."""
        ...


def serve_requests(device: Any, data: bytes, take: Callable[[list[bytes]], bool]) -> list[bytes]:
    """The `feed` every byte device shares: under the emulated world's lock, advance the
    world (`device.world.tick()`), append `data` to the device's input buffer `_buf`, then
    call `take(out)` until it returns False. `take` consumes one request from `_buf`,
    appends any reply frame to `out`, and returns False when `_buf` holds no whole request."""
    out: list[bytes] = []
    with device.world.lock:
        device.world.tick()
        device._buf += data
        while take(out):
            pass
    return out


@dataclass
class _Pending:
    kind: str
    remaining: int
    delay_s: float = 0.0
    payload: bytes = b""


class Wire:
    """An emulated serial line.

    Args:
        name: used in `emu://<name>` and in logs.
        device: the byte device answering on this line (a bus of several addresses).

    Attributes:
        present: False while the port has "vanished" (unplugged).
        rx_log: every chunk of request bytes received, in order.
    """

    def __init__(self, name: str, device: ByteDevice):
        self.name = name
        self.device = device
        self.present = True
        self.rx_log: list[bytes] = []
        self._faults: deque[_Pending] = deque()
        self._sink: Sink | None = None
        self._lock = threading.RLock()
        self._timers: list[threading.Timer] = []
        self.on_presence: list[Callable[[bool], None]] = []

    # -- back channel --------------------------------------------------------------------
    def inject(self, kind: str, count: int = 1, *, delay_s: float = 0.5,
               payload: bytes = b"\x55\xaa\x13") -> None:
        """Apply a transport fault to the next `count` replies.

        Args:
            kind: one of TRANSPORT_FAULTS. "stale_bytes" and "vanish" act at once:
                "stale_bytes" pushes `payload` into the line as if left over from earlier;
                "vanish" unplugs the port (call `restore()` to plug it back).
            count: number of replies affected.
            delay_s: for "late_reply", seconds the reply is held back.
            payload: bytes used by "stale_bytes" and "noise".
        """
        if kind not in TRANSPORT_FAULTS:
            raise ValueError(f"unknown transport fault {kind!r}; known: {TRANSPORT_FAULTS}")
        if kind == "stale_bytes":
            self._send(payload)
            return
        if kind == "vanish":
            self.set_present(False)
            return
        with self._lock:
            self._faults.append(_Pending(kind, count, delay_s, payload))

    def restore(self) -> None:
        """Plug a vanished port back in."""
        self.set_present(True)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def set_present(self, present: bool) -> None:
        self.present = present
        for cb in list(self.on_presence):
            cb(present)

    # -- transport side ------------------------------------------------------------------
    def attach(self, sink: Sink | None) -> None:
        """Set where reply bytes go (the connected transport); None detaches."""
        with self._lock:
            self._sink = sink

    def receive(self, data: bytes) -> None:
        """Bytes from the host: feed the device, deliver its replies (through faults)."""
        if not self.present:
            return
        with self._lock:
            self.rx_log.append(bytes(data))
            replies = self.device.feed(bytes(data))
            for reply in replies:
                self._deliver(reply)

    def receive_logged(self, data: bytes) -> None:
        """`receive` for a line server's thread: an emulator bug is logged with the bytes
        that caused it, and the line keeps serving."""
        try:
            self.receive(data)
        except Exception:  # noqa: BLE001 - an emulator bug must not kill the line
            log.exception("%s: emulator failed on %s", self.name, data.hex(" "))

    def push(self, data: bytes) -> None:
        """Send bytes the device transmits unprompted (e.g. NE-1000 Auto-Alarm packets)."""
        if data:
            self._send(data)

    def _next_fault(self) -> _Pending | None:
        if not self._faults:
            return None
        f = self._faults[0]
        f.remaining -= 1
        if f.remaining <= 0:
            self._faults.popleft()
        return f

    def _deliver(self, reply: bytes) -> None:
        f = self._next_fault()
        if f is None:
            self._send(reply)
            return
        log.debug("%s: fault %s on reply %s", self.name, f.kind, reply.hex(" "))
        if f.kind == "no_reply":
            return
        if f.kind == "truncated":
            self._send(reply[: max(1, len(reply) // 2)])
        elif f.kind == "bad_crc":
            self._send(self.device.corrupt_checksum(reply))
        elif f.kind == "noise":
            self._send(f.payload + reply)
        elif f.kind == "late_reply":
            t = threading.Timer(f.delay_s, self._send, args=(reply,))
            t.daemon = True
            self._timers.append(t)
            t.start()

    def _send(self, data: bytes) -> None:
        with self._lock:
            sink = self._sink
        if sink is not None and self.present:
            sink(data)

    def close(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()
        self.attach(None)


_wires: dict[str, Wire] = {}
_wires_lock = threading.Lock()


def register_wire(wire: Wire) -> str:
    """Make `wire` reachable as `emu://<wire.name>`; return that URL."""
    with _wires_lock:
        _wires[wire.name] = wire
    return f"emu://{wire.name}"


def unregister_wire(wire: Wire) -> None:
    with _wires_lock:
        if _wires.get(wire.name) is wire:
            del _wires[wire.name]
    wire.close()


def lookup_wire(name: str) -> Wire | None:
    with _wires_lock:
        return _wires.get(name)
