"""Conformance helpers for driver authors (built-in and plugins).

- `expected_exchange(factory, [(sent, reply), ...])`: byte-exact driver tests over the
  in-process `emu://` scheme (after pymeasure's `expected_protocol`). The scripted
  device answers each expected request with its reply; the check FAILS (AssertionError)
  if the driver sends anything else, leaves expected pairs unused, or leaves reply bytes
  unread.
- `check_spec(spec)`: a `DriverSpec` is well formed and its driver class implements the
  capability Protocol (the check a rig file runs when it loads).

Use them from pytest in a plugin's own tests:

    from hardware.conformance import check_spec, expected_exchange
    def test_open():
        with expected_exchange(lambda url: MyShutter(url), [(b"OPEN\\r", b"OK\\r")]) as d:
            d.set_open(True)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from hardware.capabilities import missing_members
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


def _fail(message: str) -> None:
    raise AssertionError(message)


@contextmanager
def expected_exchange(factory: Callable[[str], T], pairs: list[tuple[bytes, bytes]]) -> Iterator[T]:
    """Yield `factory(url)` talking to a script of (sent, reply) pairs; check at exit.

    The driver must expose `port` (a `hardware.transport.Port`) and `close()`, as every
    driver built on `hardware.transport.PortClient` does.
    """
    device = ScriptedDevice(pairs)
    wire = Wire(f"script{next(_ids)}", device)
    url = register_wire(wire)
    driver = factory(url)
    try:
        yield driver
        if device.mismatch is not None:
            _fail(device.mismatch)
        if device.pairs:
            _fail(f"unused pairs: {device.pairs}")
        if device.pending:
            _fail(f"leftover sent bytes: {device.pending!r}")
        port = driver.port  # type: ignore[attr-defined]
        unread = port.trailing + (port._ser.read(port._ser.in_waiting) if port._ser else b"")
        if unread:
            _fail(f"reply bytes left unread: {unread!r}")
    finally:
        driver.close()  # type: ignore[attr-defined]
        unregister_wire(wire)


def check_spec(spec: Any) -> None:
    """Raise AssertionError naming what is wrong with a `DriverSpec`."""
    from hardware.registry import DriverSpec

    if not isinstance(spec, DriverSpec):
        _fail(f"{spec!r} is not a hardware.registry.DriverSpec")
    if not spec.roles:
        _fail(f"driver {spec.name!r} declares no roles")
    missing = missing_members(spec.driver_class, spec.capability)
    if missing:
        _fail(f"{spec.driver_class.__qualname__} does not implement "
              f"{spec.capability.__name__}: missing {', '.join(missing)}")
