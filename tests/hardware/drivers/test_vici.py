"""VICI universal actuator: byte transcripts per command (UA manual Rev 1/20 pp. 8-13,
PROTOCOLS_WAVE2.md section 2); tolerant position parsing where the manual is silent."""

from __future__ import annotations

import pytest

from hardware.drivers.vici import ViciSelectorValve, parse_position, parse_positions_count
from hardware.errors import ProtocolError
from hardware.retry import NO_RETRY
from tests.hardware.exchange import expected_exchange


def vici(url: str, valve_id: str = "") -> ViciSelectorValve:
    return ViciSelectorValve(url, timeout_s=0.3, retry=NO_RETRY, valve_id=valve_id, name="valve")


def test_move_sends_go_and_expects_no_reply():
    with expected_exchange(vici, [(b"GO3\r", b"")]) as d:
        d.move_to(3)


def test_position():
    with expected_exchange(vici, [(b"CP\r", b"CP03\r")]) as d:
        assert d.position() == 3


def test_identify_reads_version_and_positions():
    with expected_exchange(vici, [(b"VR\r", b"EUH 2.20\r"), (b"NP\r", b"NP06\r")]) as d:
        assert d.identify() == "VICI actuator EUH 2.20, 6 positions"


def test_multidrop_id_prefix():
    with expected_exchange(lambda url: vici(url, "1"), [(b"1GO2\r", b""), (b"1CP\r", b"CP02\r")]) as d:
        d.move_to(2)
        assert d.position() == 2


@pytest.mark.parametrize("raw,pos", [(b"CP3\r", 3), (b"CP03\r", 3), (b"Position is = 3\r", 3),
                                     (b"Position is 12\r", 12), (b"CPA\r", 1), (b"CPB\r", 2),
                                     (b"\nCP05\r", 5)])
def test_position_forms(raw, pos):
    assert parse_position(raw) == pos


def test_np_forms_and_garbage():
    assert parse_positions_count(b"NP06\r") == 6
    assert parse_positions_count(b"NP = 6\r") == 6
    with pytest.raises(ProtocolError):
        parse_position(b"CP0#\r")
    with expected_exchange(vici, []) as d, pytest.raises(ValueError):
        d.move_to(0)  # nothing sent
