"""The flow cell's light path composed from rig-file roles, confirmed by read-back.

Roles (each one device in the rig file, any registered driver with the capability):
  lamp_shutter        (Shutter)       open for absorbance (lamp) spectra
  excitation_shutter  (Shutter)       open for PL (excitation) spectra
  led_enable          (Shutter)       on for PL when the excitation source is an LED
  cell_selector       (CellSelector)  positions for sample / solvent / reference dye

`set_light(mode)` closes what must be closed first, then opens what must be open, and
after every move reads the element back; `set_cell(cell)` moves the valve and polls its
position. A read-back that disagrees is retried once (`RetryPolicy` on
`LightPathUnconfirmed`: a slipped valve detent re-commanded); if it still disagrees,
`LightPathUnconfirmed` is raised and `confirmed` stays False. FlowRig calls
`require_confirmed()` before every acquisition and fails the experiment as an interlock
when the path is unconfirmed (it never measures through an unknown light path).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hardware.errors import LightPathUnconfirmed
from hardware.retry import RetryPolicy

SHUTTER_ROLES = ("lamp_shutter", "excitation_shutter", "led_enable")
SELECTOR_ROLE = "cell_selector"
LIGHT_ROLES = (*SHUTTER_ROLES, SELECTOR_ROLE)
# mode -> role -> open. Roles a rig does not have are skipped.
LIGHT_STATES: dict[str, dict[str, bool]] = {
    "dark": {"lamp_shutter": False, "excitation_shutter": False, "led_enable": False},
    "lamp": {"lamp_shutter": True, "excitation_shutter": False, "led_enable": False},
    "excitation": {"lamp_shutter": False, "excitation_shutter": True, "led_enable": True},
}
CELLS = ("sample", "solvent", "reference")


class ComposedLightPath:
    """A `LightPath` over shutter / LED / selector drivers.

    Args:
        elements: role -> opened driver (Shutter for the shutter roles, CellSelector for
            "cell_selector").
        positions: cell name -> selector position.
        confirm: policy re-commanding a move whose read-back disagrees (default 2 tries).
        reads: position reads per move before the valve counts as elsewhere.
        sleep: waits `settle_s` between position reads (rig clock).
        settle_s: seconds between position reads while the valve moves.
    """

    def __init__(self, elements: Mapping[str, Any], positions: Mapping[str, int], *,
                 confirm: RetryPolicy | None = None, reads: int = 3,
                 sleep: Callable[[float], None] | None = None, settle_s: float = 0.2):
        unknown = sorted(set(elements) - set(LIGHT_ROLES))
        if unknown:
            raise ValueError(f"not light-path roles: {', '.join(unknown)}")
        self.elements = dict(elements)
        self.positions = dict(positions)
        self.confirm = confirm or RetryPolicy(attempts=2, retry_on=(LightPathUnconfirmed,))
        self.reads = max(int(reads), 1)
        self.sleep = sleep or (lambda s: None)
        self.settle_s = settle_s
        self.confirmed = False
        self.state: dict[str, Any] = {}

    def names(self) -> dict[str, str]:
        """Device name -> role."""
        return {drv.name: role for role, drv in self.elements.items()}

    def prepare(self) -> dict[str, str]:
        """Set every element up (`setup()` where a driver has one); return device name ->
        identity as the devices report it."""
        out = {}
        for drv in self.elements.values():
            setup = getattr(drv, "setup", None)
            if callable(setup):
                setup()
            out[drv.name] = drv.identify()
        return out

    def ping(self, device: str) -> str:
        """Ask one element who it is (after a reconnect)."""
        for drv in self.elements.values():
            if drv.name == device:
                return drv.identify()
        raise KeyError(device)

    def _switch(self, role: str, want: bool) -> None:
        drv = self.elements[role]

        def once() -> None:
            drv.set_open(want)
            got = drv.is_open()
            if got != want:
                raise LightPathUnconfirmed(
                    f"{role} commanded {'open' if want else 'closed'} but reads back "
                    f"{'open' if got else 'closed'}", role=role, wanted=want, read_back=got,
                    device=drv.name)
        self.confirm.call(once, f"{drv.name} {role}")
        self.state[role] = want

    def set_light(self, mode: str) -> None:
        """"lamp", "excitation" or "dark"; raises LightPathUnconfirmed / HardwareError."""
        if mode not in LIGHT_STATES:
            raise ValueError(f"light must be one of {', '.join(LIGHT_STATES)}, got {mode!r}")
        want = {r: v for r, v in LIGHT_STATES[mode].items() if r in self.elements}
        self.confirmed = False
        for role in sorted(want, key=lambda r: want[r]):  # close first, then open
            self._switch(role, want[role])
        self.state["light"] = mode
        self.confirmed = "cell" in self.state

    def set_cell(self, cell: str) -> None:
        """"sample", "solvent" or "reference"; polls the position after the move."""
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        if cell not in self.positions:
            raise ValueError(f"the rig file's cell_selector has no position for {cell!r}")
        drv = self.elements[SELECTOR_ROLE]
        target = int(self.positions[cell])

        def once() -> None:
            drv.move_to(target)
            got = drv.position()
            for _ in range(self.reads - 1):
                if got == target:
                    break
                self.sleep(self.settle_s)
                got = drv.position()
            if got != target:
                raise LightPathUnconfirmed(
                    f"cell selector commanded to position {target} ({cell}) but reads back "
                    f"{got}", role=SELECTOR_ROLE, wanted=target, read_back=got, device=drv.name)
        self.confirmed = False
        self.confirm.call(once, f"{drv.name} {cell}")
        self.state["cell"] = cell
        self.confirmed = "light" in self.state

    def require_confirmed(self) -> None:
        """Raise LightPathUnconfirmed unless the last light and cell moves read back."""
        if not self.confirmed:
            raise LightPathUnconfirmed("light path unconfirmed: refusing to measure",
                                       role="light_path", wanted=None, read_back=None,
                                       device=next(iter(self.names()), "light_path"))

    def close(self) -> None:
        for drv in self.elements.values():
            drv.close()


def open_composed(rig_file: Any, open_device: Callable[[Any], Any], *,
                  sleep: Callable[[float], None] | None = None) -> ComposedLightPath:
    """Open every light-path role device of `rig_file` through `open_device` (the
    registry's factory) and compose them. Closes what opened if one fails."""
    elements: dict[str, Any] = {}
    positions: dict[str, int] = {"sample": 1, "solvent": 2, "reference": 3}
    try:
        for dev in rig_file.devices:
            if dev.role in LIGHT_ROLES:
                elements[dev.role] = open_device(dev)
                if dev.role == SELECTOR_ROLE:
                    positions = dict(dev.positions)
    except BaseException:
        for drv in elements.values():
            drv.close()
        raise
    return ComposedLightPath(elements, positions, sleep=sleep)
