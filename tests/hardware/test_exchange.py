"""The `expected_exchange` helper itself fails on unused pairs, wrong bytes and leftovers."""

from __future__ import annotations

import pytest

from hardware.drivers.ne1000 import Ne1000Pump
from hardware.errors import HardwareError
from hardware.retry import RetryPolicy
from tests.hardware.exchange import expected_exchange


def pump(url):
    return Ne1000Pump(url, 0, timeout_s=0.02, retry=RetryPolicy(1))


def test_fails_on_unused_pair():
    with pytest.raises(AssertionError, match="unused pairs"):
        with expected_exchange(pump, [(b"00\r", b"\x0200S\x03"), (b"00VER\r", b"")]) as p:
            p.status()


def test_fails_on_unexpected_bytes():
    with pytest.raises(AssertionError, match="unexpected bytes"):
        with expected_exchange(pump, [(b"00VER\r", b"\x0200S\x03")]) as p:
            with pytest.raises(HardwareError):
                p.status()


def test_fails_on_unread_reply_bytes():
    with pytest.raises(AssertionError, match="unread"):
        with expected_exchange(pump, [(b"00\r", b"\x0200S\x03\x0200S\x03")]) as p:
            p.status()
