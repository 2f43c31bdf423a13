"""Parameter types of the photon-stream generator and their validation (`simulator.photons`).

`EmitterParams` (one dot), `Excitation` (laser) and `DetectorParams` (HBT setup) are
plain frozen dataclasses; `validate_*` raise ValueError naming the field and the allowed
range, so the numba kernels never see bad input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class EmitterParams:
    """One quantum dot.

    Attributes:
        tau_x_ns: exciton lifetime, ns, [1e-9, 1e6].
        eta_x: exciton emission quantum yield in the on state, [0, 1].
        eta_xx: biexciton emission quantum yield k_rXX / (k_rXX + k_Auger), [0, 1].
        tau_xx_ns: biexciton lifetime 1 / (k_rXX + k_Auger), ns, [1e-9, 1e6].
        blinking: gate the yields by an on/off blinking trajectory.
        alpha_on, alpha_off: exponents of the truncated power-law dwell-time densities
            p(t) ∝ t^-alpha on [t_min_s, t_max_s] (> 0; ~1.5, range 1.2–2.0).
        t_min_s, t_max_s: truncation of the dwell times, s (0 < t_min < t_max).
        off_eta_scale: multiplier of both yields in the off state, [0, 1].
        multiexciton_ladder: pulsed mode: every excitation above the biexciton adds one
            photon with yield eta_xx (triexcitons and higher, `simulator.dot`); False
            saturates at the biexciton (the SIMULATOR.md formula). Ignored for cw.
    """

    tau_x_ns: float
    eta_x: float
    eta_xx: float
    tau_xx_ns: float
    blinking: bool = True
    alpha_on: float = 1.5
    alpha_off: float = 1.5
    t_min_s: float = 1e-4
    t_max_s: float = 10.0
    off_eta_scale: float = 0.0
    multiexciton_ladder: bool = False


@dataclass(frozen=True)
class Excitation:
    """Laser excitation.

    Attributes:
        mode: "pulsed" or "cw".
        rep_rate_hz: pulse repetition rate, Hz (> 0 for pulsed; ignored for cw).
        mean_excitations: pulsed: mean number of excitations per pulse <N> (Poisson);
            cw: mean excitations per exciton lifetime (excitation rate = <N> / tau_X). >= 0.
    """

    mode: str
    rep_rate_hz: float
    mean_excitations: float


@dataclass(frozen=True)
class DetectorParams:
    """Hanbury Brown–Twiss setup: two identical detectors behind a 50/50 beamsplitter.

    Attributes:
        collection_efficiency: fraction of emitted photons reaching the beamsplitter, [0, 1].
        detector_efficiency: detection efficiency of each detector, [0, 1].
        jitter_ps: Gaussian timing jitter (sigma) per click, ps (>= 0).
        dead_time_ns: non-paralysable dead time per detector, ns (>= 0).
        dark_rate_hz: dark-count rate per detector, Hz (>= 0).
        afterpulse_prob: probability that a click is followed by an afterpulse, [0, 1).
        afterpulse_delay_ns: mean of the exponential afterpulse delay, ns (> 0). Afterpulses
            falling inside the dead time are lost, as on a real detector.
        background_rate_hz: uncorrelated background clicks per detector (before dead time), Hz.
        cable_delay_ps: extra fixed delay added to every channel-1 time tag, ps (int >= 0).
    """

    collection_efficiency: float = 0.05
    detector_efficiency: float = 0.6
    jitter_ps: float = 50.0
    dead_time_ns: float = 22.0
    dark_rate_hz: float = 100.0
    afterpulse_prob: float = 0.005
    afterpulse_delay_ns: float = 100.0
    background_rate_hz: float = 0.0
    cable_delay_ps: int = 0


@dataclass(frozen=True)
class PhotonStream:
    """A simulated time-tagged photon stream.

    Attributes:
        timestamps_ps: (N,) int64 detection times, ps from the start, non-decreasing.
        channels: (N,) uint8 detector index 0 or 1.
        sync_period_ps: laser period, ps (pulse k fires at k * sync_period_ps); 0 for cw.
        duration_s: simulated span, s (pulsed: a whole number of laser periods, <= the
            requested duration); clicks lie in [0, duration) plus the channel-1 cable delay.
        truth: hidden ground truth (see `photon_stream`).
    """

    timestamps_ps: np.ndarray
    channels: np.ndarray
    sync_period_ps: int
    duration_s: float
    truth: dict[str, Any]


# ----------------------------------------------------------------------------- validation


def check_real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """Return value as float or raise ValueError naming the parameter and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    lo_s = "(" if low_open else "["
    hi_s = ")" if high_open else "]"
    rng = f"{lo_s}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_s}"
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}; allowed {rng}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} = {value!r} is out of range; allowed {rng}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} = {value!r} is out of range; allowed {rng}")
    return v


def validate_emitter(e: EmitterParams) -> None:
    if not isinstance(e, EmitterParams):
        raise ValueError(f"emitter must be an EmitterParams, got {type(e).__name__}")
    check_real("emitter.tau_x_ns", e.tau_x_ns, low=1e-9, high=1e6)
    check_real("emitter.eta_x", e.eta_x, low=0.0, high=1.0)
    check_real("emitter.eta_xx", e.eta_xx, low=0.0, high=1.0)
    check_real("emitter.tau_xx_ns", e.tau_xx_ns, low=1e-9, high=1e6)
    if not isinstance(e.blinking, (bool, np.bool_)):
        raise ValueError(f"emitter.blinking must be a bool, got {e.blinking!r}")
    check_real("emitter.alpha_on", e.alpha_on, low=0.0, high=10.0, low_open=True)
    check_real("emitter.alpha_off", e.alpha_off, low=0.0, high=10.0, low_open=True)
    t_min = check_real("emitter.t_min_s", e.t_min_s, low=0.0, low_open=True)
    t_max = check_real("emitter.t_max_s", e.t_max_s, low=0.0, low_open=True)
    if not t_min < t_max:
        raise ValueError(f"emitter.t_min_s ({t_min}) must be smaller than t_max_s ({t_max})")
    if t_min < 1e-9:
        raise ValueError(f"emitter.t_min_s = {t_min} s is below 1 ns; allowed [1e-9, t_max_s)")
    check_real("emitter.off_eta_scale", e.off_eta_scale, low=0.0, high=1.0)
    if not isinstance(e.multiexciton_ladder, (bool, np.bool_)):
        raise ValueError(f"emitter.multiexciton_ladder must be a bool, got {e.multiexciton_ladder!r}")


def validate_excitation(x: Excitation) -> None:
    if not isinstance(x, Excitation):
        raise ValueError(f"excitation must be an Excitation, got {type(x).__name__}")
    if x.mode not in ("pulsed", "cw"):
        raise ValueError(f"excitation.mode must be 'pulsed' or 'cw', got {x.mode!r}")
    if x.mode == "pulsed":
        check_real("excitation.rep_rate_hz", x.rep_rate_hz, low=0.0, high=1e11, low_open=True)
    else:
        check_real("excitation.rep_rate_hz", x.rep_rate_hz, low=0.0)
    check_real("excitation.mean_excitations", x.mean_excitations, low=0.0, high=1e3)


def validate_detectors(d: DetectorParams) -> None:
    if not isinstance(d, DetectorParams):
        raise ValueError(f"detectors must be a DetectorParams, got {type(d).__name__}")
    check_real("detectors.collection_efficiency", d.collection_efficiency, low=0.0, high=1.0)
    check_real("detectors.detector_efficiency", d.detector_efficiency, low=0.0, high=1.0)
    check_real("detectors.jitter_ps", d.jitter_ps, low=0.0, high=1e6)
    check_real("detectors.dead_time_ns", d.dead_time_ns, low=0.0, high=1e9)
    check_real("detectors.dark_rate_hz", d.dark_rate_hz, low=0.0)
    check_real("detectors.afterpulse_prob", d.afterpulse_prob, low=0.0, high=1.0, high_open=True)
    check_real("detectors.afterpulse_delay_ns", d.afterpulse_delay_ns, low=0.0, low_open=True)
    check_real("detectors.background_rate_hz", d.background_rate_hz, low=0.0)
    if isinstance(d.cable_delay_ps, bool) or not isinstance(d.cable_delay_ps, (int, np.integer)):
        raise ValueError(f"detectors.cable_delay_ps must be an int (ps), got {d.cable_delay_ps!r}")
    if not 0 <= int(d.cable_delay_ps) <= 10**12:
        raise ValueError(
            f"detectors.cable_delay_ps = {d.cable_delay_ps} is out of range; allowed [0, 1e12] ps"
        )
