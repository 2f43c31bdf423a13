"""Position and width of the band-edge photoluminescence band.

PL counts per pixel become a spectral density per nm (divide by the pixel width) and per
eV with the Jacobian `I(E) = I(lambda) lambda^2 / (h c)` [DOMAIN.md §5], which conserves
the band area. The peak position is the vertex of a weighted parabola fitted to `ln I(E)`
over the points above half maximum (exact for a Gaussian band in energy; unbiased for any
symmetric band). The FWHM is model free: the distance between the half-maximum crossings
of the lightly smoothed spectrum, linearly interpolated, with the crossing noise and the
peak-height noise propagated. `fwhm_mev` is measured on I(E); `fwhm_nm` on I(lambda) the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sdl.analysis.errors import AnalysisInputError
from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.measurement import HC_EV_NM
from sdl.analysis.spectral_kernels import (
    fir_filter,
    half_crossing,
    odd_window,
    pl_densities,
    savgol_coeffs,
    wpolyfit,
)

__all__ = ["BLUEST_BAND_MIN_FRACTION", "PlBand", "pl_band"]


@dataclass(frozen=True)
class PlBand:
    """Position and width of one photoluminescence band.

    Attributes:
        peak_nm: peak wavelength, nm (`hc / peak_ev`).
        peak_ev: peak photon energy of I(E), eV.
        fwhm_nm: full width at half maximum of I(lambda), nm.
        fwhm_mev: full width at half maximum of I(E), meV.
        area_counts: Gaussian-equivalent band area in detected photons,
            `h_E * FWHM_E * sqrt(pi / (4 ln 2))` from the fitted peak density h_E
            (counts/eV); insensitive to overlapping neighbour bands, exact for a
            Gaussian band.
    """

    peak_nm: Estimate
    peak_ev: Estimate
    fwhm_nm: Estimate
    fwhm_mev: Estimate
    area_counts: Estimate


@njit(cache=True, error_model="numpy")
def _interior_argmax(ys):
    """Index of the maximum after trimming tails that rise monotonically towards either
    end of the window (the flank of a band centred outside it); -1 if nothing is left."""
    n = ys.shape[0]
    lo = 0
    while lo < n and not np.isfinite(ys[lo]):
        lo += 1
    hi = n - 1
    while hi >= 0 and not np.isfinite(ys[hi]):
        hi -= 1
    if hi - lo < 2:
        return -1
    while lo < hi and ys[lo] >= ys[lo + 1]:
        lo += 1
    while hi > lo and ys[hi] >= ys[hi - 1]:
        hi -= 1
    if hi - lo < 2:
        return -1
    best = -1
    for k in range(lo, hi + 1):
        if np.isfinite(ys[k]) and (best < 0 or ys[k] > ys[best]):
            best = k
    return best


@njit(cache=True, error_model="numpy")
def _bluest_band(ys, vs, min_sig, min_frac):
    """Lowest-index (shortest-wavelength: arrays are in pixel order) local maximum of ys
    that is significant (> min_sig sigma), at least min_frac of the interior maximum and
    separated from it by a dip; else the interior maximum; -1 if there is none.
    Trap and defect emission always lies red of the band-edge exciton, so the bluest
    significant band is the exciton even when a trap band is brighter."""
    top = _interior_argmax(ys)
    if top < 0:
        return -1
    n = ys.shape[0]
    floor = min_frac * ys[top]
    for k in range(1, n - 1):
        v = ys[k]
        if not (np.isfinite(v) and np.isfinite(ys[k - 1]) and np.isfinite(ys[k + 1])):
            continue
        if v >= ys[k - 1] and v > ys[k + 1] and v >= floor and v > min_sig * np.sqrt(vs[k]):
            if k >= top:
                return top
            # a separate band, not a ripple on the brightest band's flank: a dip of at
            # least 5 % and 3 sigma must separate it from the brightest band
            lo_v = v
            lo_i = k
            for m in range(k, top + 1):
                if np.isfinite(ys[m]) and ys[m] < lo_v:
                    lo_v = ys[m]
                    lo_i = m
            dip = v - lo_v
            if dip > 0.05 * v and dip > 3.0 * np.sqrt(vs[k] + vs[lo_i]):
                return k
    return top


@njit(cache=True, error_model="numpy")
def _band_fit(x, y, var, ys, var_s, imax):
    """Peak vertex of a parabola fitted to ln(y) over the contiguous region above half of
    ys[imax], and half-maximum crossings of ys on both sides. x must be monotonic.
    Returns (x0, var_x0, h, var_h, lo, var_lo, slope_lo, hi, var_hi, slope_hi, ok);
    var_lo/var_hi exclude the noise of the level h/2, which is common to both."""
    n = x.shape[0]
    nan = np.nan
    bad = (nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, False)
    half = 0.5 * ys[imax]
    a = imax
    while a - 1 >= 0 and np.isfinite(ys[a - 1]) and ys[a - 1] > half:
        a -= 1
    b = imax
    while b + 1 < n and np.isfinite(ys[b + 1]) and ys[b + 1] > half:
        b += 1
    if b - a < 2:
        a = max(imax - 1, 0)
        b = min(imax + 1, n - 1)
        if b - a < 2:
            return bad
    ly = np.empty(n)
    lv = np.empty(n)
    for i in range(n):
        if y[i] > 0.0 and y[i] * y[i] > 0.0 and np.isfinite(var[i]):
            ly[i] = np.log(y[i])
            lv[i] = var[i] / (y[i] * y[i])
        else:
            ly[i] = nan
            lv[i] = nan
    scale = abs(x[b] - x[a]) / 2.0
    xc = x[imax]
    coef, cov, npts, chi2 = wpolyfit(x, ly, lv, a, b + 1, xc, scale, 2)
    if npts < 3 or not np.isfinite(coef[2]) or coef[2] >= 0.0:
        return bad
    red = chi2 / (npts - 3) if npts > 3 else 1.0
    if red < 1.0:
        red = 1.0
    c1 = coef[1]
    c2 = coef[2]
    u0 = -c1 / (2.0 * c2)
    g1 = -1.0 / (2.0 * c2)
    g2 = c1 / (2.0 * c2 * c2)
    var_u = red * (g1 * g1 * cov[1, 1] + 2.0 * g1 * g2 * cov[1, 2] + g2 * g2 * cov[2, 2])
    if abs(u0) > 1.5:
        return bad
    x0 = xc + u0 * scale
    var_x0 = var_u * scale * scale
    lnh = coef[0] - c1 * c1 / (4.0 * c2)
    # gradient of lnh wrt (c0, c1, c2)
    h0 = 1.0
    h1 = -c1 / (2.0 * c2)
    h2 = c1 * c1 / (4.0 * c2 * c2)
    var_lnh = red * (
        h0 * h0 * cov[0, 0] + h1 * h1 * cov[1, 1] + h2 * h2 * cov[2, 2]
        + 2.0 * (h0 * h1 * cov[0, 1] + h0 * h2 * cov[0, 2] + h1 * h2 * cov[1, 2])
    )
    h = np.exp(lnh)
    var_h = h * h * var_lnh
    level = 0.5 * h
    if ys[imax] < level:
        return bad
    lo, vlo, slo = half_crossing(x, ys, var_s, imax, -1, level)
    hi, vhi, shi = half_crossing(x, ys, var_s, imax, 1, level)
    if not (np.isfinite(lo) and np.isfinite(hi)) or slo == 0.0 or shi == 0.0:
        return bad
    return x0, var_x0, h, var_h, lo, vlo / (slo * slo), slo, hi, vhi / (shi * shi), shi, True


def pl_band(
    wavelengths_nm: np.ndarray,
    net_counts: np.ndarray,
    variance: np.ndarray,
    *,
    range_nm: tuple[float, float] | None = None,
    smooth_nm: float = 3.0,
    min_significance: float = 5.0,
) -> PlBand | NoOutcome:
    """Peak position and FWHM of the band-edge PL band (in `range_nm` if given).

    The band-edge band is the bluest significant band holding at least
    `BLUEST_BAND_MIN_FRACTION` of the brightest band's peak: trap emission always lies to
    the red, so a brighter trap band does not displace the exciton.

    Args:
        wavelengths_nm: (P,) increasing pixel wavelengths, nm.
        net_counts: (P,) dark-subtracted PL counts per pixel.
        variance: (P,) variance of net_counts (shot noise of sample plus dark).
        range_nm: optional (low, high) window for the band, nm.
        smooth_nm: narrowest Savitzky-Golay (cubic) smoothing window used for the maximum
            and the half-maximum crossings, nm; widened to ~FWHM/6 for broad bands.
        min_significance: the band maximum must exceed this many standard errors.

    Returns:
        A `PlBand`, or NoOutcome "too_few_pixels" | "flat_spectrum" | "no_peak" |
        "fit_failed" (the band runs off the window or has no clean half-max crossing).
    """
    wl = np.ascontiguousarray(wavelengths_nm, dtype=np.float64)
    y = np.ascontiguousarray(net_counts, dtype=np.float64)
    v = np.ascontiguousarray(variance, dtype=np.float64)
    if not (wl.ndim == y.ndim == v.ndim == 1 and wl.shape == y.shape == v.shape):
        raise AnalysisInputError("wavelengths, counts and variance must be 1-D, same length")
    if range_nm is not None:
        keep = (wl >= range_nm[0]) & (wl <= range_nm[1])
        wl, y, v = wl[keep], y[keep], v[keep]
    n = wl.shape[0]
    if n < 7:
        return NoOutcome("too_few_pixels", f"{n} pixels in the PL window")
    energy = np.empty(n)
    i_nm = np.empty(n)
    v_nm = np.empty(n)
    i_ev = np.empty(n)
    v_ev = np.empty(n)
    pl_densities(wl, y, v, HC_EV_NM, energy, i_nm, v_nm, i_ev, v_ev)
    step = (wl[-1] - wl[0]) / (n - 1)
    win = odd_window(smooth_nm, step, 5)
    if n < 2 * win + 3:
        return NoOutcome("too_few_pixels", f"{n} pixels in the PL window")
    result = _pl_fit(wl, energy, i_nm, v_nm, i_ev, v_ev, win, min_significance)
    if isinstance(result, NoOutcome):
        return result
    # adapt the smoothing to the band: a window of ~FWHM/6 keeps the half-maximum
    # crossings unbiased (< 0.2 %) while averaging the noise of broad, faint bands
    wider = odd_window(result.fwhm_nm.value / 6.0, step, 5)
    if wider > 1.5 * win and n >= 2 * wider + 3:
        again = _pl_fit(wl, energy, i_nm, v_nm, i_ev, v_ev, wider, min_significance)
        if not isinstance(again, NoOutcome):
            return again
    return result


def _pl_fit(wl, energy, i_nm, v_nm, i_ev, v_ev, win, min_significance) -> PlBand | NoOutcome:
    """One pass of `pl_band` with a Savitzky-Golay window of `win` pixels."""
    n = wl.shape[0]
    coeffs = savgol_coeffs(win, 3, 0)
    s_ev = np.empty(n)
    sv_ev = np.empty(n)
    s_nm = np.empty(n)
    sv_nm = np.empty(n)
    fir_filter(i_ev, v_ev, coeffs, s_ev, sv_ev)
    fir_filter(i_nm, v_nm, coeffs, s_nm, sv_nm)
    if not np.any(np.isfinite(s_ev)):
        return NoOutcome("flat_spectrum", "no usable PL pixels")
    imax = _interior_argmax(s_ev)
    if imax < 0:
        return NoOutcome("no_peak", "PL only rises towards the window edges (a band outside)")
    if not (s_ev[imax] > min_significance * np.sqrt(sv_ev[imax]) and s_ev[imax] > 0):
        return NoOutcome("flat_spectrum", "no PL above noise")
    imax = _bluest_band(s_ev, sv_ev, min_significance, BLUEST_BAND_MIN_FRACTION)
    r = _band_fit(energy, i_ev, v_ev, s_ev, sv_ev, imax)
    if not r[10]:
        return NoOutcome("fit_failed", "PL band has no clean half-maximum on both sides")
    e0, var_e0 = r[0], r[1]
    fwhm_ev, se_fwhm_ev = _width(r)
    h_ev, var_h_ev = r[2], r[3]
    area = _GAUSS_AREA * h_ev * fwhm_ev
    se_area = area * float(np.sqrt(var_h_ev / h_ev**2 + (se_fwhm_ev / fwhm_ev) ** 2))
    jmax = _bluest_band(s_nm, sv_nm, min_significance, BLUEST_BAND_MIN_FRACTION)
    if jmax < 0:
        return NoOutcome("no_peak", "PL only rises towards the window edges (a band outside)")
    q = _band_fit(wl, i_nm, v_nm, s_nm, sv_nm, jmax)
    if not q[10]:
        return NoOutcome("fit_failed", "PL band has no clean half-maximum on both sides")
    fwhm_nm, se_fwhm_nm = _width(q)
    se_e0 = float(np.sqrt(var_e0))
    lam0 = HC_EV_NM / e0
    return PlBand(
        peak_nm=Estimate(lam0, lam0 / e0 * se_e0),
        peak_ev=Estimate(e0, se_e0),
        fwhm_nm=Estimate(fwhm_nm, se_fwhm_nm),
        fwhm_mev=Estimate(1000.0 * fwhm_ev, 1000.0 * se_fwhm_ev),
        area_counts=Estimate(float(area), se_area),
    )


#: A PL band bluer than the brightest one is taken as the exciton when its peak is at least
#: this fraction of the brightest (trap emission lies red of the exciton).
BLUEST_BAND_MIN_FRACTION = 0.1

#: Area of a Gaussian of unit height and unit FWHM: sqrt(pi / (4 ln 2)).
_GAUSS_AREA = float(np.sqrt(np.pi / (4.0 * np.log(2.0))))


def _width(r: tuple) -> tuple[float, float]:
    """FWHM and its standard error from a `_band_fit` result: independent crossing noise
    plus the common half-level noise, which moves the crossings by (1/slope) each."""
    _, _, _, var_h, lo, var_lo, s_lo, hi, var_hi, s_hi, _ = r
    var = var_lo + var_hi + 0.25 * var_h * (1.0 / s_hi - 1.0 / s_lo) ** 2
    return abs(hi - lo), float(np.sqrt(var))
