"""Real USB spectrometer (python-seabreeze, pyseabreeze backend): skipped unless one is
attached (after `seabreeze_os_setup` for the udev rule)."""

from __future__ import annotations

import numpy as np
import pytest

from hardware.drivers.seabreeze_usb import SeabreezeSpectrometer, load_seabreeze_api

pytestmark = pytest.mark.with_device


@pytest.fixture
def device_serial() -> str:
    try:
        devices = load_seabreeze_api().list_devices()
    except Exception as e:  # noqa: BLE001 - no libusb / permission: no device to test
        pytest.skip(f"no USB access: {e}")
    if not devices:
        pytest.skip("no USB Ocean spectrometer attached")
    return devices[0].serial_number


def test_real_device_spectrum(device_serial):
    spec = SeabreezeSpectrometer(device_serial, name="usb")
    try:
        lo, _ = spec.limits_us()
        spec.set_integration_time_us(max(lo, 10_000))
        wl, counts = spec.wavelengths(), spec.raw_spectrum()
        assert wl.shape == counts.shape and np.all(np.diff(wl) > 0)
        assert 0 <= counts.max() <= spec.saturation_counts
    finally:
        spec.close()
