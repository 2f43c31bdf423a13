"""Absorbance from raw spectrometer counts, with shot-noise standard errors and flags.

`A = -log10((S - D) / (R - D))` per pixel (S sample, R solvent reference, D dark)
[DOMAIN.md §5]. Counts are treated as Poisson photo-electron counts (gain 1 count per
electron; an optional read noise adds in quadrature). The dark spectrum is subtracted
from both S and R, so its noise enters both terms and is propagated with that
correlation:

    ln10^2 var(A) = var(S)/(S-D)^2 + var(R)/(R-D)^2 + var(D) (1/(S-D) - 1/(R-D))^2

Pixels are never silently clipped: a pixel whose S, R or D reaches the detector full
scale (`saturation_counts`, 16383 for a 14-bit converter) is flagged SATURATED; a pixel
with no lamp light in the reference (R - D within 3 sigma of zero) is flagged NO_LIGHT;
a pixel with no transmitted light (S - D within 3 sigma of zero, i.e. beyond the dynamic
range) is flagged OPAQUE. Flagged pixels carry NaN absorbance and NaN stderr.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from sdl.analysis.errors import AnalysisInputError

#: Flag bits of `AbsorbanceSpectrum.flags`.
SATURATED = 1
NO_LIGHT = 2
OPAQUE = 4

_LN10 = np.log(10.0)


@dataclass(frozen=True)
class AbsorbanceSpectrum:
    """Absorbance per pixel.

    Attributes:
        wavelengths_nm: (P,) pixel wavelengths, nm, increasing.
        absorbance: (P,) decadic absorbance (NaN where flagged).
        stderr: (P,) one-sigma shot-noise standard error (NaN where flagged).
        flags: (P,) uint8 bit set of SATURATED | NO_LIGHT | OPAQUE, 0 for a good pixel.
    """

    wavelengths_nm: np.ndarray
    absorbance: np.ndarray
    stderr: np.ndarray
    flags: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """(P,) bool: pixels with a usable absorbance."""
        return self.flags == 0

    @property
    def saturated(self) -> np.ndarray:
        """(P,) bool: pixels where any of sample, reference or dark hit full scale."""
        return (self.flags & SATURATED) != 0


@njit(cache=True, error_model="numpy")
def _absorbance_kernel(dark, ref, sample, saturation, read_var, out_a, out_se, out_flags):
    n = dark.shape[0]
    for i in range(n):
        d = dark[i]
        r = ref[i]
        s = sample[i]
        flag = 0
        if saturation > 0.0 and (d >= saturation or r >= saturation or s >= saturation):
            flag |= 1
        var_d = max(d, 0.0) + read_var
        var_r = max(r, 0.0) + read_var
        var_s = max(s, 0.0) + read_var
        rd = r - d
        sd = s - d
        if rd <= 3.0 * np.sqrt(var_r + var_d):
            flag |= 2
        elif sd <= 3.0 * np.sqrt(var_s + var_d):
            flag |= 4
        out_flags[i] = flag
        if flag != 0:
            out_a[i] = np.nan
            out_se[i] = np.nan
            continue
        out_a[i] = -np.log10(sd / rd)
        t = 1.0 / sd - 1.0 / rd
        var = var_s / (sd * sd) + var_r / (rd * rd) + var_d * t * t
        out_se[i] = np.sqrt(var) / np.log(10.0)


def _as_counts(name: str, x: object, n: int | None) -> np.ndarray:
    arr = np.ascontiguousarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise AnalysisInputError(f"{name}: expected a 1-D array of counts, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise AnalysisInputError(f"{name}: has {arr.shape[0]} pixels, expected {n}")
    if not math.isfinite(float(np.sum(arr))):  # one pass; inf - inf and NaN both show
        bad = int(np.flatnonzero(~np.isfinite(arr))[0]) if not np.all(np.isfinite(arr)) else -1
        if bad >= 0:
            raise AnalysisInputError(f"{name}: non-finite value at pixel {bad}")
        raise AnalysisInputError(f"{name}: values too large to sum (overflow)")
    return arr


def absorbance_from_counts(
    wavelengths_nm: np.ndarray,
    dark: np.ndarray,
    reference: np.ndarray,
    sample: np.ndarray,
    *,
    saturation_counts: float | None = None,
    read_noise_counts: float = 0.0,
) -> AbsorbanceSpectrum:
    """Absorbance spectrum from dark, reference and sample counts.

    Args:
        wavelengths_nm: (P,) pixel wavelengths, nm, strictly increasing.
        dark: (P,) dark counts (shutter closed), same integration time.
        reference: (P,) lamp counts through the solvent reference.
        sample: (P,) lamp counts through the sample.
        saturation_counts: detector full scale; counts at or above it are flagged
            SATURATED. None disables the check.
        read_noise_counts: one-sigma read noise per pixel per frame, counts.

    Returns:
        An `AbsorbanceSpectrum` with per-pixel absorbance, standard error and flags.

    Raises:
        AnalysisInputError: shapes differ, values are not finite, or wavelengths are not
            strictly increasing.
    """
    wl = _as_counts("wavelengths_nm", wavelengths_nm, None)
    n = wl.shape[0]
    if n >= 2 and not np.all(np.diff(wl) > 0):
        raise AnalysisInputError("wavelengths_nm: must be strictly increasing")
    d = _as_counts("dark", dark, n)
    r = _as_counts("reference", reference, n)
    s = _as_counts("sample", sample, n)
    sat = 0.0 if saturation_counts is None else float(saturation_counts)
    if not np.isfinite(sat) or sat < 0:
        raise AnalysisInputError(f"saturation_counts: must be a positive number, got {sat}")
    rn = float(read_noise_counts)
    if not np.isfinite(rn) or rn < 0:
        raise AnalysisInputError(f"read_noise_counts: must be >= 0, got {rn}")
    a = np.empty(n)
    se = np.empty(n)
    flags = np.empty(n, dtype=np.uint8)
    _absorbance_kernel(d, r, s, sat, rn * rn, a, se, flags)
    return AbsorbanceSpectrum(wl, a, se, flags)


def absorptance(absorbance: float) -> float:
    """Fraction of light absorbed, `f = 1 - 10^-A` [DOMAIN.md §5]."""
    return 1.0 - 10.0 ** (-absorbance)
