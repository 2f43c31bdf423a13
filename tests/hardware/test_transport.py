"""Transport: shared locked ports, framing-aware reads with deadlines, stale flush, hex log."""

from __future__ import annotations

import logging
import threading

import pytest
import serial

from hardware.drivers.ne1000 import find_basic_frame
from hardware.emulators.wire import Wire, register_wire, unregister_wire
from hardware.errors import DeviceTimeout, PortUnavailable, ProtocolError
from hardware.transport import open_port, register_emulator_scheme, release_port
from tests.hardware.exchange import ScriptedDevice


@pytest.fixture
def line():
    dev = ScriptedDevice([])
    wire = Wire("transport-test", dev)
    url = register_wire(wire)
    yield url, wire, dev
    unregister_wire(wire)


def test_emulator_scheme_registered_through_pyserial(line):
    register_emulator_scheme()
    assert "hardware.emulators" in serial.protocol_handler_packages
    s = serial.serial_for_url(line[0], timeout=0.01)
    assert s.read(1) == b""
    s.close()


def test_registry_shares_port_and_lock_per_url(line):
    a = open_port(line[0], 19200, 0.05)
    b = open_port(line[0], 19200, 0.05)
    assert a is b and a.users == 2
    with pytest.raises(ValueError, match="baud"):
        open_port(line[0], 9600, 0.05)
    release_port(a)
    assert a.is_open
    release_port(b)
    assert not a.is_open


def test_exchange_flushes_stale_and_reads_frame(line, caplog):
    url, wire, dev = line
    port = open_port(url, 19200, 0.1)
    wire.inject("stale_bytes", payload=b"\x02OLD\x03")
    dev.pairs = [(b"00\r", b"\x0200S\x03")]
    with caplog.at_level(logging.DEBUG, logger="hardware.transport"):
        assert port.exchange(b"00\r", find_basic_frame) == b"\x0200S\x03"
    text = caplog.text
    assert "flushed stale 02 4f 4c 44 03" in text and "TX 30 30 0d" in text
    assert "RX 02 30 30 53 03" in text
    release_port(port)


def test_timeout_and_truncation(line):
    url, wire, dev = line
    port = open_port(url, 19200, 0.05)
    dev.pairs = [(b"A\r", b"")]
    with pytest.raises(DeviceTimeout) as e:
        port.exchange(b"A\r", find_basic_frame)
    assert e.value.sent == b"A\r" and e.value.received == b""
    dev.pairs = [(b"B\r", b"\x0200S")]
    with pytest.raises(ProtocolError) as e2:
        port.exchange(b"B\r", find_basic_frame)
    assert e2.value.raw == b"\x0200S"
    release_port(port)


def test_port_vanishes_and_returns(line):
    url, wire, dev = line
    port = open_port(url, 19200, 0.05)
    wire.inject("vanish")
    with pytest.raises(PortUnavailable) as e:
        port.exchange(b"00\r", find_basic_frame)
    assert e.value.url == url
    with pytest.raises(PortUnavailable):
        port.open()
    wire.restore()
    dev.pairs = [(b"00\r", b"\x0200S\x03")]
    assert port.exchange(b"00\r", find_basic_frame) == b"\x0200S\x03"
    release_port(port)


def test_unknown_emulator_is_port_unavailable():
    with pytest.raises(PortUnavailable):
        open_port("emu://nobody-here", 19200, 0.05)
    with pytest.raises(PortUnavailable):
        open_port("/dev/does-not-exist-sdl", 19200, 0.05)


def test_lock_serialises_exchanges_from_threads(line):
    url, wire, dev = line
    port = open_port(url, 19200, 0.5)
    dev.pairs = [(b"00\r", b"\x0200S\x03")] * 20
    results = []

    def worker():
        for _ in range(10):
            results.append(port.exchange(b"00\r", find_basic_frame))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [b"\x0200S\x03"] * 20 and dev.pairs == []
    release_port(port)
