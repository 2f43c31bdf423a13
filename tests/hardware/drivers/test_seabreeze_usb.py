"""USB spectrometers through python-seabreeze: tested at the seabreeze API boundary with
a stand-in (`seabreeze_standin`, honestly named), plus the real pyseabreeze backend with
no device attached (what every CI machine has)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from hardware.capabilities import Spectrometer
from hardware.drivers.seabreeze_usb import SeabreezeSpectrometer, load_seabreeze_api
from hardware.errors import DeviceTimeout, PortUnavailable
from hardware.retry import RetryPolicy
from tests.hardware.drivers.seabreeze_standin import StandInSeabreezeApi, StandInSpectrometer


def open_standin(serial: str = "USB2+H12345", **kw) -> SeabreezeSpectrometer:
    api = StandInSeabreezeApi(("USB2000PLUS", "USB2+H12345"), ("QEPRO", "QEP01234"))
    return SeabreezeSpectrometer(serial, api=api, name="usb", **kw)


@contextmanager
def standin(serial: str = "USB2+H12345", **kw) -> Iterator[SeabreezeSpectrometer]:
    """`open_standin`, closed on leaving the block."""
    spec = open_standin(serial, **kw)
    try:
        yield spec
    finally:
        spec.close()


def test_selected_by_serial_number_and_conforms_to_the_protocol():
    with standin("QEP01234") as spec:
        assert isinstance(spec, Spectrometer)
        assert spec.model == "QEPRO" and spec.serial_number() == "QEP01234"
        assert spec.saturation_counts == 200000.0


def test_integration_time_limits_are_min_inclusive_max_exclusive():
    with standin() as spec:
        spec.set_integration_time_us(1000)
        assert spec.integration_time_us == 1000
        with pytest.raises(ValueError, match="1000..655350000"):
            spec.set_integration_time_us(655_350_000)
        with pytest.raises(ValueError):
            spec.set_integration_time_us(999)


def test_raw_spectrum_has_no_device_side_correction_and_matches_wavelengths():
    with standin() as spec:
        spec.set_integration_time_us(100_000)
        counts, wl = spec.raw_spectrum(), spec.wavelengths()
        assert counts.dtype == np.float64 and wl.shape == counts.shape == (2048,)
        assert abs(wl[np.argmax(counts)] - 620.0) < 0.5
        assert spec._dev.calls[-1] == ("intensities", False, False)


def test_a_transfer_error_is_retried_then_reported_as_a_timeout():
    with standin(retry=RetryPolicy(attempts=2)) as spec:
        StandInSpectrometer.fail_next = 1
        assert spec.raw_spectrum().size == 2048     # retried once
        StandInSpectrometer.fail_next = 2
        with pytest.raises(DeviceTimeout, match="Data transfer error"):
            spec.raw_spectrum()


def test_unknown_serial_names_the_attached_devices():
    with pytest.raises(PortUnavailable) as e:
        open_standin("NOPE")
    assert "No device attached with serial number 'NOPE'" in str(e.value)
    assert "USB2000PLUS USB2+H12345" in str(e.value) and "sdl devices check" in str(e.value)


def test_already_open_device_is_refused_until_closed():
    first = open_standin()
    with pytest.raises(PortUnavailable, match="already opened"):
        SeabreezeSpectrometer("USB2+H12345", api=StandInSeabreezeApi.__new__(StandInSeabreezeApi))
    first.close()


def test_real_pyseabreeze_backend_without_a_device():
    api = load_seabreeze_api()  # the usb extra is installed by `make test`
    try:
        devices = api.list_devices()
    except RuntimeError:  # a machine without libusb-1.0: the driver says what to install
        with pytest.raises(PortUnavailable, match="libusb"):
            SeabreezeSpectrometer("ABC123", api=api)
        return
    assert devices == []
    with pytest.raises(PortUnavailable, match="No device attached with serial number 'ABC123'"):
        SeabreezeSpectrometer("ABC123", api=api)


def test_devices_check_line_reports_model_and_serial(monkeypatch):
    from hardware.drivers import seabreeze_usb
    from sdl.commands.devices import probe
    from sdl.schema.rig import SpectrometerDevice

    api = StandInSeabreezeApi(("USB2000PLUS", "USB2+H12345"))
    monkeypatch.setattr(seabreeze_usb, "load_seabreeze_api", lambda: api)
    dev = SpectrometerDevice(role="spectrometer", name="usb", driver="seabreeze",
                             serial_number="USB2+H12345")
    row = probe(dev)
    assert row["ok"], row
    assert row["detail"].startswith("USB2000PLUS, serial USB2+H12345, 2048 px, 340.0-1030.0 nm")
    assert "saturates at 65535 counts" in row["detail"]
    assert not StandInSpectrometer.attached[0].is_open   # probe closed it
