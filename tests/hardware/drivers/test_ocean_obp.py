"""OBP driver: message layout, byte-exact transcripts, NACK codes, parser fuzzing."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.drivers.ocean_obp import (
    FLAG_ACK,
    FLAG_NACK,
    FLAG_REQUEST_ACK,
    FLAG_RESPONSE,
    GET_RAW_SPECTRUM_NOW,
    GET_SERIAL,
    GET_WL_COEFF,
    GET_WL_COEFF_COUNT,
    SET_ITIME_USEC,
    OceanObpSpectrometer,
    build_obp_message,
    find_obp_frame,
    parse_obp_message,
    polynomial_wavelengths,
)
from hardware.errors import ChecksumError, CommandRejected, HardwareError, ProtocolError
from hardware.retry import RetryPolicy
from tests.hardware.exchange import expected_exchange


def spec(url):
    return OceanObpSpectrometer(url, timeout_s=0.05, retry=RetryPolicy(1))


def test_layout_of_minimal_message():
    msg = build_obp_message(GET_SERIAL)
    assert len(msg) == 64
    assert msg[:2] == b"\xc1\xc0" and msg[2:4] == b"\x00\x11"  # version 0x1100 little-endian
    assert struct.unpack_from("<I", msg, 8)[0] == 0x00000100
    assert struct.unpack_from("<I", msg, 40)[0] == 20  # no payload: checksum + footer
    assert msg[-4:] == b"\xc5\xc4\xc3\xc2"


def test_round_trip_with_md5():
    raw = build_obp_message(GET_RAW_SPECTRUM_NOW, payload=b"\x01\x02" * 10, flags=FLAG_RESPONSE,
                            checksum_type=1, regarding=77)
    assert raw[-20:-4] == hashlib.md5(raw[:-20]).digest()
    msg = parse_obp_message(raw)
    assert (msg.payload, msg.regarding, msg.flags) == (b"\x01\x02" * 10, 77, FLAG_RESPONSE)
    bad = raw[:50] + bytes([raw[50] ^ 1]) + raw[51:]
    with pytest.raises(ChecksumError):
        parse_obp_message(bad)


def test_transcripts():
    itime = build_obp_message(SET_ITIME_USEC, immediate=struct.pack("<I", 20000),
                              flags=FLAG_REQUEST_ACK)
    pairs = [
        (build_obp_message(GET_SERIAL), build_obp_message(GET_SERIAL, immediate=b"STS01234",
                                                          flags=FLAG_RESPONSE)),
        (itime, build_obp_message(SET_ITIME_USEC, flags=FLAG_RESPONSE | FLAG_ACK)),
        (build_obp_message(GET_WL_COEFF_COUNT), build_obp_message(GET_WL_COEFF_COUNT, immediate=b"\x02")),
        (build_obp_message(GET_WL_COEFF, immediate=b"\x00"),
         build_obp_message(GET_WL_COEFF, immediate=struct.pack("<f", 400.0))),
        (build_obp_message(GET_WL_COEFF, immediate=b"\x01"),
         build_obp_message(GET_WL_COEFF, immediate=struct.pack("<f", 0.5))),
        (build_obp_message(GET_RAW_SPECTRUM_NOW),
         build_obp_message(GET_RAW_SPECTRUM_NOW, payload=np.arange(1024, dtype="<u2").tobytes())),
    ]
    with expected_exchange(spec, pairs) as s:
        assert s.serial_number() == "STS01234"
        s.set_integration_time_us(20000)
        wl = s.wavelengths()
        assert wl.shape == (1024,) and wl[0] == 400.0 and wl[2] == 401.0
        counts = s.raw_spectrum()
        assert counts.dtype == np.uint16 and counts[1023] == 1023


@pytest.mark.parametrize("code,hint", [(7, "wait"), (9, "re-send"), (2, "")])
def test_nack_codes(code, hint):
    nack = build_obp_message(GET_RAW_SPECTRUM_NOW, flags=FLAG_RESPONSE | FLAG_NACK, error=code)
    with expected_exchange(spec, [(build_obp_message(GET_RAW_SPECTRUM_NOW), nack)]) as s:
        with pytest.raises(CommandRejected) as e:
            s.raw_spectrum()
    assert e.value.code == code and hint in e.value.next_step


def test_integration_time_range_checked_before_sending():
    with expected_exchange(spec, []) as s:
        with pytest.raises(ValueError):
            s.set_integration_time_us(5)


def test_wrong_pixel_count_is_protocol_error():
    reply = build_obp_message(GET_RAW_SPECTRUM_NOW, payload=b"\0" * 100)
    with expected_exchange(spec, [(build_obp_message(GET_RAW_SPECTRUM_NOW), reply)]) as s:
        with pytest.raises(ProtocolError):
            s.raw_spectrum()


def test_polynomial_wavelengths():
    wl = polynomial_wavelengths([300.0, 0.5, 1e-4], pixels=3)
    assert np.allclose(wl, [300.0, 300.5001, 301.0004])


def test_framer_noise_and_partial():
    raw = build_obp_message(GET_SERIAL)
    assert find_obp_frame(b"\x00\xff" + raw) == (2, 66)
    assert find_obp_frame(raw[:63]) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_fuzz_parser_and_framer(raw):
    try:
        parse_obp_message(raw)
    except HardwareError:
        pass
    try:
        found = find_obp_frame(raw)
    except ProtocolError:
        return
    if found is not None:
        assert found[1] <= len(raw)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 200), st.binary(max_size=16), st.binary(max_size=64))
def test_fuzz_truncated_and_mutated(cut, imm, payload):
    raw = build_obp_message(GET_SERIAL, immediate=imm, payload=payload)
    try:
        parse_obp_message(raw[: len(raw) - cut])
    except ProtocolError:
        assert cut > 0
