"""Peaks of spectra: the first excitonic absorption peak, and PL peak position and width.

First excitonic (1S) absorption peak. On the rising continuum of higher transitions the
1S is often only a shoulder, so it is located as the longest-wavelength significant
minimum of the Savitzky-Golay second derivative (Savitzky & Golay, Anal. Chem. 36, 1627
(1964)), then refined by a local weighted least-squares quartic in photon energy,
`p(u) = sum a_k u^k`: the minimum of `p''` sits at `u0 = -a3 / (4 a4)`. A linear or
quadratic continuum changes only `a0..a2`, so `u0` is unbiased by it, and for any
symmetric band in a centred window `a3 = 0` exactly (the window is re-centred until it
converges). Standard errors come from the fit covariance (known per-pixel shot-noise
weights, scaled by the reduced chi-square when that exceeds 1) by the delta method.
The red-side half width at half maximum of the 1S band (towards low energy, away from
higher transitions) gives the size dispersion (`sdl.analysis.sizing`).

PL peak and width. PL counts per pixel become a spectral density per nm (divide by the
pixel width) and per eV with the Jacobian `I(E) = I(lambda) lambda^2 / (h c)`
[DOMAIN.md §5], which conserves the band area. The peak position is the vertex of a
weighted parabola fitted to `ln I(E)` over the points above half maximum (exact for a
Gaussian band in energy; unbiased for any symmetric band). The FWHM is model free: the
distance between the half-maximum crossings of the lightly smoothed spectrum, linearly
interpolated, with the crossing noise and the peak-height noise propagated.
`fwhm_mev` is measured on I(E); `fwhm_nm` on I(lambda) the same way.

Kernels (`_name`) are numba-compiled on first call (cached on disk) and take only
arrays and scalars; the public functions validate their inputs first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from sdl.analysis.errors import AnalysisInputError
from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.measurement import HC_EV_NM

# ---------------------------------------------------------------------------- results


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


# ---------------------------------------------------------------------------- helpers


@lru_cache(maxsize=64)
def _savgol(window: int, order: int, deriv: int) -> np.ndarray:
    from scipy.signal import savgol_coeffs

    return np.ascontiguousarray(savgol_coeffs(window, order, deriv=deriv, use="dot"))


def _odd_window(width_nm: float, step_nm: float, minimum: int) -> int:
    w = int(round(width_nm / step_nm)) if step_nm > 0 else minimum
    w = max(w, minimum)
    return w if w % 2 == 1 else w + 1


def wavelength_to_energy(
    wavelengths_nm: np.ndarray, intensity_per_nm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Convert a spectral density per nm to one per eV (area-conserving Jacobian).

    `E = hc / lambda`, `I(E) = I(lambda) lambda^2 / (h c)` [DOMAIN.md §5].

    Args:
        wavelengths_nm: (P,) wavelengths, nm, positive.
        intensity_per_nm: (P,) spectral density per nm (e.g. counts / nm).

    Returns:
        (energy_ev, intensity_per_ev), both (P,), in the input order (so energy falls
        when wavelength rises).
    """
    wl = np.asarray(wavelengths_nm, dtype=np.float64)
    if np.any(wl <= 0):
        raise AnalysisInputError("wavelengths_nm: must be positive")
    i_nm = np.asarray(intensity_per_nm, dtype=np.float64)
    return HC_EV_NM / wl, i_nm * wl * wl / HC_EV_NM


# ---------------------------------------------------------------------------- kernels


@njit(cache=True, error_model="numpy")
def _filter(y, var, c, out, out_var):
    """Apply a centred FIR filter `c` (odd length) to y; propagate independent variances.
    Edges (window does not fit) and windows containing NaN give NaN."""
    n = y.shape[0]
    m = c.shape[0]
    h = m // 2
    for i in range(n):
        if i < h or i >= n - h:
            out[i] = np.nan
            out_var[i] = np.nan
            continue
        s = 0.0
        v = 0.0
        for k in range(m):
            s += c[k] * y[i - h + k]
            v += c[k] * c[k] * var[i - h + k]
        out[i] = s
        out_var[i] = v


@njit(cache=True, error_model="numpy")
def _filter2(y, var, c1, c2, out1, out_var1, out2, out_var2):
    """`_filter` with two filters of the same odd length in one pass."""
    n = y.shape[0]
    m = c1.shape[0]
    h = m // 2
    for i in range(n):
        if i < h or i >= n - h:
            out1[i] = np.nan
            out_var1[i] = np.nan
            out2[i] = np.nan
            out_var2[i] = np.nan
            continue
        s1 = 0.0
        v1 = 0.0
        s2 = 0.0
        v2 = 0.0
        for k in range(m):
            yk = y[i - h + k]
            vk = var[i - h + k]
            s1 += c1[k] * yk
            v1 += c1[k] * c1[k] * vk
            s2 += c2[k] * yk
            v2 += c2[k] * c2[k] * vk
        out1[i] = s1
        out_var1[i] = v1
        out2[i] = s2
        out_var2[i] = v2


@njit(cache=True, error_model="numpy")
def _pl_densities(wl, y, v, hc, energy, i_nm, v_nm, i_ev, v_ev):
    """Counts per pixel -> density per nm (divide by the pixel width, centred differences
    as np.gradient) and per eV (Jacobian lambda^2 / hc), with variances."""
    n = wl.shape[0]
    for k in range(n):
        if k == 0:
            dl = wl[1] - wl[0]
        elif k == n - 1:
            dl = wl[n - 1] - wl[n - 2]
        else:
            dl = 0.5 * (wl[k + 1] - wl[k - 1])
        jac = wl[k] * wl[k] / hc
        energy[k] = hc / wl[k]
        i_nm[k] = y[k] / dl
        v_nm[k] = v[k] / (dl * dl)
        i_ev[k] = i_nm[k] * jac
        v_ev[k] = v_nm[k] * jac * jac


@njit(cache=True, error_model="numpy")
def _filter_pair(y1, var1, y2, var2, c, out1, out_var1, out2, out_var2):
    """`_filter` applied with one filter to two signals in one pass."""
    n = y1.shape[0]
    m = c.shape[0]
    h = m // 2
    for i in range(n):
        if i < h or i >= n - h:
            out1[i] = np.nan
            out_var1[i] = np.nan
            out2[i] = np.nan
            out_var2[i] = np.nan
            continue
        s1 = 0.0
        w1 = 0.0
        s2 = 0.0
        w2 = 0.0
        for k in range(m):
            ck = c[k]
            cc = ck * ck
            s1 += ck * y1[i - h + k]
            w1 += cc * var1[i - h + k]
            s2 += ck * y2[i - h + k]
            w2 += cc * var2[i - h + k]
        out1[i] = s1
        out_var1[i] = w1
        out2[i] = s2
        out_var2[i] = w2


@njit(cache=True, error_model="numpy")
def _wpolyfit(x, y, var, lo, hi, xc, scale, order):
    """Weighted least-squares polynomial in u = (x - xc)/scale over indices lo..hi-1,
    skipping NaN. Returns (coef, cov, npts, chi2); cov is (J^T W J)^-1."""
    k = order + 1
    m = np.zeros((k, k))
    b = np.zeros(k)
    pw = np.empty(2 * k - 1)
    npts = 0
    for i in range(lo, hi):
        yi = y[i]
        vi = var[i]
        if not (np.isfinite(yi) and np.isfinite(vi)) or vi <= 0.0:
            continue
        w = 1.0 / vi
        u = (x[i] - xc) / scale
        p = 1.0
        for j in range(2 * k - 1):
            pw[j] = p
            p *= u
        for r in range(k):
            b[r] += w * pw[r] * yi
            for c in range(k):
                m[r, c] += w * pw[r + c]
        npts += 1
    coef = np.full(k, np.nan)
    cov = np.full((k, k), np.nan)
    if npts <= k:
        return coef, cov, npts, np.nan
    if np.abs(np.linalg.det(m)) < 1e-300:
        return coef, cov, npts, np.nan
    cov = np.linalg.inv(m)
    coef = cov @ b
    chi2 = 0.0
    for i in range(lo, hi):
        yi = y[i]
        vi = var[i]
        if not (np.isfinite(yi) and np.isfinite(vi)) or vi <= 0.0:
            continue
        u = (x[i] - xc) / scale
        p = 0.0
        for j in range(k - 1, -1, -1):
            p = p * u + coef[j]
        chi2 += (yi - p) ** 2 / vi
    return coef, cov, npts, chi2


@njit(cache=True, error_model="numpy")
def _exciton_candidate(d2, var_d2, a_s, var_as, min_sig, min_abs, rel_depth):
    """Index of the longest-wavelength significant second-derivative minimum, or -1."""
    n = d2.shape[0]
    deepest = 0.0
    for i in range(1, n - 1):
        v = d2[i]
        if not (np.isfinite(v) and np.isfinite(d2[i - 1]) and np.isfinite(d2[i + 1])):
            continue
        if v < d2[i - 1] and v <= d2[i + 1] and v < -min_sig * np.sqrt(var_d2[i]):
            if a_s[i] > min_abs and a_s[i] > min_sig * np.sqrt(var_as[i]):
                if -v > deepest:
                    deepest = -v
    if deepest == 0.0:
        return -1
    for i in range(n - 2, 0, -1):
        v = d2[i]
        if not (np.isfinite(v) and np.isfinite(d2[i - 1]) and np.isfinite(d2[i + 1])):
            continue
        if v < d2[i - 1] and v <= d2[i + 1] and v < -min_sig * np.sqrt(var_d2[i]):
            if a_s[i] > min_abs and a_s[i] > min_sig * np.sqrt(var_as[i]):
                if -v >= rel_depth * deepest:
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
        coef, cov, npts, chi2 = _wpolyfit(energy, a, var, lo, hi + 1, ec, half_window, 4)
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
    coef, cov, npts, chi2 = _wpolyfit(energy, a, var, lo, hi + 1, e0, half, 2)
    if npts < 5 or not np.isfinite(coef[0]):
        return np.nan, np.nan
    red = chi2 / (npts - 3)
    if red < 1.0:
        red = 1.0
    return coef[0], red * cov[0, 0]


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
def _half_crossing(x, ys, var_s, i, step, level):
    """Walk from index i by step until ys drops below `level`; interpolate linearly.
    Returns (x_cross, var_from_y, slope) or NaNs when no clean crossing exists."""
    n = x.shape[0]
    j = i
    while True:
        k = j + step
        if k < 0 or k >= n:
            return np.nan, np.nan, np.nan
        if not (np.isfinite(ys[k]) and np.isfinite(var_s[k])):
            return np.nan, np.nan, np.nan
        if ys[k] < level:
            y0 = ys[j]
            y1 = ys[k]
            t = (y0 - level) / (y0 - y1)
            xc = x[j] + t * (x[k] - x[j])
            slope = (y1 - y0) / (x[k] - x[j])
            vy = (1.0 - t) ** 2 * var_s[j] + t * t * var_s[k]
            return xc, vy, slope
        j = k


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
    coef, cov, npts, chi2 = _wpolyfit(x, ly, lv, a, b + 1, xc, scale, 2)
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
    lo, vlo, slo = _half_crossing(x, ys, var_s, imax, -1, level)
    hi, vhi, shi = _half_crossing(x, ys, var_s, imax, 1, level)
    if not (np.isfinite(lo) and np.isfinite(hi)) or slo == 0.0 or shi == 0.0:
        return bad
    return x0, var_x0, h, var_h, lo, vlo / (slo * slo), slo, hi, vhi / (shi * shi), shi, True


# ---------------------------------------------------------------------------- exciton


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
    win = _odd_window(smooth_nm, step, 7)
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
        w = _odd_window(scale * smooth_nm, step, 7)
        if n < 2 * w + 3:
            break
        win = w
        _filter2(a, var, _savgol(win, 3, 2), _savgol(win, 3, 0), d2, var_d2, a_s, var_as)
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
    xc, vy, slope = _smoothed_crossing(energy, a, var, _savgol(sw, 3, 0), i0, 0.5 * a_pk)
    slope2 = slope * slope  # underflows to 0 for denormal spectra (found by fuzzing)
    if not np.isfinite(xc) or not slope2 > 0.0:
        return NoOutcome("no_red_edge", "absorbance never falls to half the 1S peak")
    var_x = (vy + 0.25 * var_apk) / slope2
    if not np.isfinite(var_x):
        return NoOutcome("no_red_edge", "the red edge is too flat to place")
    return Estimate(float(e0 - xc), float(np.sqrt(var_x + se_e0**2)))


@njit(cache=True, error_model="numpy")
def _smoothed_crossing(x, y, var, c, i, level):
    """`_half_crossing` towards higher index on y smoothed by the centred filter c, which
    is evaluated only at the pixels visited (no full-spectrum pass)."""
    n = y.shape[0]
    h = c.shape[0] // 2
    ys = np.empty(2)
    vs = np.empty(2)
    j = i
    if j < h or j >= n - h:
        return np.nan, np.nan, np.nan
    s = 0.0
    v = 0.0
    for k in range(c.shape[0]):
        s += c[k] * y[j - h + k]
        v += c[k] * c[k] * var[j - h + k]
    ys[0] = s
    vs[0] = v
    while True:
        k1 = j + 1
        if k1 >= n - h:
            return np.nan, np.nan, np.nan
        s = 0.0
        v = 0.0
        for k in range(c.shape[0]):
            s += c[k] * y[k1 - h + k]
            v += c[k] * c[k] * var[k1 - h + k]
        if not (np.isfinite(s) and np.isfinite(v)):
            return np.nan, np.nan, np.nan
        if s < level:
            y0 = ys[0]
            t = (y0 - level) / (y0 - s)
            xc = x[j] + t * (x[k1] - x[j])
            slope = (s - y0) / (x[k1] - x[j])
            vy = (1.0 - t) ** 2 * vs[0] + t * t * v
            return xc, vy, slope
        ys[0] = s
        vs[0] = v
        j = k1


# ---------------------------------------------------------------------------- PL


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
    _pl_densities(wl, y, v, HC_EV_NM, energy, i_nm, v_nm, i_ev, v_ev)
    step = (wl[-1] - wl[0]) / (n - 1)
    win = _odd_window(smooth_nm, step, 5)
    if n < 2 * win + 3:
        return NoOutcome("too_few_pixels", f"{n} pixels in the PL window")
    result = _pl_fit(wl, energy, i_nm, v_nm, i_ev, v_ev, win, min_significance)
    if isinstance(result, NoOutcome):
        return result
    # adapt the smoothing to the band: a window of ~FWHM/6 keeps the half-maximum
    # crossings unbiased (< 0.2 %) while averaging the noise of broad, faint bands
    wider = _odd_window(result.fwhm_nm.value / 6.0, step, 5)
    if wider > 1.5 * win and n >= 2 * wider + 3:
        again = _pl_fit(wl, energy, i_nm, v_nm, i_ev, v_ev, wider, min_significance)
        if not isinstance(again, NoOutcome):
            return again
    return result


def _pl_fit(wl, energy, i_nm, v_nm, i_ev, v_ev, win, min_significance) -> PlBand | NoOutcome:
    """One pass of `pl_band` with a Savitzky-Golay window of `win` pixels."""
    n = wl.shape[0]
    coeffs = _savgol(win, 3, 0)
    s_ev = np.empty(n)
    sv_ev = np.empty(n)
    s_nm = np.empty(n)
    sv_nm = np.empty(n)
    _filter_pair(i_ev, v_ev, i_nm, v_nm, coeffs, s_ev, sv_ev, s_nm, sv_nm)
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
