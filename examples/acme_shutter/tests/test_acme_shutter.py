"""Conformance of the ACME plugin, with the helpers qd-sdl exports for plugin authors."""

from acme_shutter import DRIVER, AcmeShutter

from hardware.conformance import check_spec, expected_exchange


def test_spec_conforms():
    check_spec(DRIVER)


def test_every_command_byte_exact():
    with expected_exchange(lambda url: AcmeShutter(url, timeout_s=0.3),
                           [(b"*IDN?\r", b"ACME,SH-1,0042,1.0\r"), (b"OPEN\r", b"OK\r"),
                            (b"STATE?\r", b"OPEN\r"), (b"CLOSE\r", b"OK\r"),
                            (b"STATE?\r", b"CLOSED\r")]) as d:
        assert d.identify() == "ACME,SH-1,0042,1.0"
        d.set_open(True)
        assert d.is_open()
        d.set_open(False)
        assert not d.is_open()
