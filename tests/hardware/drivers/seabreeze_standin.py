"""A STAND-IN for `seabreeze.spectrometers` (not python-seabreeze): the three names the
driver uses (`list_devices`, `Spectrometer`, `SeaBreezeError`), with the behaviour
python-seabreeze 2.11.0 documents (PROTOCOLS_WAVE2.md section 5): per-model integration
limits accepted as min <= t < max, the error texts of `from_serial_number`, `close()`.
Counts are a fixed Gaussian line so tests can check what the driver returns."""

from __future__ import annotations

import numpy as np
from seabreeze.spectrometers import SeaBreezeError  # the real exception class

LIMITS_US = {"USB2000PLUS": (1000, 655_350_000), "QEPRO": (8000, 1_600_000_000)}
MAX_INTENSITY = {"USB2000PLUS": 65535.0, "QEPRO": 200000.0}


class StandInDevice:
    def __init__(self, model: str, serial_number: str):
        self.model, self.serial_number, self.is_open = model, serial_number, False


class StandInSpectrometer:
    attached: list[StandInDevice] = []
    fail_next: int = 0  # raise SeaBreezeError from the next n intensities() calls

    def __init__(self, dev: StandInDevice):
        self._dev = dev
        dev.is_open = True
        self.model, self.serial_number = dev.model, dev.serial_number
        self.integration_time_micros_limits = LIMITS_US[dev.model]
        self.max_intensity = MAX_INTENSITY[dev.model]
        self.pixels = 2048
        self.itime_us = self.integration_time_micros_limits[0]
        self.calls: list[tuple] = []

    @classmethod
    def from_serial_number(cls, serial: str | None = None) -> StandInSpectrometer:
        for dev in cls.attached:
            if dev.serial_number == serial:
                if dev.is_open:
                    raise SeaBreezeError("Device already opened.")
                return cls(dev)
        raise SeaBreezeError(f"No device attached with serial number '{serial}'.")

    def integration_time_micros(self, us: int) -> None:
        lo, hi = self.integration_time_micros_limits
        if not lo <= us < hi:
            raise SeaBreezeError(f"Integration not in [{lo:d}, {hi:d}]")
        self.itime_us = us
        self.calls.append(("itime", us))

    def wavelengths(self) -> np.ndarray:
        return np.linspace(340.0, 1030.0, self.pixels)

    def intensities(self, correct_dark_counts: bool = False,
                    correct_nonlinearity: bool = False) -> np.ndarray:
        self.calls.append(("intensities", correct_dark_counts, correct_nonlinearity))
        if StandInSpectrometer.fail_next:
            StandInSpectrometer.fail_next -= 1
            raise SeaBreezeError("Data transfer error")
        wl = self.wavelengths()
        return 1000.0 + 5e4 * np.exp(-0.5 * ((wl - 620.0) / 15.0) ** 2) * self.itime_us / 1e5

    def close(self) -> None:
        self._dev.is_open = False


class StandInSeabreezeApi:
    """The module-shaped stand-in passed as `api=`."""

    SeaBreezeError = SeaBreezeError
    Spectrometer = StandInSpectrometer

    def __init__(self, *devices: tuple[str, str]):
        StandInSpectrometer.attached = [StandInDevice(m, s) for m, s in devices]
        StandInSpectrometer.fail_next = 0

    def list_devices(self) -> list[StandInDevice]:
        return list(StandInSpectrometer.attached)
