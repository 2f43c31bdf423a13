"""Harvard Pump 11 Elite / PHD ULTRA: byte transcripts per command (Elite manual
5420-002 Rev C pp. 51-58: `\\n[aa:]text\\r` lines then `\\n[aa]<prompt>`; PHD ULTRA
manual 5419-002 p. 83: `12:irat`, `ul/min`)."""

from __future__ import annotations

import pytest

from hardware.drivers.harvard import (
    HarvardPump,
    HarvardState,
    find_harvard_frame,
    parse_harvard_reply,
    parse_volume_ul,
)
from hardware.errors import CommandRejected, DeviceAlarm, DeviceTimeout, ProtocolError
from hardware.retry import NO_RETRY
from tests.hardware.exchange import expected_exchange


def elite(url: str, address: int = 0, dialect: str = "elite") -> HarvardPump:
    return HarvardPump(url, address, dialect=dialect, timeout_s=0.2, retry=NO_RETRY, name="p")


def test_connect_regains_the_link_then_reads_version():
    with expected_exchange(elite, [(b"\r", b"\n:"),
                                   (b"ver\r", b"\n11 ELITE I/W Single 3.0.4\r\n:")]) as d:
        assert d.connect() == "11 ELITE I/W Single 3.0.4"


def test_status_from_the_prompt():
    with expected_exchange(elite, [(b"\r", b"\n:"), (b"\r", b"\n>"), (b"\r", b"\n<"),
                                   (b"\r", b"\nT*")]) as d:
        assert [d.status() for _ in range(4)] == [HarvardState.IDLE, HarvardState.INFUSING,
                                                  HarvardState.WITHDRAWING,
                                                  HarvardState.TARGET_REACHED]


def test_settings_and_run_elite_units():
    with expected_exchange(elite, [(b"diameter 14.5700\r", b"\n:"),
                                   (b"ctvolume\r", b"\n:"),
                                   (b"irate 123.4 u/m\r", b"\n:"),
                                   (b"irate 1.5 m/m\r", b"\n:"),
                                   (b"cvolume\r", b"\n:"),
                                   (b"irun\r", b"\n>"),
                                   (b"stop\r", b"\n:")]) as d:
        d.set_diameter(14.57)
        d.set_volume(0.0)
        d.set_rate(123.4)
        d.set_rate(1500.0)
        d.clear_dispensed()
        assert d.run().moving
        assert not d.stop().moving


def test_phd_address_and_units():
    with expected_exchange(lambda url: elite(url, 12, "phd"),
                           [(b"12:irate 25 ul/min\r", b"\n12:"),
                            (b"12:wrun\r", b"\n12<")]) as d:
        d.set_rate(25.0)
        d.set_direction("WDR")
        assert d.run() is HarvardState.WITHDRAWING


def test_elite_address_prefix_and_reply_prefix_stripped():
    with expected_exchange(lambda url: elite(url, 3),
                           [(b"3ivolume\r", b"\n03:0.1234 ml\r\n03:"),
                            (b"3wvolume\r", b"\n03:0 ul\r\n03:")]) as d:
        v = d.dispensed()
        assert v.infused_ul == pytest.approx(123.4) and v.withdrawn_ul == 0.0


def test_stall_prompt_is_a_stall_alarm():
    with expected_exchange(elite, [(b"\r", b"\n*")]) as d:
        with pytest.raises(DeviceAlarm) as e:
            d.heartbeat()
        assert e.value.code == "S" and d.last_alarm == "S"


def test_command_and_argument_errors():
    with pytest.raises(CommandRejected) as e:
        parse_harvard_reply(b"\nArgument error: 9999\r\n   Out of range\r\n:")
    assert e.value.code == "argument_error" and "Out of range" in str(e.value)
    with pytest.raises(CommandRejected) as e:
        parse_harvard_reply(b"\nCommand error:\r\n   Unknown command\r\n:")
    assert e.value.code == "command_error"


def test_run_reply_lost_then_confirmed_by_status():
    with expected_exchange(elite, [(b"irun\r", b""), (b"\r", b"\n>")]) as d:
        assert d.run().moving
    with expected_exchange(elite, [(b"irun\r", b""), (b"\r", b"\n:")]) as d:
        with pytest.raises(DeviceTimeout):
            d.run()


def test_framing_and_volumes():
    assert find_harvard_frame(b"\n1.5 ml/min\r") is None
    assert find_harvard_frame(b"\n1.5 ml/min\r\n:") == (0, 14)
    assert find_harvard_frame(b"\n12T*") == (0, 5)
    assert parse_volume_ul("2.5 nl") == pytest.approx(2.5e-3)
    with pytest.raises(ProtocolError):
        parse_harvard_reply(b"\n1.5 ml/min\r\n?")
    with pytest.raises(ProtocolError):
        parse_volume_ul("lots")


def test_no_pump_side_watchdog():
    with expected_exchange(elite, []) as d:
        d.enable_watchdog(20)  # nothing sent
        assert d.safe_mode is False
