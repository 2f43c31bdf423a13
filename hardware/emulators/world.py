"""The one shared emulated world: clock, reactor, and the optics of what flows out.

Emulated pumps and heaters own their device state; the world ties them together so the
emulated spectrometer sees spectra for the flows and temperature currently set on the other
emulated devices. Time comes from an injectable clock (`ManualClock` in tests: no
wall-clock sleeps for device physics).

The only dependency on the physics simulator is `outlet_optics()`: it calls
`simulator.rig.outlet_state(material, conditions, seed)` when that exists, and otherwise
falls back to a documented stand-in (Gaussian exciton absorption / PL whose position follows
temperature and residence time), so the emulators work before the simulator lands.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

PIXELS = 1024


class Clock(Protocol):
    def now(self) -> float:
        """Seconds, monotonic."""
        ...


class ManualClock:
    """A clock that only moves when told (tests)."""

    def __init__(self, start: float = 0.0):
        self._t = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        with self._lock:
            self._t += seconds
            return self._t


class WallClock:
    """Monotonic wall time, optionally sped up (`speed` emulated seconds per real second)."""

    def __init__(self, speed: float = 1.0):
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed


@dataclass(frozen=True)
class OutletOptics:
    """What the flow cell sees. Shapes (1024,).

    Attributes:
        wavelengths_nm: pixel wavelengths, increasing.
        absorbance: decadic absorbance of the sample over the cell path.
        pl_photon_rate: relative PL emission (arbitrary units, max ~1 for a bright sample).
        source: "simulator.rig.outlet_state" or "fallback".
    """

    wavelengths_nm: np.ndarray
    absorbance: np.ndarray
    pl_photon_rate: np.ndarray
    source: str


def sts_wavelength_coefficients() -> list[float]:
    """Emulated STS calibration polynomial (nm): about 350-800 nm over 1024 pixels."""
    return [350.0, 0.4600, -1.5e-5, 1.0e-9]


def _simulator_outlet() -> Callable[..., Any] | None:
    try:
        mod = importlib.import_module("simulator.rig")
    except ImportError:
        return None
    return getattr(mod, "outlet_state", None)


def outlet_optics(material: str, conditions: Mapping[str, Any], seed: int,
                  wavelengths_nm: np.ndarray) -> OutletOptics:
    """Absorbance and PL at the outlet for `conditions` (the one simulator dependency).

    Uses `simulator.rig.outlet_state` when available (interpolated onto `wavelengths_nm`),
    else the fallback: first-exciton Gaussian at 480 + 0.4*(T-200) + 15*log10(t_res/10) nm
    (clipped 450-680 nm), amplitude proportional to metal concentration, PL 15 nm redder.
    The fallback is a placeholder for rehearsals, not physics.
    """
    fn = _simulator_outlet()
    if fn is not None:
        from simulator.conditions import complete

        state = fn(material, complete(dict(conditions)), seed)
        wl = np.asarray(state.wavelengths_nm, dtype=np.float64)
        return OutletOptics(wavelengths_nm,
                            np.interp(wavelengths_nm, wl, np.asarray(state.absorbance, float)),
                            np.interp(wavelengths_nm, wl, np.asarray(state.pl_photon_rate, float)),
                            "simulator.rig.outlet_state")
    t = float(conditions.get("temperature_c", 25.0))
    tres = max(float(conditions.get("residence_time_s", 0.0)), 1e-3)
    conc = float(conditions.get("metal_conc_mm", 0.0))
    wl = wavelengths_nm
    if conc <= 0 or t < 150:
        zero = np.zeros_like(wl)
        return OutletOptics(wl, zero, zero, "fallback")
    peak = float(np.clip(480 + 0.4 * (t - 200) + 15 * np.log10(tres / 10), 450, 680))
    amp = 0.02 * conc
    absorbance = amp * (np.exp(-0.5 * ((wl - peak) / 12) ** 2)
                        + 0.6 * np.clip((peak - wl) / 150, 0, None))
    pl = np.exp(-0.5 * ((wl - peak - 15) / 14) ** 2) * min(1.0, conc / 20)
    return OutletOptics(wl, absorbance, pl, "fallback")


def flows_to_conditions(flows_ul_min: Mapping[str, float], stock_molar: Mapping[str, float],
                        reactor_volume_ul: float, temperature_c: float) -> dict[str, float]:
    """Invert inlet flows into the condition vocabulary (`simulator.conditions`).

    Q_total = sum of flows; residence_time_s = 60 V / Q_total; concentrations after mixing
    c_i = stock_i * Q_i / Q_total; ratios are molar feed ratios. Used by the emulators to
    ask the simulator what comes out; the forward map lives in `simulator.flows`.
    """
    q = sum(max(v, 0.0) for v in flows_ul_min.values())
    out: dict[str, float] = {"temperature_c": float(temperature_c)}
    if q <= 0:
        out["residence_time_s"] = 0.0
        out["metal_conc_mm"] = 0.0
        return out
    out["residence_time_s"] = 60.0 * reactor_volume_ul / q
    mol = {k: stock_molar.get(k, 0.0) * max(v, 0.0) / q for k, v in flows_ul_min.items()}
    metal = mol.get("metal", 0.0)
    out["metal_conc_mm"] = 1000.0 * metal
    if metal > 0:
        if "anion" in mol:
            out["se_to_cd"] = mol["anion"] / metal
        if "ligand" in mol:
            out["ligand_to_metal"] = mol["ligand"] / metal
    return out


class EmulatedWorld:
    """Shared physical state of all emulated devices on one rig.

    Args:
        clock: time source (ManualClock in tests, WallClock in `sdl emulate`).
        material: simulator material key.
        reactor_volume_ul: core-stage volume.
        seed: seed for the simulator and detector noise.

    Attributes:
        pumps: name -> `Ne1000Emulator` (registered by the bus).
        heaters: name -> `Eurotherm3216Emulator`.
        inlet_of: pump name -> inlet name; stock_molar: inlet -> mol/L.
        light: what illuminates the flow cell: "lamp" (absorbance), "excitation" (PL) or
            "dark" (shutter closed). Set from the back channel (the real rig switches it
            with a shutter/lamp driver that is not part of these protocols).
        cell: "sample" or "solvent" (reference) in the flow cell.
        lock: the world lock; devices hold it while they update state.
    """

    def __init__(self, clock: Clock | None = None, *, material: str = "CdSe",
                 reactor_volume_ul: float = 500.0, seed: int = 0):
        self.clock = clock or WallClock()
        self.material = material
        self.reactor_volume_ul = reactor_volume_ul
        self.seed = seed
        self.pumps: dict[str, Any] = {}
        self.heaters: dict[str, Any] = {}
        self.inlet_of: dict[str, str] = {}
        self.stock_molar: dict[str, float] = {}
        self.core_heater: str | None = None
        self.light = "lamp"
        self.cell = "sample"
        self.lock = threading.RLock()
        self._cache: tuple[tuple, OutletOptics] | None = None
        self._scheduled: list[tuple[float, Callable[[], None]]] = []

    def now(self) -> float:
        return self.clock.now()

    # -- scheduled faults ------------------------------------------------------------------
    def schedule(self, at_s: float, action: Callable[[], None]) -> None:
        """Run `action` once the clock passes `at_s` (checked by `tick`)."""
        with self.lock:
            self._scheduled.append((at_s, action))
            self._scheduled.sort(key=lambda x: x[0])

    def tick(self) -> None:
        """Fire scheduled actions that are due. Devices call this on every command."""
        with self.lock:
            now = self.now()
            while self._scheduled and self._scheduled[0][0] <= now:
                _, action = self._scheduled.pop(0)
                action()

    # -- the rig as the spectrometer sees it -----------------------------------------------
    def inlet_flows_ul_min(self) -> dict[str, float]:
        """Current flow per inlet (pumps infusing), µL/min."""
        now = self.now()
        out: dict[str, float] = {}
        for name, pump in self.pumps.items():
            inlet = self.inlet_of.get(name, name)
            out[inlet] = out.get(inlet, 0.0) + pump.flow_ul_min(now)
        return out

    def temperature_c(self) -> float:
        if self.core_heater and self.core_heater in self.heaters:
            return self.heaters[self.core_heater].true_temperature(self.now())
        return 25.0

    def conditions(self) -> dict[str, float]:
        return flows_to_conditions(self.inlet_flows_ul_min(), self.stock_molar,
                                   self.reactor_volume_ul, self.temperature_c())

    def optics(self, wavelengths_nm: np.ndarray) -> OutletOptics:
        """Outlet optics for the current conditions (cached on rounded conditions)."""
        cond = self.conditions()
        key = tuple(sorted((k, round(v, 2)) for k, v in cond.items()))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        optics = outlet_optics(self.material, cond, self.seed, wavelengths_nm)
        self._cache = (key, optics)
        return optics
