"""Numato USB relay/GPIO: byte transcripts per command (Numato sample code and C relay
demo: echo, EOL, value, EOL, prompt `>`; PROTOCOLS_WAVE2.md section 3)."""

from __future__ import annotations

import pytest

from hardware.drivers.numato import NumatoGpio, NumatoRelay, numato_index, parse_numato_reply
from hardware.errors import ProtocolError
from hardware.retry import NO_RETRY
from tests.hardware.exchange import expected_exchange


def relay(url: str, channel: int = 0) -> NumatoRelay:
    return NumatoRelay(url, channel, timeout_s=0.3, retry=NO_RETRY, name="led")


def test_relay_on_off_read():
    with expected_exchange(relay, [(b"relay on 0\r", b"relay on 0\n\r>"),
                                   (b"relay read 0\r", b"relay read 0\n\ron\n\r>"),
                                   (b"relay off 0\r", b"relay off 0\n\r>"),
                                   (b"relay read 0\r", b"relay read 0\n\roff\n\r>")]) as d:
        d.set_open(True)
        assert d.is_open() is True
        d.set_open(False)
        assert d.is_open() is False


def test_state_sits_at_byte_offset_14_as_in_the_c_demo():
    raw = b"relay read 0\n\ron\n\r>"
    assert raw[14:16] == b"on" and parse_numato_reply(raw, "relay read 0") == "on"


def test_identify():
    with expected_exchange(relay, [(b"ver\r", b"ver\n\r00000008\n\r>"),
                                   (b"id get\r", b"id get\n\r00000000\n\r>")]) as d:
        assert d.identify() == "Numato relay module, firmware 00000008, ID 00000000"


def test_channels_above_nine_are_letters_not_hex():
    assert [numato_index(n) for n in (0, 9, 10, 11, 15, 16, 35)] == ["0", "9", "A", "B", "F", "G", "Z"]
    with expected_exchange(lambda url: relay(url, 16), [(b"relay on G\r", b"relay on G\n\r>")]) as d:
        d.set_open(True)
    with pytest.raises(ValueError):
        numato_index(36)


def test_gpio_set_clear_read():
    def gpio(url: str) -> NumatoGpio:
        return NumatoGpio(url, 3, timeout_s=0.3, retry=NO_RETRY)
    with expected_exchange(gpio, [(b"gpio set 3\r", b"gpio set 3\n\r>"),
                                  (b"gpio read 3\r", b"gpio read 3\n\r1\n\r>"),
                                  (b"gpio clear 3\r", b"gpio clear 3\r\n>")]) as d:
        d.set_open(True)
        assert d.is_open() is True
        d.set_open(False)


def test_garbled_value_and_missing_value_are_protocol_errors():
    with expected_exchange(relay, [(b"relay read 0\r", b"relay read 0\n\ro#\n\r>")]) as d:
        with pytest.raises(ProtocolError) as e:
            d.is_open()
    assert e.value.device == "led"  # named by the driver (hardware.errors.tag_device)
    with expected_exchange(relay, [(b"relay read 0\r", b"relay read 0\n\r>")]) as d:
        with pytest.raises(ProtocolError):     # [U] unknown command: prompt only
            d.is_open()
