"""The one shared emulated world: clock, reactor, and the optics of what flows out.

Emulated pumps and heaters own their device state; the world ties them together so the
emulated spectrometer sees spectra for the flows and temperature currently set on the other
emulated devices. Time comes from an injectable clock (`ManualClock` in tests: no
wall-clock sleeps for device physics).

The chemistry comes from the physics simulator (emulators may import it; the rest of
`hardware` may not): `outlet_optics()` calls `simulator.rig.outlet_state(material,
conditions, seed)` and `reference_dye_rate()` `simulator.spectrometer.dye_photon_rate`.
Pump flows become conditions through the shared vocabulary (`sdl.vocab.flows`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sdl.vocab.conditions import CONDITIONS, complete
from sdl.vocab.flows import FlowInfeasible, conditions_from_flows, flow_chemistry
from simulator.materials import load_material
from simulator.rig import outlet_state
from simulator.spectrometer import dye_photon_rate

PIXELS = 1024
log = logging.getLogger(__name__)


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
        pl_photon_rate: PL photons per pixel per excitation photon (simulator units; peak
            ~1e-3 for a bright sample).
        source: "simulator.rig.outlet_state", "no sample" or why the simulator refused.
        state: the simulator's `OutletState` when `source` is the simulator (used by the
            emulated time tagger to draw a dot), else None.
    """

    wavelengths_nm: np.ndarray
    absorbance: np.ndarray
    pl_photon_rate: np.ndarray
    source: str
    state: Any = None


def sts_wavelength_coefficients() -> list[float]:
    """Emulated STS calibration polynomial (nm): about 350-800 nm over 1024 pixels."""
    return [350.0, 0.4600, -1.5e-5, 1.0e-9]


def clip_to_bounds(conditions: Mapping[str, Any]) -> dict[str, Any]:
    """Clip numeric conditions into their physical bounds (`sdl.vocab.conditions`).

    An emulated rig can be driven anywhere (e.g. no ligand flow at all); the simulator only
    accepts conditions inside the vocabulary's bounds, so the emulator clips at the edge.
    """
    out: dict[str, Any] = {}
    for k, v in conditions.items():
        spec = CONDITIONS.get(k)
        if spec is not None and spec.low is not None and isinstance(v, (int, float)):
            v = min(max(float(v), spec.low), spec.high)
        out[k] = v
    return out


def outlet_optics(material: str, conditions: Mapping[str, Any], seed: int,
                  wavelengths_nm: np.ndarray, reactor_volume_ul: float = 500.0) -> OutletOptics:
    """Absorbance and PL at the outlet for `conditions`, from `simulator.rig.outlet_state`
    (conditions clipped into bounds). No metal flowing (metal_conc_mm <= 0) means solvent
    only: zero absorbance and PL; chemistry the simulator refuses forms nothing either.
    """
    wl = np.asarray(wavelengths_nm, dtype=np.float64)
    zero = np.zeros_like(wl)
    conc = float(conditions.get("metal_conc_mm", 0.0))
    tres = float(conditions.get("residence_time_s", 0.0))
    if conc <= 0 or tres <= 0:
        return OutletOptics(wl, zero, zero, "no sample")
    try:
        state = outlet_state(material, complete(clip_to_bounds(conditions)), seed,
                             wavelengths_nm=wl, reactor_volume_ul=reactor_volume_ul)
    except ValueError as e:  # infeasible chemistry: nothing forms
        log.warning("simulator.rig.outlet_state refused %s: %s", dict(conditions), e)
        return OutletOptics(wl, zero, zero, f"simulator refused: {e}")
    src_wl = np.asarray(state.wavelengths_nm, dtype=np.float64)
    return OutletOptics(wl,
                        np.interp(wl, src_wl, np.asarray(state.absorbance, dtype=np.float64)),
                        np.interp(wl, src_wl, np.asarray(state.pl_photon_rate, dtype=np.float64)),
                        "simulator.rig.outlet_state", state)


def reference_dye_rate(material: str, wavelengths_nm: np.ndarray,
                       overrides: Mapping[str, float] | None = None) -> np.ndarray:
    """PL photon rate of the reference dye in the cell selector's "reference" position, in
    the units of `OutletOptics.pl_photon_rate`: `simulator.spectrometer.dye_photon_rate`
    for the material preset's dye, with `overrides` (reference_plqy, reference_absorbance,
    reference_solvent_index: what the rig file declares) replacing the preset's values."""
    wl = np.asarray(wavelengths_nm, dtype=np.float64)
    keys = ("reference_peak_nm", "reference_fwhm_nm", "reference_plqy", "reference_absorbance",
            "reference_solvent_index")
    ox = {k: float(load_material(material).optics[k]) for k in keys}
    ox.update({k: float(v) for k, v in (overrides or {}).items() if v is not None})
    return np.asarray(dye_photon_rate(wl, *(ox[k] for k in keys)), dtype=np.float64)


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
        cell: "sample", "solvent" (absorbance reference) or "reference" (reference dye)
            in the flow cell.
        reference_overrides: the rig file's declared reference-dye constants
            (reference_plqy, reference_absorbance, reference_solvent_index), used by
            `reference_pl_rate`; empty = the material preset's dye.
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
        self.stage2_heater: str | None = None
        self.spectrometer: Any = None  # the ObpSpectrometerEmulator, set by it
        self.light = "lamp"
        self.cell = "sample"
        self.reference_overrides: dict[str, float] = {}
        self._reference_rate: np.ndarray | None = None
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
        """Fire scheduled actions that are due. Devices call this on every command.

        Due actions are taken off the queue under the world lock but run after releasing
        it (an action may need a line's lock; taking it under the world lock could deadlock
        with a line thread that holds its own lock and waits for the world).
        """
        with self.lock:
            now = self.now()
            due = []
            while self._scheduled and self._scheduled[0][0] <= now:
                due.append(self._scheduled.pop(0)[1])
        for action in due:
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

    def temperature_c(self, heater: str | None = None) -> float:
        """True temperature of the core heater (or of `heater`), degC; 25 if none."""
        name = heater or self.core_heater
        if name and name in self.heaters:
            return self.heaters[name].true_temperature(self.now())
        return 25.0

    def conditions(self) -> dict[str, float]:
        """The conditions the reactor currently realises, from pump flows and heaters.

        Uses `sdl.vocab.flows.conditions_from_flows` (rig stock concentrations where the
        rig file gives them, else the material's preset). No metal flow: metal_conc_mm = 0
        (solvent only).
        """
        flows = self.inlet_flows_ul_min()
        stocks = {k: v for k, v in self.stock_molar.items() if v > 0}
        out: dict[str, float]
        try:
            out = conditions_from_flows(flows, flow_chemistry(self.material, stocks),
                                        self.reactor_volume_ul)
        except FlowInfeasible:  # no core or metal flow
            q = sum(flows.values())
            out = {"residence_time_s": 60.0 * self.reactor_volume_ul / q if q > 0 else 0.0,
                   "metal_conc_mm": 0.0}
        out["temperature_c"] = self.temperature_c()
        if self.stage2_heater:
            out["shell_temperature_c"] = self.temperature_c(self.stage2_heater)
        return out

    def optics(self, wavelengths_nm: np.ndarray) -> OutletOptics:
        """Outlet optics for the current conditions (cached on rounded conditions)."""
        cond = self.conditions()
        key = tuple(sorted((k, round(v, 2)) for k, v in cond.items()))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        optics = outlet_optics(self.material, cond, self.seed, wavelengths_nm,
                               self.reactor_volume_ul)
        self._cache = (key, optics)
        return optics

    def warm_up(self) -> None:
        """Load the simulator (imports, cached compiled kernels: ~1 s) before serving, not
        inside the first spectrum: that runs under the world lock, and a second of wall
        time is `speed` emulated seconds in which no device answers (at `--speed 100`
        long enough to trip the pumps' safe-mode watchdog). Never raises."""
        wl = np.linspace(350.0, 800.0, PIXELS)
        try:
            outlet_optics(self.material, {"temperature_c": 250.0, "residence_time_s": 30.0,
                                          "metal_conc_mm": 20.0}, self.seed, wl,
                          self.reactor_volume_ul)
            self.reference_pl_rate(wl)
        except Exception as e:  # noqa: BLE001 - a failed warm-up only costs time later
            log.warning("emulator warm-up failed: %s", e)

    def reference_pl_rate(self, wavelengths_nm: np.ndarray) -> np.ndarray:
        """PL photon rate of the reference dye (`reference_dye_rate`), cached."""
        if self._reference_rate is None or len(self._reference_rate) != len(wavelengths_nm):
            self._reference_rate = reference_dye_rate(self.material, wavelengths_nm,
                                                      self.reference_overrides)
        return self._reference_rate
