"""USB Ocean Insight spectrometers (Flame, USB2000+, USB4000, HR4000, QE Pro, ...) through
python-seabreeze with its `pyseabreeze` backend (pure Python over pyusb; no vendor
binaries). Optional extra: `pip install qd-sdl[usb]`.

Source: python-seabreeze 2.11.0 (`seabreeze.use`, `seabreeze.spectrometers.list_devices`,
`Spectrometer.from_serial_number`, `integration_time_micros`,
`integration_time_micros_limits`, `wavelengths`, `intensities`, `max_intensity`,
`model`, `serial_number`, `close`; error texts of `SeaBreezeError`), PROTOCOLS_WAVE2.md
section 5. Same `capabilities.Spectrometer` protocol as the OBP driver: integration time,
wavelengths, one raw spectrum (dark not subtracted: FlowRig measures its own dark with
the shutter closed and averages on the host), `saturation_counts` from `max_intensity`.

Error mapping (the seabreeze errors are not HardwareErrors):
  no device with that serial / already opened   -> PortUnavailable (names the serial and
                                                   the devices that are attached)
  pyusb / libusb missing                         -> PortUnavailable ("install the usb extra",
                                                   "install libusb-1.0")
  USB permission (usb.core.USBError errno 13)    -> PortUnavailable (udev rule:
                                                   `seabreeze_os_setup`)
  integration time outside the model's limits    -> ValueError naming the limits
  any other SeaBreezeError / USBError in a call  -> DeviceTimeout (retried by the policy)

`api` is the `seabreeze.spectrometers` module by default; tests pass a stand-in with the
same three names (`list_devices`, `Spectrometer`, `SeaBreezeError`) - the API boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hardware.errors import DeviceTimeout, PortUnavailable
from hardware.retry import RetryPolicy


def load_seabreeze_api() -> Any:
    """`seabreeze.spectrometers` on the pyseabreeze backend; PortUnavailable naming the
    extra when python-seabreeze or pyusb is not installed."""
    try:
        import seabreeze

        seabreeze.use("pyseabreeze")
        import seabreeze.spectrometers as api
    except ImportError as e:
        raise PortUnavailable(f"python-seabreeze (pyseabreeze backend) is not installed: {e}",
                              url="usb", next_step="install the usb extra: "
                                                   "pip install 'qd-sdl[usb]'") from None
    return api


def _usb_problem(e: BaseException, serial: str) -> PortUnavailable:
    text = str(e)
    if "Errno 13" in text or "Access denied" in text:
        step = ("no USB permission: run `seabreeze_os_setup` (udev rule for VID 0x2457), "
                "then replug the spectrometer")
    elif "No pyusb backend" in text or "backend" in text.lower():
        step = "libusb is missing: install libusb-1.0 (apt-get install libusb-1.0-0)"
    else:
        step = "check the USB cable and that no other program holds the spectrometer"
    return PortUnavailable(f"USB: {type(e).__name__}: {text}", url=f"usb:{serial}",
                           next_step=step)


class SeabreezeSpectrometer:
    """One USB spectrometer selected by serial number (satisfies `Spectrometer`).

    Args:
        serial: serial number printed on the device (`sdl devices check` lists it).
        api: `seabreeze.spectrometers` or a stand-in with the same names.
        retry: policy for acquisitions and settings. name: device name.
    """

    def __init__(self, serial: str, *, api: Any = None, retry: RetryPolicy | None = None,
                 name: str = ""):
        self.name = name or f"seabreeze:{serial}"
        self.serial = serial
        self.retry = retry or RetryPolicy()
        self.api = api if api is not None else load_seabreeze_api()
        self.integration_time_us = 0
        self._dev: Any = None
        self._open()

    def _open(self) -> None:
        api = self.api
        try:
            self._dev = api.Spectrometer.from_serial_number(self.serial)
        except api.SeaBreezeError as e:
            try:
                attached = [f"{d.model} {d.serial_number}" for d in api.list_devices()]
            except Exception:  # noqa: BLE001 - listing is only for the message
                attached = []
            raise PortUnavailable(f"{e}; attached: {', '.join(attached) or 'none'}",
                                  url=f"usb:{self.serial}", device=self.name,
                                  next_step="check `serial_number` in the rig file against "
                                            "`sdl devices check`") from None
        except (OSError, RuntimeError, ImportError) as e:  # usb.core.USBError is an OSError
            err = _usb_problem(e, self.serial)
            err.device = self.name
            raise err from None

    def _call(self, what: str, fn: Any) -> Any:
        def once() -> Any:
            try:
                return fn()
            except (self.api.SeaBreezeError, OSError) as e:
                raise DeviceTimeout(f"{what}: {type(e).__name__}: {e}", device=self.name) from None
        return self.retry.call(once, f"{self.name} {what}")

    @property
    def model(self) -> str:
        return str(self._dev.model)

    @property
    def saturation_counts(self) -> float:
        """`max_intensity` of the model (e.g. 65535 for 16-bit detectors)."""
        return float(self._dev.max_intensity)

    def serial_number(self) -> str:
        return str(self._dev.serial_number)

    def limits_us(self) -> tuple[int, int]:
        lo, hi = self._dev.integration_time_micros_limits
        return int(lo), int(hi)

    def set_integration_time_us(self, us: int) -> None:
        """Integration time, µs; pyseabreeze accepts min <= t < max of the model."""
        lo, hi = self.limits_us()
        if not lo <= int(us) < hi:
            raise ValueError(f"integration time {us} µs outside {lo}..{hi} µs for {self.model}")
        self._call("integration_time_micros", lambda: self._dev.integration_time_micros(int(us)))
        self.integration_time_us = int(us)

    def wavelengths(self) -> np.ndarray:
        """Pixel wavelengths, nm, float64, shape (pixels,)."""
        return np.asarray(self._call("wavelengths", self._dev.wavelengths), dtype=np.float64)

    def raw_spectrum(self) -> np.ndarray:
        """One spectrum, counts (float64, shape (pixels,)); no dark or nonlinearity
        correction on the device side."""
        return np.asarray(self._call("intensities", lambda: self._dev.intensities(
            correct_dark_counts=False, correct_nonlinearity=False)), dtype=np.float64)

    def close(self) -> None:
        if self._dev is not None:
            try:
                self._dev.close()
            finally:
                self._dev = None


def _open(dev: Any, ctx: Any) -> SeabreezeSpectrometer:
    return SeabreezeSpectrometer(dev.serial_number, retry=ctx.retry, name=dev.name)


def _probe(drv: SeabreezeSpectrometer, dev: Any) -> str:
    wl = drv.wavelengths()
    return (f"{drv.model}, serial {drv.serial_number()}, {len(wl)} px, "
            f"{wl[0]:.1f}-{wl[-1]:.1f} nm, saturates at {drv.saturation_counts:g} counts")


def _check(dev: Any) -> list[str]:
    return [] if getattr(dev, "serial_number", "") else \
        ["driver 'seabreeze' selects the USB spectrometer by `serial_number` (see `sdl "
         "devices check` or the label on the device)"]


def _driver_spec() -> Any:
    from hardware.capabilities import Spectrometer
    from hardware.registry import DriverSpec

    return DriverSpec(
        name="seabreeze", roles=("spectrometer",), capability=Spectrometer,
        driver_class=SeabreezeSpectrometer, transport="USB (python-seabreeze, pyseabreeze backend)",
        open=_open, probe=_probe, needs_port=False, check=_check,
        source="python-seabreeze 2.11.0 API (seabreeze.spectrometers, pyseabreeze backend)")


DRIVER = _driver_spec()
