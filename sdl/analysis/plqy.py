"""Relative photoluminescence quantum yield against a reference dye.

`Phi = Phi_ref (F / F_ref) (f_ref / f) (n^2 / n_ref^2)` with absorptance
`f = 1 - 10^-A` at the excitation wavelength [DOMAIN.md §5; the standard relative method,
e.g. Würth, Grabolle, Pauli, Spieles, Resch-Genger, Nat. Protoc. 8, 1535 (2013)].
F and F_ref are integrated PL photon counts recorded with the same spectrometer settings.
Standard errors: Poisson shot noise of the integrated counts (sample and dark) and the
absorbance error at the excitation wavelength, propagated to first order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sdl.analysis.estimate import Estimate, NoOutcome

_LN10 = math.log(10.0)


def integrated_counts(
    wavelengths_nm: np.ndarray,
    sample: np.ndarray,
    dark: np.ndarray,
    *,
    low_nm: float = -math.inf,
    high_nm: float = math.inf,
) -> Estimate:
    """Dark-subtracted PL counts summed over pixels in [low_nm, high_nm].

    Summing counts per pixel counts detected photons, whatever the pixel width, so no
    Jacobian is needed for an area in photons.

    Args:
        wavelengths_nm: (P,) pixel wavelengths, nm.
        sample: (P,) PL counts.
        dark: (P,) dark counts, same integration time.
        low_nm: lower wavelength bound, nm (e.g. just above the excitation line).
        high_nm: upper wavelength bound, nm.

    Returns:
        Total net counts with the Poisson standard error sqrt(sum(S + D)).
    """
    wl = np.ascontiguousarray(wavelengths_nm, dtype=np.float64)
    s = np.ascontiguousarray(sample, dtype=np.float64)
    d = np.ascontiguousarray(dark, dtype=np.float64)
    total, var = _sum_counts(wl, s, d, float(low_nm), float(high_nm))
    return Estimate(float(total), math.sqrt(var))


@njit(cache=True, error_model="numpy")
def _sum_counts(wl, s, d, low, high):
    """(sum of s - d, sum of max(s, 0) + max(d, 0)) over pixels with low <= wl <= high."""
    total = 0.0
    var = 0.0
    for k in range(wl.shape[0]):
        if low <= wl[k] <= high:
            total += s[k] - d[k]
            var += max(s[k], 0.0) + max(d[k], 0.0)
    return total, var


def absorptance_estimate(absorbance: Estimate) -> Estimate:
    """Absorptance `f = 1 - 10^-A` with its propagated error (`df/dA = ln10 10^-A`)."""
    t = 10.0 ** (-absorbance.value)
    return Estimate(1.0 - t, _LN10 * t * absorbance.stderr)


def relative_plqy(
    sample_counts: Estimate,
    reference_counts: Estimate,
    sample_absorbance: Estimate,
    reference_absorbance: Estimate,
    reference_plqy: float,
    solvent_index: float,
    reference_solvent_index: float,
) -> Estimate | NoOutcome:
    """Relative PLQY of a sample against a reference dye.

    Args:
        sample_counts: integrated PL counts F of the sample.
        reference_counts: integrated PL counts F_ref of the reference dye, same settings.
        sample_absorbance: sample absorbance at the excitation wavelength.
        reference_absorbance: reference absorbance at the excitation wavelength.
        reference_plqy: quantum yield of the reference dye, 0..1.
        solvent_index: refractive index n of the sample's solvent.
        reference_solvent_index: refractive index n_ref of the reference's solvent.

    Returns:
        Phi (0..1 for physical samples; not clipped), or NoOutcome with reason
        "no_absorbance_at_excitation" (sample absorptance not above 3 sigma),
        "no_reference_signal" (reference counts not above 3 sigma) or "bad_reference".
    """
    f = absorptance_estimate(sample_absorbance)
    f_ref = absorptance_estimate(reference_absorbance)
    if not f.value > 3.0 * f.stderr or f.value <= 0:
        return NoOutcome("no_absorbance_at_excitation",
                         f"sample absorptance {f.value:.3g} +- {f.stderr:.2g} at excitation")
    if not reference_counts.value > 3.0 * reference_counts.stderr or reference_counts.value <= 0:
        return NoOutcome("no_reference_signal", "reference dye PL not above noise")
    if f_ref.value <= 0 or reference_plqy <= 0 or solvent_index <= 0 or reference_solvent_index <= 0:
        return NoOutcome("bad_reference", "reference absorbance, PLQY and indices must be > 0")
    k = (reference_plqy / reference_counts.value * (f_ref.value / f.value)
         * (solvent_index / reference_solvent_index) ** 2)
    phi = k * sample_counts.value
    rel2 = ((reference_counts.stderr / reference_counts.value) ** 2
            + (f.stderr / f.value) ** 2 + (f_ref.stderr / f_ref.value) ** 2)
    return Estimate(phi, math.sqrt((k * sample_counts.stderr) ** 2 + phi * phi * rel2))
