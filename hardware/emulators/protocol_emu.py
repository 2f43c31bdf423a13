"""pyserial URL handler `emu://<name>`: an in-process connection to a registered `Wire`.

pyserial finds this module through `serial.protocol_handler_packages` (see
`hardware.transport.register_emulator_scheme`) and instantiates `Serial`. Writes go to the
wire synchronously; replies land in a buffer that `read` drains with a real timeout.
Fast (no pty, no threads) and byte-exact, for tests and `FlowRig` rehearsals in-process.
"""

from __future__ import annotations

import threading
import urllib.parse

from serial.serialutil import PortNotOpenError, SerialBase, SerialException, Timeout

from hardware.emulators.wire import Wire, lookup_wire


class Serial(SerialBase):
    """pyserial-compatible connection to an emulated wire."""

    def open(self) -> None:
        if self._port is None:
            raise SerialException("port must be set before open")
        if self.is_open:
            raise SerialException("port already open")
        parts = urllib.parse.urlsplit(self._port)
        if parts.scheme != "emu" or not parts.netloc:
            raise SerialException(f"expected emu://<name>, got {self._port!r}")
        wire = lookup_wire(parts.netloc)
        if wire is None:
            raise SerialException(f"no emulated device named {parts.netloc!r}")
        if not wire.present:
            raise SerialException(f"emulated port {parts.netloc!r} is unplugged")
        self._wire: Wire = wire
        self._rx = bytearray()
        self._cond = threading.Condition()
        wire.attach(self._on_bytes)
        self.is_open = True

    def _on_bytes(self, data: bytes) -> None:
        with self._cond:
            self._rx += data
            self._cond.notify_all()

    def _check(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        if not self._wire.present:
            raise SerialException(f"emulated port {self._wire.name!r} vanished")

    def _reconfigure_port(self) -> None:  # nothing to configure
        pass

    def close(self) -> None:
        if self.is_open:
            self._wire.attach(None)
            self.is_open = False

    @property
    def in_waiting(self) -> int:
        self._check()
        return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        self._check()
        timeout = Timeout(self._timeout)
        with self._cond:
            while len(self._rx) < size:
                if timeout.expired():
                    break
                left = timeout.time_left()
                self._cond.wait(0.05 if left is None else min(left, 0.05))
                self._check()
            out = bytes(self._rx[:size])
            del self._rx[:size]
            return out

    def write(self, data: bytes) -> int:
        self._check()
        data = bytes(data)
        self._wire.receive(data)
        return len(data)

    def reset_input_buffer(self) -> None:
        self._check()
        with self._cond:
            self._rx.clear()

    def reset_output_buffer(self) -> None:
        self._check()

    def flush(self) -> None:
        self._check()


__all__ = ["Serial"]
