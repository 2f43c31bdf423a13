"""Thorlabs SC10: byte transcripts per command (reply layout echo + CR, value + CR,
prompt "> "; SC10 manual 8654-D02 Keywords table, PROTOCOLS_WAVE2.md section 1)."""

from __future__ import annotations

import pytest

from hardware.drivers.sc10 import Sc10Shutter, find_sc10_frame, parse_sc10_reply
from hardware.errors import CommandRejected, DeviceAlarm, ProtocolError
from hardware.retry import NO_RETRY
from tests.hardware.exchange import expected_exchange


def sc10(url: str) -> Sc10Shutter:
    return Sc10Shutter(url, timeout_s=0.3, retry=NO_RETRY, name="shutter")


def test_identify():
    with expected_exchange(sc10, [(b"id?\r", b"id?\rTHORLABS SC10 VERSION 1.07\r> ")]) as d:
        assert d.identify() == "THORLABS SC10 VERSION 1.07"


def test_is_open_reads_closed_query():
    with expected_exchange(sc10, [(b"closed?\r", b"closed?\r0\r> "),
                                  (b"closed?\r", b"closed?\r1\r> ")]) as d:
        assert d.is_open() is True
        assert d.is_open() is False


def test_set_open_toggles_only_when_needed():
    with expected_exchange(sc10, [(b"ens?\r", b"ens?\r0\r> "), (b"ens\r", b"ens\r> "),
                                  (b"ens?\r", b"ens?\r1\r> ")]) as d:
        d.set_open(True)   # was disabled: one toggle
        d.set_open(True)   # already enabled: no toggle


def test_setup_sets_manual_mode_and_refuses_a_tripped_interlock():
    with expected_exchange(sc10, [(b"mode=1\r", b"mode=1\r> "),
                                  (b"interlock?\r", b"interlock?\r0\r> ")]) as d:
        d.setup()
    with expected_exchange(sc10, [(b"mode=1\r", b"mode=1\r> "),
                                  (b"interlock?\r", b"interlock?\r1\r> ")]) as d:
        with pytest.raises(DeviceAlarm) as e:
            d.setup()
        assert e.value.code == "interlock"


def test_prompt_with_and_without_the_trailing_space():
    assert find_sc10_frame(b"ens?\r1\r> ") == (0, 9)
    assert find_sc10_frame(b"ens?\r1\r>") == (0, 8)        # [U]: space not (yet) there
    assert parse_sc10_reply(b" ens?\r1\r>", "ens?") == "1"  # space left from the last reply
    assert find_sc10_frame(b"ens?\r1\r") is None


@pytest.mark.parametrize("raw,exc", [
    (b"ens?\rCMD_NOT_DEFINED\r> ", CommandRejected),
    (b"ens?\rCMD_ARG_INVALID\r> ", CommandRejected),
    (b"enx?\r1\r> ", ProtocolError),         # echo garbled
    (b"ens?\r\x01\r> ", ProtocolError),      # control byte
])
def test_errors(raw, exc):
    with pytest.raises(exc):
        parse_sc10_reply(raw, "ens?")


def test_reply_errors_name_the_shutter():
    # the parsers only see bytes; the driver adds its name (hardware.errors.tag_device)
    with expected_exchange(sc10, [(b"ens?\r", b"ens?\rCMD_NOT_DEFINED\r> "),
                                  (b"ens?\r", b"ens?\r7\r> ")]) as d:
        with pytest.raises(CommandRejected) as rejected:
            d.enabled()
        with pytest.raises(ProtocolError) as garbled:
            d.enabled()
    assert rejected.value.device == garbled.value.device == "shutter"
