"""Drivers fed random / truncated reply bytes: typed errors only, never a hang."""

from __future__ import annotations

import itertools
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.drivers.eurotherm3216 import Eurotherm3216
from hardware.drivers.ne1000 import Ne1000Pump
from hardware.drivers.ocean_obp import OceanObpSpectrometer, build_obp_message
from hardware.emulators.wire import Wire, register_wire, unregister_wire
from hardware.errors import HardwareError
from hardware.retry import RetryPolicy

_ids = itertools.count()
ONE = RetryPolicy(1)


class Babbler:
    """Answers any request with a fixed byte string."""

    def __init__(self, reply: bytes):
        self.reply = reply

    def feed(self, data: bytes) -> list[bytes]:
        return [self.reply] if self.reply else []

    def corrupt_checksum(self, frame: bytes) -> bytes:
        return frame


def run_driver(reply: bytes, make, call) -> None:
    wire = Wire(f"babble{next(_ids)}", Babbler(reply))
    url = register_wire(wire)
    driver = make(url)
    t0 = time.monotonic()
    try:
        call(driver)
    except HardwareError:
        pass
    finally:
        driver.close()
        unregister_wire(wire)
    assert time.monotonic() - t0 < 1.0  # bounded by the 0.02 s read deadline


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=60))
def test_ne1000_random_replies(reply):
    run_driver(reply, lambda u: Ne1000Pump(u, 0, timeout_s=0.02, retry=ONE), lambda d: d.dispensed())
    run_driver(reply, lambda u: Ne1000Pump(u, 0, timeout_s=0.02, retry=ONE, safe_mode=True),
               lambda d: d.run())


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=60))
def test_eurotherm_random_replies(reply):
    run_driver(b"\x01\x03" + reply, lambda u: Eurotherm3216(u, 1, timeout_s=0.02, retry=ONE),
               lambda d: d.read_pv())


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=100), st.integers(0, 80))
def test_obp_random_and_truncated_replies(junk, cut):
    good = build_obp_message(0x00000100, immediate=b"S1")
    for reply in (junk, good[: len(good) - cut], b"\xc1\xc0" + junk):
        run_driver(reply, lambda u: OceanObpSpectrometer(u, timeout_s=0.02, retry=ONE),
                   lambda d: d.serial_number())
