"""`expected_exchange`: byte-exact driver tests over the in-process `emu://` scheme.

The scripted device answers each expected request with its reply; the test FAILS if the
driver sends anything else, leaves expected pairs unused, or leaves bytes unread.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from hardware.emulators.wire import Wire, register_wire, unregister_wire

T = TypeVar("T")
_ids = itertools.count()


class ScriptedDevice:
    """A `ByteDevice` that plays a list of (expected request, reply) pairs."""

    def __init__(self, pairs: list[tuple[bytes, bytes]]):
        self.pairs = list(pairs)
        self.pending = b""
        self.mismatch: str | None = None

    def feed(self, data: bytes) -> list[bytes]:
        self.pending += data
        out = []
        while self.pairs and self.pending.startswith(self.pairs[0][0]):
            sent, reply = self.pairs.pop(0)
            self.pending = self.pending[len(sent):]
            if reply:
                out.append(reply)
        if self.pending and not (self.pairs and self.pairs[0][0].startswith(self.pending)):
            self.mismatch = self.mismatch or (
                f"unexpected bytes {self.pending!r}; expected "
                f"{self.pairs[0][0] if self.pairs else 'nothing more'!r}")
        return out

    def corrupt_checksum(self, frame: bytes) -> bytes:
        return frame


@contextmanager
def expected_exchange(factory: Callable[[str], T], pairs: list[tuple[bytes, bytes]]) -> Iterator[T]:
    """Yield `factory(url)` talking to a script of (sent, reply) pairs; check at exit."""
    device = ScriptedDevice(pairs)
    wire = Wire(f"script{next(_ids)}", device)
    url = register_wire(wire)
    driver = factory(url)
    try:
        yield driver
        assert device.mismatch is None, device.mismatch
        assert not device.pairs, f"unused pairs: {device.pairs}"
        assert device.pending == b"", f"leftover sent bytes: {device.pending!r}"
        port = driver.port  # type: ignore[attr-defined]
        unread = port.trailing + (port._ser.read(port._ser.in_waiting) if port._ser else b"")
        assert unread == b"", f"reply bytes left unread: {unread!r}"
    finally:
        driver.close()  # type: ignore[attr-defined]
        unregister_wire(wire)
