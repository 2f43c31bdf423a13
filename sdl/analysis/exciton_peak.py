"""The first excitonic (1S) absorption peak and the red-side half width of its band.

On the rising continuum of higher transitions the 1S is often only a shoulder, so it is
located as the longest-wavelength significant minimum of the Savitzky-Golay second
derivative (Savitzky & Golay, Anal. Chem. 36, 1627 (1964)), then refined by a local
weighted least-squares quartic in photon energy, `p(u) = sum a_k u^k`: the minimum of
`p''` sits at `u0 = -a3 / (4 a4)`. A linear or quadratic continuum changes only `a0..a2`,
so `u0` is unbiased by it, and for any symmetric band in a centred window `a3 = 0` exactly
(the window is re-centred until it converges). Standard errors come from the fit
covariance (known per-pixel shot-noise weights, scaled by the reduced chi-square when
that exceeds 1) by the delta method. The red-side half width at half maximum of the 1S
band (towards low energy, away from higher transitions) gives the size dispersion
(`sdl.analysis.sizing`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sdl.analysis.errors import AnalysisInputError
from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.spectral_kernels import (
    fir_at,
    fir_filter,
    odd_window,
    savgol_coeffs,
    wpolyfit,
)
from sdl.vocab.constants import HC_EV_NM

__all__ = ["ExcitonPeak", "first_exciton_peak"]


@dataclass(frozen=True)
class ExcitonPeak:
    """The first excitonic absorption peak.

    Attributes:
        wavelength_nm: peak wavelength, nm (`hc / energy_ev`).
        energy_ev: peak photon energy, eV.
        absorbance: absorbance at the peak (band plus underlying continuum).
        hwhm_red_ev: half width at half maximum on the low-energy side, eV, or a
            NoOutcome when the red edge is not measurable.
    """

    wavelength_nm: Estimate
    energy_ev: Estimate
    absorbance: Estimate
    hwhm_red_ev: Estimate | NoOutcome


@njit(cache=True, error_model="numpy")
def _significant_minimum(d2, var_d2, a_s, var_as, i, min_sig, min_abs):
    """Whether pixel i (0 < i < P-1) is a local minimum of the second derivative, below
    -min_sig of its error, where the smoothed absorbance is above min_abs and min_sig
    of its own error."""
    v = d2[i]
    if not (np.isfinite(v) and np.isfinite(d2[i - 1]) and np.isfinite(d2[i + 1])):
        return False
    if v < d2[i - 1] and v <= d2[i + 1] and v < -min_sig * np.sqrt(var_d2[i]):
        return a_s[i] > min_abs and a_s[i] > min_sig * np.sqrt(var_as[i])
    return False


@njit(cache=True, error_model="numpy")
def _exciton_candidate(d2, var_d2, a_s, var_as, min_sig, min_abs, rel_depth):
    """Index of the longest-wavelength significant second-derivative minimum at least
    rel_depth as deep as the deepest one, or -1."""
    n = d2.shape[0]
    deepest = 0.0
    for i in range(1, n - 1):
        if _significant_minimum(d2, var_d2, a_s, var_as, i, min_sig, min_abs) and -d2[i] > deepest:
            deepest = -d2[i]
    if deepest == 0.0:
        return -1
    for i in range(n - 2, 0, -1):
        if (_significant_minimum(d2, var_d2, a_s, var_as, i, min_sig, min_abs)
                and -d2[i] >= rel_depth * deepest):
            return i
    return -1


@njit(cache=True, error_model="numpy")
def _zero_crossing(d2, i, step):
    """First index from i (moving by step) where d2 >= 0 or is NaN; -1 at the end."""
    n = d2.shape[0]
    j = i
    while 0 <= j < n:
        if not np.isfinite(d2[j]) or d2[j] >= 0.0:
            return j
        j += step
    return -1


@njit(cache=True, error_model="numpy")
def _refine_center(energy, a, var, ec, half_window, max_iter):
    """Re-centred local quartic fits (window |E - ec| <= half_window) until the minimum
    of p'' sits at the window centre; each step moves at most a third of the window.
    Returns (coef, cov, npts, chi2, centre_of_last_fit, u0, status); status 0 ok,
    1 too few pixels, 2 no curvature minimum (a4 <= 0)."""
    n = energy.shape[0]
    coef = np.full(5, np.nan)
    cov = np.full((5, 5), np.nan)
    npts = 0
    chi2 = np.nan
    u0 = np.nan
    xc = ec
    for _ in range(max_iter):
        lo = -1
        hi = -1
        for k in range(n):
            if abs(energy[k] - ec) <= half_window:
                if lo < 0:
                    lo = k
                hi = k
        if lo < 0 or hi - lo + 1 < 9:
            return coef, cov, npts, chi2, xc, u0, 1
        coef, cov, npts, chi2 = wpolyfit(energy, a, var, lo, hi + 1, ec, half_window, 4)
        xc = ec
        if npts < 9 or not np.isfinite(coef[4]) or coef[4] <= 0.0:
            return coef, cov, npts, chi2, xc, u0, 2
        u0 = -coef[3] / (4.0 * coef[4])
        if abs(u0) < 1e-3:
            break
        ec = ec + min(max(u0, -0.33), 0.33) * half_window
    return coef, cov, npts, chi2, xc, u0, 0


@njit(cache=True, error_model="numpy")
def _height_kernel(energy, a, var, e0, half):
    """Value at e0 (and its variance, chi2-scaled) of a weighted quadratic over
    |E - e0| <= half, widened to the 5 nearest pixels if fewer fall inside."""
    n = energy.shape[0]
    lo = -1
    hi = -1
    nearest = 0
    best = np.inf
    for k in range(n):
        d = abs(energy[k] - e0)
        if d < best:
            best = d
            nearest = k
        if d <= half:
            if lo < 0:
                lo = k
            hi = k
    if lo < 0 or hi - lo + 1 < 5:
        lo = max(nearest - 2, 0)
        hi = min(lo + 4, n - 1)
        lo = max(hi - 4, 0)
    coef, cov, npts, chi2 = wpolyfit(energy, a, var, lo, hi + 1, e0, half, 2)
    if npts < 5 or not np.isfinite(coef[0]):
        return np.nan, np.nan
    red = chi2 / (npts - 3)
    if red < 1.0:
        red = 1.0
    return coef[0], red * cov[0, 0]


def first_exciton_peak(
    wavelengths_nm: np.ndarray,
    absorbance: np.ndarray,
    stderr: np.ndarray,
    *,
    smooth_nm: float = 12.0,
    min_significance: float = 5.0,
    min_absorbance: float = 0.005,
    relative_depth: float = 0.1,
    range_nm: tuple[float, float] | None = None,
) -> ExcitonPeak | NoOutcome:
    """Locate the first excitonic (lowest-energy) absorption peak.

    Args:
        wavelengths_nm: (P,) increasing pixel wavelengths, nm.
        absorbance: (P,) absorbance; NaN marks unusable (flagged) pixels.
        stderr: (P,) one-sigma absorbance error; NaN where absorbance is NaN.
        smooth_nm: narrowest Savitzky-Golay window for the second derivative, nm (about
            half the narrowest expected 1S FWHM); 2x and 3x wider windows are tried in
            turn when no significant feature is found.
        min_significance: a candidate's second derivative and absorbance must exceed
            this many standard errors.
        min_absorbance: smallest absorbance accepted as a band, absolute.
        relative_depth: candidates shallower than this fraction of the deepest
            second-derivative minimum are ignored (noise, weak tails).
        range_nm: optional (low, high) search window, nm.

    Returns:
        An `ExcitonPeak`, or NoOutcome with reason "too_few_pixels", "flat_spectrum",
        "no_peak" or "fit_failed".
    """
    wl = np.ascontiguousarray(wavelengths_nm, dtype=np.float64)
    a = np.ascontiguousarray(absorbance, dtype=np.float64)
    se = np.ascontiguousarray(stderr, dtype=np.float64)
    if not (wl.ndim == a.ndim == se.ndim == 1 and wl.shape == a.shape == se.shape):
        raise AnalysisInputError("wavelengths, absorbance and stderr must be 1-D, same length")
    n = wl.shape[0]
    step = (wl[-1] - wl[0]) / (n - 1) if n > 1 else 0.0
    win = odd_window(smooth_nm, step, 7)
    if n < 2 * win + 3:
        return NoOutcome("too_few_pixels", f"{n} pixels; need at least {2 * win + 3}")
    var = se * se
    if range_nm is not None:
        outside = (wl < range_nm[0]) | (wl > range_nm[1])
        if np.any(outside):
            a = a.copy()
            a[outside] = np.nan
            var = var.copy()
            var[outside] = np.nan
    d2 = np.empty(n)
    var_d2 = np.empty(n)
    a_s = np.empty(n)
    var_as = np.empty(n)
    # multi-scale: broad or weak bands need a wider window for a significant 2nd
    # derivative (its noise falls as window^-2.5); the narrowest window that finds a
    # candidate wins, so narrow bands keep their resolution
    for scale in (1, 2, 3):
        w = odd_window(scale * smooth_nm, step, 7)
        if n < 2 * w + 3:
            break
        win = w
        fir_filter(a, var, savgol_coeffs(win, 3, 2), d2, var_d2)
        fir_filter(a, var, savgol_coeffs(win, 3, 0), a_s, var_as)
        i = _exciton_candidate(d2, var_d2, a_s, var_as, min_significance, min_absorbance,
                               relative_depth)
        if i >= 0:
            break
    if i < 0:
        finite = np.isfinite(a_s)
        if not np.any(finite) or np.nanmax(a_s) < min_absorbance or not np.any(
            a_s[finite] > min_significance * np.sqrt(var_as[finite])
        ):
            return NoOutcome("flat_spectrum", "no absorbance above noise")
        return NoOutcome("no_peak", "no significant excitonic feature (second derivative)")
    energy = HC_EV_NM / wl
    left = _zero_crossing(d2, i, -1)
    right = _zero_crossing(d2, i, 1)
    min_half = 4.0 * abs(energy[i] - energy[min(i + 1, n - 1)])
    if left >= 0 and right >= 0:
        sigma_e = max(abs(energy[left] - energy[right]) / 2.0, min_half)
    else:
        sigma_e = max(abs(energy[max(i - win, 0)] - energy[min(i + win, n - 1)]) / 2.0,
                      min_half)
    half_window = 2.0 * sigma_e
    coef, cov, npts, chi2, xc, u0, status = _refine_center(energy, a, var, energy[i],
                                                           half_window, 8)
    if status == 1:
        return NoOutcome("fit_failed", "too few pixels around the excitonic feature")
    if status == 2:
        return NoOutcome("fit_failed", "local quartic has no curvature minimum")
    if abs(u0) > 0.5:
        return NoOutcome("fit_failed", "local fit did not converge on the excitonic feature")
    red = max(chi2 / max(npts - 5, 1), 1.0)
    g = np.array([-1.0 / (4.0 * coef[4]), coef[3] / (4.0 * coef[4] ** 2)])
    c34 = cov[3:5, 3:5]
    var_e0 = red * float(g @ c34 @ g) * half_window**2
    e0 = xc + u0 * half_window
    # peak height: a quadratic through the top (|E - E0| <= sigma/2, at least 5 pixels),
    # where truncating the band's Taylor series costs < 0.2 %; the wide quartic above
    # locates the centre but underestimates a Gaussian's height by ~1.5 %
    a_pk, var_apk = _height_at(energy, a, var, e0, 0.5 * sigma_e)
    if not np.isfinite(a_pk):
        pw = u0 ** np.arange(5)
        a_pk = float(pw @ coef)
        var_apk = red * float(pw @ cov @ pw)
    lam0 = HC_EV_NM / e0
    se_e0 = float(np.sqrt(var_e0))
    hwhm = _red_hwhm(energy, a, var, win, e0, se_e0, a_pk, var_apk)
    return ExcitonPeak(
        wavelength_nm=Estimate(lam0, lam0 / e0 * se_e0),
        energy_ev=Estimate(e0, se_e0),
        absorbance=Estimate(a_pk, float(np.sqrt(var_apk))),
        hwhm_red_ev=hwhm,
    )


def _height_at(energy, a, var, e0, half) -> tuple[float, float]:
    """Value at e0 of a weighted quadratic fitted over |E - e0| <= half (>= 5 pixels)."""
    h, v = _height_kernel(energy, a, var, float(e0), float(half))
    return float(h), float(v)


def _red_hwhm(energy, a, var, win, e0, se_e0, a_pk, var_apk) -> Estimate | NoOutcome:
    sw = max(win // 2, 5)
    sw = sw if sw % 2 == 1 else sw + 1
    # pixel nearest the peak; the red side is towards higher index (longer wavelength)
    i0 = int(np.argmin(np.abs(energy - e0)))
    xc, vy, slope = _smoothed_crossing(energy, a, var, savgol_coeffs(sw, 3, 0), i0, 0.5 * a_pk)
    slope2 = slope * slope  # underflows to 0 for denormal spectra (found by fuzzing)
    if not np.isfinite(xc) or not slope2 > 0.0:
        return NoOutcome("no_red_edge", "absorbance never falls to half the 1S peak")
    var_x = (vy + 0.25 * var_apk) / slope2
    if not np.isfinite(var_x):
        return NoOutcome("no_red_edge", "the red edge is too flat to place")
    return Estimate(float(e0 - xc), float(np.sqrt(var_x + se_e0**2)))


@njit(cache=True, error_model="numpy")
def _smoothed_crossing(x, y, var, c, i, level):
    """`half_crossing` towards higher index on y smoothed by the centred filter c, which
    is evaluated only at the pixels visited (no full-spectrum pass)."""
    n = y.shape[0]
    h = c.shape[0] // 2
    j = i
    if j < h or j >= n - h:
        return np.nan, np.nan, np.nan
    y0, v0 = fir_at(y, var, c, j)
    while True:
        k1 = j + 1
        if k1 >= n - h:
            return np.nan, np.nan, np.nan
        s, v = fir_at(y, var, c, k1)
        if not (np.isfinite(s) and np.isfinite(v)):
            return np.nan, np.nan, np.nan
        if s < level:
            t = (y0 - level) / (y0 - s)
            xc = x[j] + t * (x[k1] - x[j])
            slope = (s - y0) / (x[k1] - x[j])
            vy = (1.0 - t) ** 2 * v0 + t * t * v
            return xc, vy, slope
        y0 = s
        v0 = v
        j = k1
