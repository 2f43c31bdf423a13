"""Byte transport under every driver: one shared, locked pyserial port per URL.

Every port opens through `serial.serial_for_url(url, ...)`, so the same driver code talks to
`/dev/ttyUSB0`, `/dev/serial/by-id/...`, a pseudo-terminal, `socket://127.0.0.1:PORT` or the
in-process emulator scheme `emu://<name>` (registered in `serial.protocol_handler_packages`
by `register_emulator_scheme`). Several devices may share one port (NE-1000 pumps
daisy-chained on one RS-232 line, two Eurotherms on one Modbus line): `open_port` keeps a
registry keyed by URL, so they share one `Port` and its lock.

Each exchange: take the port lock, flush stale input, write the request, read until the
driver's framing function finds a complete frame or the deadline passes. Every read has a
timeout; no fixed-size reads without a deadline. Traffic is logged at DEBUG in hex.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import serial

from hardware.errors import DeviceTimeout, PortUnavailable, ProtocolError

log = logging.getLogger(__name__)

try:  # termios.error (EIO when a pty/USB adapter vanishes) is not an OSError
    import termios

    _IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - Windows
    _IO_ERRORS = (serial.SerialException, OSError)

# A framing function: given the bytes received so far, return (start, end) of the first
# complete frame (bytes before `start` are noise and are discarded), or None if more bytes
# are needed. Raise ProtocolError when the bytes can never become a valid frame.
Framer = Callable[[bytes], "tuple[int, int] | None"]

EMULATOR_SCHEME_PACKAGE = "hardware.emulators"
MAX_FRAME_BYTES = 1 << 20  # nothing we speak is longer; protects against a babbling line


def register_emulator_scheme() -> None:
    """Make `emu://<name>` URLs open in-process emulators (idempotent, no other effect)."""
    if EMULATOR_SCHEME_PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(EMULATOR_SCHEME_PACKAGE)


class Port:
    """One serial line, possibly shared by several devices (addresses on a bus).

    Args:
        url: pyserial URL.
        baud: baud rate (8N1 framing).
        timeout_s: default reply deadline per exchange, seconds.
        opener: factory with the signature of `serial.serial_for_url` (tests may inject).

    Attributes:
        lock: re-entrant lock held for a whole request/reply exchange; drivers sharing the
            port share it.
    """

    def __init__(self, url: str, baud: int = 19200, timeout_s: float = 1.0,
                 opener: Callable[..., serial.SerialBase] | None = None):
        self.url = url
        self.baud = baud
        self.timeout_s = timeout_s
        self.lock = threading.RLock()
        self._opener = opener or serial.serial_for_url
        self._ser: serial.SerialBase | None = None
        self.users = 0
        self.trailing = b""  # bytes received after the last frame (kept until next flush)

    # -- connection ----------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._ser is not None

    def open(self) -> None:
        """Open the port if closed; raise `PortUnavailable` if it cannot be opened."""
        with self.lock:
            if self._ser is not None:
                return
            register_emulator_scheme()
            try:
                self._ser = self._opener(self.url, baudrate=self.baud, bytesize=8, parity="N",
                                         stopbits=1, timeout=self.timeout_s,
                                         write_timeout=self.timeout_s)
            except (*_IO_ERRORS, ValueError) as e:
                raise PortUnavailable(f"cannot open port: {e}", url=self.url) from None
            log.debug("%s: opened at %d baud", self.url, self.baud)

    def close(self) -> None:
        """Close the port (idempotent)."""
        with self.lock:
            ser, self._ser = self._ser, None
            if ser is not None:
                with contextlib.suppress(*_IO_ERRORS):  # already gone
                    ser.close()

    def _serial(self) -> serial.SerialBase:
        """The open pyserial object (opening it if needed)."""
        self.open()
        ser = self._ser
        if ser is None:  # closed by another thread between open() and here
            raise PortUnavailable("port closed", url=self.url)
        return ser

    def _lost(self, e: BaseException) -> PortUnavailable:
        self.close()
        return PortUnavailable(f"port lost during I/O: {e}", url=self.url,
                               next_step="reconnect the cable; the next command reopens the port")

    # -- bytes ---------------------------------------------------------------------------
    def flush_input(self) -> bytes:
        """Discard and return bytes waiting in the input buffer (stale replies)."""
        with self.lock:
            ser = self._serial()
            try:
                stale, self.trailing = self.trailing, b""
                n = ser.in_waiting
                if n:
                    ser.timeout = 0
                    stale += ser.read(n)
                ser.reset_input_buffer()
            except _IO_ERRORS as e:
                raise self._lost(e) from None
            if stale:
                log.debug("%s: flushed stale %s", self.url, stale.hex(" "))
            return stale

    def write(self, data: bytes) -> None:
        """Write all of `data`."""
        with self.lock:
            ser = self._serial()
            log.debug("%s: TX %s", self.url, data.hex(" "))
            try:
                ser.write(data)
                ser.flush()
            except _IO_ERRORS as e:
                raise self._lost(e) from None

    def read_frame(self, framer: Framer, timeout_s: float | None = None, *, sent: bytes = b"",
                   device: str = "") -> bytes:
        """Read until `framer` finds a complete frame or the deadline passes.

        Raises:
            DeviceTimeout: nothing arrived before the deadline.
            ProtocolError: some bytes arrived but no complete frame (truncated frame), or
                the framer rejected the bytes.
        """
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        with self.lock:
            buf, self.trailing = self.trailing, b""
            ser = self._serial()
            while True:
                found = framer(buf) if buf else None
                if found is not None:
                    start, end = found
                    if start:
                        log.debug("%s: skipped noise %s", self.url, buf[:start].hex(" "))
                    frame, self.trailing = buf[start:end], buf[end:]
                    log.debug("%s: RX %s", self.url, frame.hex(" "))
                    return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0 or len(buf) > MAX_FRAME_BYTES:
                    break
                try:
                    ser.timeout = remaining
                    chunk = ser.read(max(1, min(ser.in_waiting, 65536)))
                except _IO_ERRORS as e:
                    raise self._lost(e) from None
                buf += chunk
        if buf:
            log.debug("%s: RX incomplete %s", self.url, buf.hex(" "))
            raise ProtocolError(f"incomplete frame after {timeout:g} s", raw=buf, device=device)
        raise DeviceTimeout(f"no reply within {timeout:g} s to {sent!r}", sent=sent,
                            received=buf, timeout_s=timeout, device=device)

    def exchange(self, request: bytes, framer: Framer, timeout_s: float | None = None, *,
                 device: str = "") -> bytes:
        """Flush stale input, send `request`, return the reply frame (see `read_frame`)."""
        with self.lock:
            self.flush_input()
            self.write(request)
            return self.read_frame(framer, timeout_s, sent=request, device=device)


_registry: dict[str, Port] = {}
_registry_lock = threading.Lock()


def open_port(url: str, baud: int = 19200, timeout_s: float = 1.0) -> Port:
    """Return the shared `Port` for `url` (created and opened on first use).

    Devices on the same URL share one Port and lock. Raises `PortUnavailable` when the
    port cannot be opened, and `ValueError` if two devices ask for different baud rates on
    one line (a rig-file mistake).
    """
    with _registry_lock:
        port = _registry.get(url)
        if port is None:
            port = Port(url, baud, timeout_s)
            _registry[url] = port
        elif port.baud != baud:
            raise ValueError(f"{url}: already open at {port.baud} baud, asked for {baud}")
        port.users += 1
    try:
        port.open()
    except PortUnavailable:
        release_port(port)
        raise
    return port


def release_port(port: Port) -> None:
    """Drop one user of `port`; close it and forget it when the last user goes."""
    with _registry_lock:
        port.users -= 1
        if port.users <= 0:
            _registry.pop(port.url, None)
            port.close()


class PortClient:
    """Base of the drivers: holds one shared `Port` (from `open_port`) under `self.name`.

    `port` raises ProtocolError once the driver is closed; `close()` releases the port
    (the line stays open while other drivers on the same bus use it). Idempotent.
    """

    name: str
    _port: Port | None = None

    @property
    def port(self) -> Port:
        if self._port is None:
            raise ProtocolError("driver closed", device=self.name, next_step="create a new driver")
        return self._port

    def close(self) -> None:
        """Release the port (the line stays open while other drivers use it)."""
        if self._port is not None:
            release_port(self._port)
            self._port = None


def frame_error(message: str, raw: bytes) -> ProtocolError:
    """Shorthand used by framing functions."""
    return ProtocolError(message, raw=raw)
