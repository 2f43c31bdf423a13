"""Numeric kernels of the spectral peaks (`exciton_peak`, `pl_band`) and of scoring:
Savitzky-Golay coefficients (Savitzky & Golay, Anal. Chem. 36, 1627 (1964)), a centred FIR
filter with variance propagation, the weighted least-squares polynomial `wpolyfit`, the
area-conserving nm -> eV Jacobian (`I(E) = I(lambda) lambda^2 / (h c)`, DOMAIN.md §5) and
linear half-level crossings.

numba kernels are compiled on first call (cached on disk) and take only arrays and
scalars; the public functions of `exciton_peak` and `pl_band` validate inputs first.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from sdl.analysis.errors import AnalysisInputError
from sdl.vocab.constants import HC_EV_NM

__all__ = ["fir_at", "fir_filter", "half_crossing", "odd_window", "pl_densities",
           "savgol_coeffs", "wavelength_to_energy", "wpolyfit"]


@lru_cache(maxsize=64)
def savgol_coeffs(window: int, order: int, deriv: int) -> np.ndarray:
    """Savitzky-Golay coefficients (window, polynomial order, derivative), as a dot filter."""
    from scipy.signal import savgol_coeffs as _coeffs

    return np.ascontiguousarray(_coeffs(window, order, deriv=deriv, use="dot"))


def odd_window(width_nm: float, step_nm: float, minimum: int) -> int:
    """Odd window of about width_nm / step_nm pixels, at least `minimum`."""
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


@njit(cache=True, error_model="numpy")
def fir_at(y, var, c, i):
    """A centred FIR filter `c` (odd length) evaluated at pixel i: (sum c_k y_k,
    sum c_k^2 var_k) over the window around i (independent variances)."""
    h = c.shape[0] // 2
    s = 0.0
    v = 0.0
    for k in range(c.shape[0]):
        s += c[k] * y[i - h + k]
        v += c[k] * c[k] * var[i - h + k]
    return s, v


@njit(cache=True, error_model="numpy")
def fir_filter(y, var, c, out, out_var):
    """Apply a centred FIR filter `c` (odd length) to y; propagate independent variances.
    Edges (window does not fit) and windows containing NaN give NaN."""
    n = y.shape[0]
    h = c.shape[0] // 2
    for i in range(n):
        if i < h or i >= n - h:
            out[i] = np.nan
            out_var[i] = np.nan
            continue
        out[i], out_var[i] = fir_at(y, var, c, i)


@njit(cache=True, error_model="numpy")
def pl_densities(wl, y, v, hc, energy, i_nm, v_nm, i_ev, v_ev):
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


@njit(cache=True)
def _fit_usable(y_i, var_i):
    """Whether `wpolyfit` may use a point: finite value and finite, positive variance."""
    return np.isfinite(y_i) and np.isfinite(var_i) and var_i > 0.0


@njit(cache=True, error_model="numpy")
def wpolyfit(x, y, var, lo, hi, xc, scale, order):
    """Weighted least-squares polynomial in u = (x - xc)/scale over indices lo..hi-1,
    skipping NaN (and pixels with non-positive variance).

    Args:
        x, y, var: (P,) float64 abscissa, values and their variances (weights 1/var).
        lo, hi: index range [lo, hi). xc, scale: centring and scaling of x.
        order: polynomial order.

    Returns:
        (coef (order+1,) lowest power first, cov (order+1, order+1) = (J^T W J)^-1,
        npts, chi2); coef and cov are NaN when fewer than order+2 points remain or the
        normal matrix is singular.
    """
    k = order + 1
    m = np.zeros((k, k))
    b = np.zeros(k)
    pw = np.empty(2 * k - 1)
    npts = 0
    for i in range(lo, hi):
        if not _fit_usable(y[i], var[i]):
            continue
        w = 1.0 / var[i]
        u = (x[i] - xc) / scale
        p = 1.0
        for j in range(2 * k - 1):
            pw[j] = p
            p *= u
        for r in range(k):
            b[r] += w * pw[r] * y[i]
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
        if not _fit_usable(y[i], var[i]):
            continue
        u = (x[i] - xc) / scale
        p = 0.0
        for j in range(k - 1, -1, -1):
            p = p * u + coef[j]
        chi2 += (y[i] - p) ** 2 / var[i]
    return coef, cov, npts, chi2


@njit(cache=True, error_model="numpy")
def half_crossing(x, ys, var_s, i, step, level):
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
