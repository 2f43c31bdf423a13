"""Campaign drift, equipment failures, clogging and unviable-chemistry reason codes.

Everything is seeded: the drift of run k depends only on the rig seed and k; failure draws
come from the per-run generator (rig seed, experiment id, run index). Numbers
(SIMULATOR.md "Noise, drift and failure"): precursor reactivity random walk ~ +/-10 % per
day (~100 runs/day -> 1 % per run), a slow temperature offset (controller/thermocouple
drift, bounded +/-3 degC), pump bias (per-inlet calibration drift, bounded +/-3 %), random
equipment failure at the configured rate (1-3 %), clog hazard rising with concentration,
temperature and a fouling state that builds across runs and resets on a flush.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

EQUIPMENT_REASONS = (
    ("equipment:pump_stall", "a syringe pump stalled (motor stall alarm)"),
    ("equipment:heater_fault", "the core heater tripped its over-temperature alarm"),
    ("equipment:spectrometer_timeout", "the spectrometer did not answer within its timeout"),
    ("equipment:lamp_fault", "the absorbance lamp intensity dropped below threshold"),
    ("equipment:bubble", "a gas bubble in the flow cell spoiled the acquisition"),
)
UNVIABLE_REASONS = {
    "no_nucleation": "supersaturation never reached the nucleation threshold: no particles",
    "bulk_like": "particles grew beyond the confinement regime (bulk-like, no exciton)",
    "wrong_phase": "a non-emissive perovskite phase formed (Cs4PbBr6 / CsPb2Br5)",
    "halide_segregation": "mixed-halide dots photo-segregated into two emitting phases",
}


def stable_hash(*parts: object) -> int:
    """64-bit integer from sha256 of the parts' reprs (stable across processes, unlike hash())."""
    h = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "little")


def run_rng(seed: int, experiment_id: str, run_index: int, stream: str) -> np.random.Generator:
    """Independent generator for one named stream of one run."""
    return np.random.default_rng(stable_hash(int(seed), str(experiment_id), int(run_index),
                                             stream))


@dataclass(frozen=True)
class DriftState:
    """Slow campaign drift at one run.

    Attributes:
        reactivity: multiplier on the precursor conversion rate (1 = nominal).
        temperature_offset_c: true minus set temperature, degC.
        pump_bias: per-inlet multiplicative flow error (1 = exact).
    """

    reactivity: float = 1.0
    temperature_offset_c: float = 0.0
    pump_bias: Mapping[str, float] = field(default_factory=dict)


class CampaignDrift:
    """Seeded random walks; `at(k)` is the drift of run k (deterministic in seed and k)."""

    REACTIVITY_STEP = 0.01        # log-reactivity step per run (~10 %/day at ~100 runs/day)
    REACTIVITY_BOUND = 0.25
    TEMP_STEP_C = 0.15
    TEMP_PERSIST = 0.98
    TEMP_BOUND_C = 3.0
    PUMP_STEP = 0.003
    PUMP_PERSIST = 0.99
    PUMP_BOUND = 0.03
    INLETS = ("metal", "anion", "ligand", "dopant", "shell", "exchange", "solvent")

    def __init__(self, seed: int, enabled: bool = True):
        self.seed = int(seed)
        self.enabled = enabled
        self._states: list[DriftState] = [DriftState(1.0, 0.0, {k: 1.0 for k in self.INLETS})]
        self._rng = np.random.default_rng(stable_hash(self.seed, "campaign-drift"))
        self._log_r = 0.0
        self._temp = 0.0
        self._pump = np.zeros(len(self.INLETS))

    def at(self, run_index: int) -> DriftState:
        """Drift state of run `run_index` (0-based)."""
        if not self.enabled:
            return self._states[0]
        while len(self._states) <= run_index:
            z = self._rng.standard_normal(2 + len(self.INLETS))
            self._log_r = float(np.clip(self._log_r + self.REACTIVITY_STEP * z[0],
                                        -self.REACTIVITY_BOUND, self.REACTIVITY_BOUND))
            self._temp = float(np.clip(self.TEMP_PERSIST * self._temp + self.TEMP_STEP_C * z[1],
                                       -self.TEMP_BOUND_C, self.TEMP_BOUND_C))
            self._pump = np.clip(self.PUMP_PERSIST * self._pump + self.PUMP_STEP * z[2:],
                                 -self.PUMP_BOUND, self.PUMP_BOUND)
            self._states.append(DriftState(
                math.exp(self._log_r), self._temp,
                {k: float(1.0 + b) for k, b in zip(self.INLETS, self._pump, strict=True)}))
        return self._states[run_index]


def clog_hazard(faults: Mapping[str, float], metal_conc_mm: float, temperature_c: float,
                residence_time_s: float, fouling: float, reference_temperature_c: float) -> float:
    """Per-run clog hazard h (probability 1 - exp(-h)).

    h = h0 (c / c_ref)^n exp((T - T_ref) / T_s) sqrt(tau / 120 s) (1 + fouling)^2: more
    material and hotter walls deposit faster, longer runs deposit more, and deposits
    already on the wall (fouling) narrow the tube.
    """
    c = max(metal_conc_mm, 1e-3) / faults["clog_reference_mm"]
    return (faults["clog_base_per_run"] * c ** faults["clog_concentration_order"]
            * math.exp((temperature_c - reference_temperature_c) / faults["clog_temperature_scale_c"])
            * math.sqrt(max(residence_time_s, 1.0) / 120.0) * (1.0 + fouling) ** 2)


def fouling_increment(faults: Mapping[str, float], metal_conc_mm: float, temperature_c: float,
                      reference_temperature_c: float, unviable: bool) -> float:
    """Wall deposit added by one run (relative units; 1 doubles the clog hazard x4)."""
    c = max(metal_conc_mm, 1e-3) / faults["clog_reference_mm"]
    inc = faults["fouling_per_run"] * c * math.exp(
        (temperature_c - reference_temperature_c) / faults["clog_temperature_scale_c"]) * 0.1
    return inc * (3.0 if unviable else 1.0)
