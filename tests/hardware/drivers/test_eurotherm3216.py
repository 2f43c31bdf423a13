"""Eurotherm 3216 driver: Modbus CRC vectors, byte-exact transcripts, parser fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.drivers.eurotherm3216 import (
    Eurotherm3216,
    Reg,
    build_read_request,
    build_write_request,
    crc16_modbus,
    modbus_reply_framer,
    parse_modbus_reply,
    to_register,
    with_crc,
)
from hardware.errors import (
    ChecksumError,
    CommandRejected,
    DeviceAlarm,
    HardwareError,
    ProtocolError,
)
from hardware.retry import RetryPolicy
from tests.hardware.exchange import expected_exchange


def heater(url, **kw):
    kw.setdefault("retry", RetryPolicy(1))
    return Eurotherm3216(url, 1, timeout_s=0.05, **kw)


@pytest.mark.parametrize("frame,crc_bytes", [
    # Modbus over serial line V1.02 example / common read-holding-register frames
    (bytes.fromhex("010300000001"), bytes.fromhex("840A")),
    (bytes.fromhex("01030000000A"), bytes.fromhex("C5CD")),
])
def test_modbus_crc_vectors(frame, crc_bytes):
    assert with_crc(frame)[-2:] == crc_bytes


def test_crc_catalogue_check_value():
    # CRC-16/MODBUS check value for "123456789" (Greg Cook, Catalogue of CRC algorithms)
    assert crc16_modbus(b"123456789") == 0x4B37


def test_requests():
    assert build_read_request(1, 1, 1) == with_crc(bytes.fromhex("010300010001"))
    assert build_write_request(1, 26, 2000) == with_crc(bytes.fromhex("0106001A07D0"))
    assert to_register(24.2) == 242 and to_register(-5.5) == -55


def read_reply(values: list[int]) -> bytes:
    data = b"".join(v.to_bytes(2, "big", signed=True) for v in values)
    return with_crc(bytes([1, 3, len(data)]) + data)


def test_transcript_read_pv_and_set_comms_setpoint():
    wr = build_write_request(1, 26, 2605)
    pairs = [(build_read_request(1, Reg.PV), read_reply([2421])), (wr, wr),
             (build_read_request(1, Reg.WORKING_OUTPUT), read_reply([457])),
             (build_read_request(1, Reg.STATUS), read_reply([0x0010]))]
    with expected_exchange(heater, pairs) as h:
        assert h.read_pv() == pytest.approx(242.1)
        h.set_comms_setpoint(260.5)
        assert h.working_output() == pytest.approx(45.7)
        st_ = h.read_status()
        assert st_.manual and not st_.sensor_break


def test_ramp_rate_written_only_when_changed():
    wr = build_write_request(1, 35, 100)
    pairs = [(build_read_request(1, 35), read_reply([50])), (wr, wr),
             (build_read_request(1, 35), read_reply([100]))]  # second call: no write
    with expected_exchange(heater, pairs) as h:
        h.set_ramp_rate(10.0)
        h.set_ramp_rate(10.0)


@pytest.mark.parametrize("reg", [Reg.TARGET_SP, Reg.SP1, Reg.SP2])
def test_eeprom_registers_refused_by_raw_write(reg):
    with expected_exchange(heater, []) as h:
        with pytest.raises(ValueError, match="EEPROM"):
            h.write_register(reg, 100)


def test_modbus_exception_reply():
    with expected_exchange(heater, [(build_read_request(1, 1), with_crc(bytes([1, 0x83, 2])))]) as h:
        with pytest.raises(CommandRejected) as e:
            h.read_pv()
    assert e.value.code == 2 and "illegal data address" in str(e.value)


def test_sensor_break_value_raises_alarm():
    with expected_exchange(heater, [(build_read_request(1, 1), read_reply([32767]))]) as h:
        with pytest.raises(DeviceAlarm) as e:
            h.read_pv()
    assert e.value.code == "sensor_break"


def test_bad_crc_then_retry():
    good = read_reply([250])
    bad = good[:-1] + bytes([good[-1] ^ 0xFF])
    pairs = [(build_read_request(1, 1), bad), (build_read_request(1, 1), good)]
    with expected_exchange(lambda u: heater(u, retry=RetryPolicy(2)), pairs) as h:
        assert h.read_pv() == 25.0


def test_framer_skips_noise_and_waits():
    frame = read_reply([1, 2])
    find = modbus_reply_framer(1, 3)
    assert find(b"\xff\x00" + frame) == (2, 2 + len(frame))
    assert find(frame[:-1]) is None
    assert modbus_reply_framer(1, 6)(with_crc(bytes([1, 0x86, 3]))) == (0, 5)


def test_parse_rejects_bad_frames():
    with pytest.raises(ChecksumError):
        parse_modbus_reply(b"\x01\x03\x02\x00\x01\x00\x00", 1, 3)
    with pytest.raises(ProtocolError):
        parse_modbus_reply(with_crc(b"\x02\x03\x02\x00\x01"), 1, 3)
    with pytest.raises(ProtocolError):
        parse_modbus_reply(with_crc(b"\x01\x03\x03\x00\x01\x00"), 1, 3)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.sampled_from([3, 6, 16]))
def test_fuzz_parser_and_framer(raw, fc):
    try:
        parse_modbus_reply(raw, 1, fc)
    except HardwareError:
        pass
    found = modbus_reply_framer(1, fc)(raw)
    if found is not None:
        assert 0 <= found[0] < found[1] <= len(raw)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=20))
def test_fuzz_valid_crc_random_body(body):
    try:
        parse_modbus_reply(with_crc(body), 1, 3)
    except HardwareError:
        pass
