"""The devices of one rig file, opened through the driver registry's one factory.

`RigDevices.open()` opens every device with `hardware.registry.open_device` (the same
factory `sdl devices check` and `sdl emulate` use): pumps and heaters twice - the working
driver with the retry policy, and a safe-state twin with no retry and a short deadline,
so `safe_state()` never waits out a retry loop - the spectrometer, the photon folder and
the light path (composed from the rig's light-path role devices, or the optics device's
own driver). It holds no policy: FlowRig decides what to do with the drivers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hardware.errors import HardwareError
from hardware.light_path import LIGHT_ROLES, open_composed
from hardware.registry import OpenContext, open_device
from hardware.retry import NO_RETRY, RetryPolicy
from hardware.rig_state import SAFE_TIMEOUT_S


class RigDevices:
    """Drivers of a rig file by role.

    Args:
        rig_file: validated `sdl.schema.rig.RigFile`.
        retry: policy of the working drivers. clock, sleep, poll_s: rig time for drivers
            that wait (photon folder, valve position polls).
        light_path: an already-open light path overriding the rig file's optics device.

    Attributes:
        pumps, heaters: name -> working driver; safe_pumps, safe_heaters: name -> twin.
        spectrometer, photon_folder, light: the drivers (None until opened / absent).
        spec_dev, optics_dev: the rig-file devices of those roles.
    """

    def __init__(self, rig_file: Any, *, retry: RetryPolicy,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, poll_s: float = 0.5,
                 light_path: Any = None, photon_reader: Callable[[Any], Any] | None = None):
        self.rig_file = rig_file
        self.ctx = OpenContext(retry=retry, clock=clock, sleep=sleep, poll_s=poll_s,
                               photon_reader=photon_reader)
        self.pumps: dict[str, Any] = {}
        self.heaters: dict[str, Any] = {}
        self.safe_pumps: dict[str, Any] = {}
        self.safe_heaters: dict[str, Any] = {}
        self.spectrometer: Any = None
        self.photon_folder: Any = None
        self.light: Any = light_path
        self.spec_dev = next(d for d in rig_file.devices if d.role == "spectrometer")
        self.optics_dev = next((d for d in rig_file.devices if d.role == "optics"), None)

    @property
    def spec_name(self) -> str:
        return self.spec_dev.name

    def light_names(self) -> dict[str, str]:
        """Light-path device name -> role (empty for a back-channel light path)."""
        names = getattr(self.light, "names", None)
        return names() if callable(names) else {}

    def open(self) -> None:
        """Open every device not yet open (idempotent). Raises `HardwareError` with the
        device name set, or `ValueError` for a rig-file mistake the driver found."""
        safe_ctx = OpenContext(retry=NO_RETRY, clock=self.ctx.clock, sleep=self.ctx.sleep,
                               poll_s=self.ctx.poll_s, photon_reader=self.ctx.photon_reader)
        for dev in self.rig_file.devices:
            try:
                if dev.role == "pump" and dev.name not in self.pumps:
                    self.pumps[dev.name] = open_device(dev, self.ctx)
                    self.safe_pumps[dev.name] = open_device(dev, _short(safe_ctx, dev))
                elif dev.role == "heater" and dev.name not in self.heaters:
                    self.heaters[dev.name] = open_device(dev, self.ctx)
                    self.safe_heaters[dev.name] = open_device(dev, _short(safe_ctx, dev))
                elif dev.role == "spectrometer" and self.spectrometer is None:
                    self.spectrometer = open_device(dev, self.ctx)
                elif dev.role == "photon_timer" and self.photon_folder is None:
                    self.photon_folder = open_device(dev, self.ctx)
                elif dev.role == "optics" and self.light is None:
                    self.light = (open_composed(self.rig_file, self._open_light,
                                                sleep=self.ctx.sleep)
                                  if dev.driver == "composed" else open_device(dev, self.ctx))
            except HardwareError as e:
                e.device = e.device if dev.role == "optics" and e.device else dev.name
                raise

    def _open_light(self, dev: Any) -> Any:
        if dev.role not in LIGHT_ROLES:  # pragma: no cover - open_composed filters
            raise ValueError(dev.role)
        return open_device(dev, self.ctx)

    def close(self) -> None:
        """Release every port (no device commands)."""
        for drv in [*self.pumps.values(), *self.safe_pumps.values(), *self.heaters.values(),
                    *self.safe_heaters.values(), self.spectrometer, self.light]:
            if drv is not None:
                drv.close()
        self.pumps.clear()
        self.safe_pumps.clear()
        self.heaters.clear()
        self.safe_heaters.clear()
        self.spectrometer = None
        self.light = None


def _short(ctx: OpenContext, dev: Any) -> OpenContext:
    return OpenContext(retry=ctx.retry, timeout_s=min(dev.timeout_s, SAFE_TIMEOUT_S),
                       clock=ctx.clock, sleep=ctx.sleep, poll_s=ctx.poll_s,
                       photon_reader=ctx.photon_reader)
