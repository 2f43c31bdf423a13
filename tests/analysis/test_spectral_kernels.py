"""Spectral kernels against numpy references: FIR filter, weighted polyfit, nm -> eV."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdl.analysis.spectral_kernels import (
    fir_at,
    fir_filter,
    pl_densities,
    savgol_coeffs,
    wavelength_to_energy,
    wpolyfit,
)

from .synthetic_spectra import HC


def test_jacobian_is_exact_and_conserves_area():
    # I(E) Gaussian; I(lambda) = I(E) |dE/dlambda| = I(E) hc/lambda^2 (change of variable)
    wl = np.linspace(450, 800, 20001)
    e0, s = 2.0, 0.04
    i_e_true = np.exp(-((HC / wl - e0) ** 2) / (2 * s * s)) / (s * math.sqrt(2 * math.pi))
    i_nm = i_e_true * HC / wl**2
    e, i_e = wavelength_to_energy(wl, i_nm)
    np.testing.assert_allclose(i_e, i_e_true, rtol=1e-12, atol=1e-300)
    area_nm = np.trapezoid(i_nm, wl)
    area_ev = -np.trapezoid(i_e, e)  # energy falls as wavelength rises
    assert area_ev == pytest.approx(1.0, rel=1e-6)
    assert area_nm == pytest.approx(area_ev, rel=1e-6)


def _filtered(seed: int, n: int, var_range: tuple[float, float], window: int):
    """Random (n,) values and variances, the Savitzky-Golay (window, cubic, 2nd
    derivative) coefficients, and `fir_filter`'s output and output variance."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    var = rng.uniform(*var_range, n)
    c = savgol_coeffs(window, 3, 2)
    out, out_var = np.empty(n), np.empty(n)
    fir_filter(y, var, c, out, out_var)
    return y, var, c, out, out_var


def test_filter_kernel_matches_numpy_convolution():
    y, var, c, out, out_var = _filtered(1, 200, (0.5, 2), 11)
    ref = np.convolve(y, c[::-1], mode="valid")
    ref_var = np.convolve(var, (c * c)[::-1], mode="valid")
    np.testing.assert_allclose(out[5:-5], ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out_var[5:-5], ref_var, rtol=1e-12)
    assert np.all(np.isnan(out[:5])) and np.all(np.isnan(out[-5:]))


def test_weighted_polyfit_matches_numpy():
    rng = np.random.default_rng(4)
    x = np.linspace(-1, 2, 60)
    y = 1 - 2 * x + 0.5 * x**2 + 0.1 * x**4 + rng.normal(0, 0.01, 60)
    var = rng.uniform(0.5, 2.0, 60) * 1e-4
    coef, cov, npts, chi2 = wpolyfit(x, y, var, 0, 60, 0.0, 1.0, 4)
    ref, ref_cov = np.polyfit(x, y, 4, w=1 / np.sqrt(var), cov="unscaled")
    np.testing.assert_allclose(coef, ref[::-1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(cov, ref_cov[::-1, ::-1], rtol=1e-6, atol=1e-14)
    assert npts == 60


def test_fir_at_is_the_filter_at_one_pixel():
    y, var, c, out, out_var = _filtered(8, 300, (0.1, 1.0), 15)
    for i in (7, 150, 292):
        assert fir_at(y, var, c, i) == (out[i], out_var[i])


def test_pl_density_kernel_matches_numpy():
    rng = np.random.default_rng(3)
    wl = np.sort(rng.uniform(400, 800, 300))
    y = rng.uniform(0, 100, 300)
    v = y + 1
    out = [np.empty(300) for _ in range(5)]
    pl_densities(wl, y, v, HC, *out)
    dl = np.gradient(wl)
    jac = wl**2 / HC
    for got, want in zip(out, (HC / wl, y / dl, v / dl**2, y / dl * jac, v / dl**2 * jac**2),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
