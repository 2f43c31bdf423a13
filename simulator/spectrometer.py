"""Inline spectrometer model (Ocean Insight STS-VIS-like, 1024 pixels, 14-bit).

counts = dark + lamp x 10^(-A) for absorbance (DOMAIN s5: A = -log10((S - D)/(R - D)));
PL counts = dark + gain x photons, with photon shot noise, read noise and 14-bit
saturation at 16383 counts. Each run draws a wavelength-calibration offset ~0.3 nm rms:
the reported pixel wavelengths stay nominal while the light is evaluated at the shifted
ones (as a drifting calibration does).

Numbers: STS-VIS 350-800 nm, 1024 px, 14-bit ADC (Ocean Insight STS data sheet); the
lamp is a halogen (2900 K blackbody) plus a deuterium UV continuum (DH-mini style).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sdl.vocab.constants import STS_FULL_SCALE_COUNTS

N_PIXELS = 1024
SATURATION_COUNTS = STS_FULL_SCALE_COUNTS
# Nominal wavelength calibration lambda(p) = c0 + c1 p + c2 p^2 (nm).
CAL_COEFFS = (339.5, 0.4735, -1.2e-5)


def nominal_wavelengths(n_pixels: int = N_PIXELS) -> np.ndarray:
    """(P,) nominal pixel wavelengths, nm (increasing, ~340-811 nm)."""
    p = np.arange(n_pixels, dtype=np.float64)
    c0, c1, c2 = CAL_COEFFS
    return c0 + c1 * p + c2 * p * p


def lamp_shape(wavelengths_nm: np.ndarray) -> np.ndarray:
    """(P,) relative lamp spectrum at the detector, peak ~1: halogen + deuterium."""
    lam = np.asarray(wavelengths_nm, dtype=np.float64) * 1e-9
    h, c, k = 6.62607015e-34, 2.99792458e8, 1.380649e-23
    bb = 1.0 / (lam**5 * np.expm1(h * c / (lam * k * 2900.0)))
    bb = bb / bb.max()
    d2 = 0.25 * np.exp(-((wavelengths_nm - 340.0) / 60.0) ** 2)
    resp = np.exp(-0.5 * ((wavelengths_nm - 560.0) / 260.0) ** 2)   # grating x CCD response
    s = (bb + d2) * resp
    return s / s.max()


@dataclass(frozen=True)
class SpectrometerSettings:
    """Detector and source constants.

    Attributes:
        dark_offset_counts: electronic offset per pixel.
        dark_current_counts_s: thermal dark counts per second.
        read_noise_counts: rms read noise.
        gain_counts_per_photon: counts per detected photoelectron.
        lamp_counts_s: lamp counts per second at the lamp peak through solvent.
        abs_integration_s: absorbance-channel integration time.
        pl_counts_scale: PL counts per second per unit `pl_photon_rate` (photons per
            excitation photon per pixel, divided by n^2).
        pl_min_integration_s, pl_max_integration_s: autoexposure limits.
        calibration_jitter_nm: rms of the per-run wavelength offset.
    """

    dark_offset_counts: float = 950.0
    dark_current_counts_s: float = 40.0
    read_noise_counts: float = 6.0
    gain_counts_per_photon: float = 0.5
    lamp_counts_s: float = 2.4e6
    abs_integration_s: float = 0.005
    pl_counts_scale: float = 4.0e7
    pl_min_integration_s: float = 0.002
    pl_max_integration_s: float = 10.0
    calibration_jitter_nm: float = 0.3


def fixed_pattern(rig_seed: int, n_pixels: int = N_PIXELS) -> np.ndarray:
    """(P,) per-pixel dark fixed pattern (counts) of one detector, from the rig seed."""
    rng = np.random.default_rng([rig_seed, 0x5E5])
    return rng.normal(0.0, 12.0, n_pixels)


def _read(rng: np.random.Generator, signal_counts: np.ndarray, dark: np.ndarray,
          s: SpectrometerSettings) -> np.ndarray:
    """Counts of one exposure: dark + gain x Poisson(signal / gain) + read noise, clipped."""
    photons = rng.poisson(np.maximum(signal_counts, 0.0) / s.gain_counts_per_photon)
    counts = dark + s.gain_counts_per_photon * photons + rng.normal(0.0, s.read_noise_counts,
                                                                    dark.shape)
    return np.clip(np.round(counts), 0.0, SATURATION_COUNTS)


def dark_level(pattern: np.ndarray, integration_s: float, s: SpectrometerSettings) -> np.ndarray:
    """(P,) expected dark counts for an integration time."""
    return s.dark_offset_counts + pattern + s.dark_current_counts_s * integration_s


def measure_absorbance(rng: np.random.Generator, absorbance: np.ndarray, lamp: np.ndarray,
                       pattern: np.ndarray, s: SpectrometerSettings
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dark, reference, sample) counts for the absorbance channel."""
    t = s.abs_integration_s
    dark0 = dark_level(pattern, t, s)
    ref_sig = s.lamp_counts_s * t * lamp
    samp_sig = ref_sig * 10.0 ** (-np.clip(absorbance, -1.0, 12.0))
    zero = np.zeros_like(dark0)
    dark = _read(rng, zero, dark0, s)
    ref = _read(rng, ref_sig, dark0, s)
    sample = _read(rng, samp_sig, dark0, s)
    return dark, ref, sample


def autoexposure(peak_rate_counts_s: float, dark_counts: float, s: SpectrometerSettings) -> float:
    """Integration time (s) putting the brightest pixel at ~70 % of full scale."""
    if peak_rate_counts_s <= 0:
        return s.pl_max_integration_s
    t = 0.7 * (SATURATION_COUNTS - dark_counts) / peak_rate_counts_s
    t = min(max(t, s.pl_min_integration_s), s.pl_max_integration_s)
    return float(f"{t:.3g}")      # a value a user would type


def measure_pl(rng: np.random.Generator, rate_counts_s: np.ndarray, integration_s: float,
               pattern: np.ndarray, s: SpectrometerSettings) -> tuple[np.ndarray, np.ndarray]:
    """(dark, sample) PL counts at `integration_s`."""
    dark0 = dark_level(pattern, integration_s, s)
    dark = _read(rng, np.zeros_like(dark0), dark0, s)
    sample = _read(rng, rate_counts_s * integration_s, dark0, s)
    return dark, sample


def dye_photon_rate(wavelengths_nm: np.ndarray, peak_nm: float, fwhm_nm: float, plqy: float,
                    absorbance: float, solvent_index: float) -> np.ndarray:
    """(P,) reference-dye `pl_photon_rate`: (1 - 10^-A) x QY x shape / n^2.

    The emission band is Gaussian in energy with a vibronic shoulder (0.17 eV below, 30 %),
    the usual shape of xanthene dyes (rhodamine 6G, fluorescein).
    """
    from simulator.optics import HC_EV_NM, spectral_photons
    e = HC_EV_NM / wavelengths_nm
    e0 = HC_EV_NM / peak_nm
    fw = HC_EV_NM / (peak_nm - fwhm_nm / 2) - HC_EV_NM / (peak_nm + fwhm_nm / 2)
    shape = spectral_photons(e, wavelengths_nm, np.array([e0, e0 - 0.17]),
                             np.array([fw, 1.3 * fw]), np.array([0.77, 0.23]))
    absorbed = -math.expm1(-absorbance * math.log(10.0))
    return absorbed * plqy * shape / solvent_index**2
