"""A USB spectrometer behind the same Spectrometer protocol as the OBP one: FlowRig runs
an experiment with `driver = "seabreeze"` (selected by serial number). The seabreeze API
is a STAND-IN (`WorldSeabreeze`, below) whose spectra come from the emulated flow cell,
so the light path, the reactor and the scoring see real physics; the USB layer itself is
covered by tests/hardware/drivers/test_seabreeze_usb.py."""

from __future__ import annotations

import numpy as np
import pytest
from seabreeze.spectrometers import SeaBreezeError

from hardware.drivers import seabreeze_usb
from hardware.flowrig import FlowRig
from sdl.analysis.photon_files import read_photon_file
from sdl.schema.rig import RigFile
from tests.hardware.flowrig_fixtures import conditions, make_bench


def world_seabreeze(emu_sts) -> object:
    """STAND-IN for `seabreeze.spectrometers`, backed by an `ObpSpectrometerEmulator`."""

    class Device:
        model, serial_number, is_open = "STS-VIS", emu_sts.serial, False

    class Spectrometer:
        integration_time_micros_limits = (10, 85_000_000)
        max_intensity = 16383.0

        def __init__(self) -> None:
            self.model, self.serial_number = Device.model, Device.serial_number

        @classmethod
        def from_serial_number(cls, serial: str) -> Spectrometer:
            if serial != Device.serial_number:
                raise SeaBreezeError(f"No device attached with serial number '{serial}'.")
            return cls()

        def integration_time_micros(self, us: int) -> None:
            emu_sts.integration_time_us = us

        def wavelengths(self) -> np.ndarray:
            return emu_sts.wavelengths_nm.copy()

        def intensities(self, correct_dark_counts=False, correct_nonlinearity=False):
            with emu_sts.world.lock:
                return emu_sts.spectrum().astype(np.float64)

        def close(self) -> None:
            pass

    class Api:
        pass
    Api.SeaBreezeError, Api.Spectrometer = SeaBreezeError, Spectrometer
    Api.list_devices = staticmethod(lambda: [Device()])
    return Api


@pytest.fixture
def bench(tmp_path, monkeypatch):
    b = make_bench(tmp_path, light="composed")
    monkeypatch.setattr(seabreeze_usb, "load_seabreeze_api",
                        lambda: world_seabreeze(b.emu.devices["sts"]))
    data = dict(b.data)
    data["devices"] = [dict(d) for d in b.data["devices"]]
    for d in data["devices"]:
        if d["role"] == "spectrometer":
            d.update(driver="seabreeze", port="", serial_number="S12345")
    b.rig = FlowRig(RigFile.model_validate(data), clock=b.clock.now, sleep=b.sleep, poll_s=5.0,
                    photon_reader=read_photon_file)
    b.rig.prepare()
    yield b
    b.close()


def test_experiment_with_a_usb_spectrometer(bench):
    assert bench.rig.device_identities()["sts"] == "STS-VIS serial S12345"
    raw = bench.rig.run(conditions(), "e0001")
    assert raw.failure is None, raw.failure
    assert raw.metadata["saturation_counts"] == 16383.0
    assert raw.abs_reference_counts.mean() > raw.abs_dark_counts.mean() + 100
    assert raw.pl_sample_counts.max() > raw.pl_dark_counts.max()
    assert bench.emu.devices["sts"].integration_time_us == 100_000
