"""NE-1000 driver: byte-exact transcripts, CRC vectors, parsers (incl. fuzzing)."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.drivers.ne1000 import (
    Dispensed,
    Ne1000Pump,
    PumpState,
    build_ne1000_command,
    build_safe_packet,
    crc16_ccitt,
    find_basic_frame,
    find_safe_frame,
    format_ne1000_number,
    parse_dispensed,
    parse_ne1000_reply,
    parse_ne1000_safe_reply,
    parse_rate,
    rate_command,
)
from hardware.errors import (
    ChecksumError,
    CommandRejected,
    DeviceAlarm,
    DeviceTimeout,
    HardwareError,
    ProtocolError,
)
from hardware.retry import RetryPolicy
from tests.hardware.exchange import expected_exchange


def pump(url, **kw):
    return Ne1000Pump(url, 0, timeout_s=0.05, **kw)


def r(body: bytes) -> bytes:
    return b"\x02" + body + b"\x03"


def test_crc_vector_from_manual():
    # PROTOCOLS.md / NE-1000 manual safe-mode example: crc_hqx(b"SAF0", 0) == 0x5543
    assert binascii.crc_hqx(b"SAF0", 0) == 0x5543
    assert crc16_ccitt(b"SAF0") == 0x5543
    assert build_safe_packet(b"SAF0") == b"\x02\x08SAF0\x55\x43\x03"


@pytest.mark.parametrize("value,text", [(14.57, "14.57"), (0.5, "0.5"), (1234, "1234"),
                                        (0.1234, "0.123"), (9.9996, "10"), (26.59, "26.59"),
                                        (100, "100"), (0, "0"), (123.456, "123.5")])
def test_number_format_max_4_digits_3_decimals(value, text):
    assert format_ne1000_number(value) == text
    assert len(text.replace(".", "")) <= 4


@pytest.mark.parametrize("bad", [-1, 10000, float("nan"), float("inf")])
def test_number_format_rejects(bad):
    with pytest.raises(ValueError):
        format_ne1000_number(bad)


@pytest.mark.parametrize("ul_min,cmd", [(500, "RAT500UM"), (0.5, "RAT30UH"),
                                        (25000, "RAT25MM"), (1234.6, "RAT1235UM")])
def test_rate_command_units(ul_min, cmd):
    assert rate_command(ul_min) == cmd


def test_build_commands():
    assert build_ne1000_command(3, "RUN") == b"03RUN\r"
    assert build_ne1000_command(0, "DIA14.57", safe=True) == build_safe_packet(b"00DIA14.57")


def test_parse_replies():
    assert parse_ne1000_reply(b"\x0200S\x03").state is PumpState.STOPPED
    rep = parse_ne1000_reply(b"\x0212IRAT?OOR\x03"[:0] + b"\x0212I?OOR\x03")
    assert rep.address == 12 and rep.state is PumpState.INFUSING and rep.error == "?OOR"
    alarm = parse_ne1000_reply(b"\x0201A?S\x03")
    assert alarm.alarm == "S" and alarm.state is None
    assert parse_dispensed("I1.250W0.000ML") == Dispensed(1250.0, 0.0)
    assert parse_rate("0.500MM") == 500.0
    with pytest.raises(ProtocolError):
        parse_ne1000_reply(b"\x02XYZ\x03")


def test_safe_reply_crc_checked():
    good = build_safe_packet(b"00S")
    assert parse_ne1000_safe_reply(good).state is PumpState.STOPPED
    bad = good[:-2] + bytes([good[-2] ^ 1]) + good[-1:]
    with pytest.raises(ChecksumError) as e:
        parse_ne1000_safe_reply(bad)
    assert e.value.raw == bad


def test_framers_skip_noise():
    assert find_basic_frame(b"\xff\x55\x0200S\x03") == (2, 7)
    assert find_basic_frame(b"\x0200S") is None
    pkt = build_safe_packet(b"00S")
    assert find_safe_frame(b"zz" + pkt) == (2, 2 + len(pkt))
    assert find_safe_frame(b"zz" + pkt[:-1]) is None


def test_transcript_setup_and_run():
    pairs = [(b"00DIA14.57\r", r(b"00S")), (b"00RAT500UM\r", r(b"00S")),
             (b"00DIRINF\r", r(b"00S")), (b"00VOL1.5\r", r(b"00S")),
             (b"00RUN\r", r(b"00I")), (b"00DIS\r", r(b"00II0.250W0.000ML")),
             (b"00STP\r", r(b"00S")), (b"00\r", r(b"00S"))]
    with expected_exchange(pump, pairs) as p:
        p.set_diameter(14.57)
        p.set_rate(500)
        p.set_direction("INF")
        p.set_volume(1500, "ML")
        assert p.run() is PumpState.INFUSING
        assert p.dispensed() == Dispensed(250.0, 0.0)
        assert p.stop() is PumpState.STOPPED
        assert p.heartbeat() is PumpState.STOPPED


def test_transcript_safe_mode():
    pairs = [(build_safe_packet(b"00RAT100UM"), build_safe_packet(b"00S")),
             (build_safe_packet(b"00"), build_safe_packet(b"00S"))]
    with expected_exchange(lambda u: pump(u, safe_mode=True), pairs) as p:
        p.set_rate(100)
        assert p.heartbeat() is PumpState.STOPPED


def test_enable_watchdog_switches_framing():
    pairs = [(b"00SAF10\r", r(b"00S")), (build_safe_packet(b"00"), build_safe_packet(b"00S"))]
    with expected_exchange(pump, pairs) as p:
        p.enable_watchdog(10)
        assert p.safe_mode
        p.heartbeat()


def test_connect_tolerates_ignored_first_command_and_reset_alarm():
    # After power-up the pump ignores the first command, then reports alarm R once.
    pairs = [(b"00VER\r", b""), (b"00VER\r", r(b"00A?R")), (b"00VER\r", r(b"00SNE1000V3.928"))]
    with expected_exchange(lambda u: pump(u, retry=RetryPolicy(1)), pairs) as p:
        assert p.connect() == "NE1000V3.928"
        assert p.last_alarm == "R"


def test_alarm_raises_device_alarm_with_code():
    with expected_exchange(pump, [(b"00\r", r(b"00A?S"))]) as p:
        with pytest.raises(DeviceAlarm) as e:
            p.status()
    assert e.value.code == "S" and "stall" in str(e.value) and "next:" in str(e.value)


@pytest.mark.parametrize("code", ["?OOR", "?NA", "?COM", "?IGN", "?"])
def test_error_codes_raise_command_rejected(code):
    with expected_exchange(pump, [(b"00RAT99UM\r", r(b"00S" + code.encode()))]) as p:
        with pytest.raises(CommandRejected) as e:
            p.set_rate(99)
    assert e.value.code == code


def test_query_retried_on_timeout():
    with expected_exchange(pump, [(b"00DIA\r", b""), (b"00DIA\r", r(b"00S14.57"))]) as p:
        assert p.diameter() == 14.57


def test_run_never_resent_timeout_then_status_says_running():
    # RUN's reply is lost; the driver asks for status instead of sending RUN again.
    with expected_exchange(pump, [(b"00RUN\r", b""), (b"00\r", r(b"00I"))]) as p:
        assert p.run() is PumpState.INFUSING


def test_run_timeout_and_pump_stopped_raises():
    with expected_exchange(pump, [(b"00RUN\r", b""), (b"00\r", r(b"00S"))]) as p:
        with pytest.raises(DeviceTimeout) as e:
            p.run()
    assert "not confirmed" in str(e.value)


def test_wrong_address_reply_is_protocol_error():
    with expected_exchange(lambda u: pump(u, retry=RetryPolicy(1)), [(b"00\r", r(b"01S"))]) as p:
        with pytest.raises(ProtocolError):
            p.status()


def _parse_each(raw, parsers, allowed: type[Exception]) -> None:
    """Each parser returns or raises `allowed`; any other exception fails the test."""
    for parse in parsers:
        try:
            parse(raw)
        except allowed:
            pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_fuzz_parsers_raise_typed_errors_only(raw):
    _parse_each(raw, (parse_ne1000_reply, parse_ne1000_safe_reply), HardwareError)
    for framer in (find_basic_frame, find_safe_frame):
        try:
            found = framer(raw)
        except HardwareError:
            continue
        if found is not None:
            assert 0 <= found[0] < found[1] <= len(raw)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([b"\x0200S\x03", b"\x0203II1.000W2.000UL\x03", b"\x0200A?T\x03"]),
       st.integers(0, 10))
def test_fuzz_truncated_replies(frame, cut):
    try:
        parse_ne1000_reply(frame[: max(0, len(frame) - cut)])
    except ProtocolError:
        assert cut > 0


@given(st.text(max_size=20))
def test_fuzz_data_parsers(text):
    _parse_each(text, (parse_dispensed, parse_rate), ProtocolError)


def test_set_volume_queries_units_when_not_given():
    pairs = [(b"00VOL\r", r(b"00S0UL")), (b"00VOL250\r", r(b"00S")), (b"00VOL0\r", r(b"00S"))]
    with expected_exchange(pump, pairs) as p:
        p.set_volume(250.0)
        p.set_volume(0.0)
