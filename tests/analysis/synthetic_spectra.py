"""Synthetic spectra with known peaks, widths and areas, built independently of the
analysis code: bands Gaussian in photon energy integrated over each pixel (erf)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

HC = 1239.8419843320026  # eV nm (CODATA 2018: h c / e)
K = 2 * math.sqrt(2 * math.log(2))


def band_counts(wl, centre_ev, fwhm_ev, total):
    """Counts per pixel of a band that is Gaussian in energy with `total` photons: integrate
    the normalised density over each pixel's energy interval (exact, via erf)."""
    edges = np.concatenate(([wl[0] - (wl[1] - wl[0]) / 2], (wl[1:] + wl[:-1]) / 2,
                            [wl[-1] + (wl[-1] - wl[-2]) / 2]))
    s = fwhm_ev / K
    cdf = 0.5 * (1 + erf((HC / edges - centre_ev) / (s * math.sqrt(2))))
    return total * (cdf[:-1] - cdf[1:])


def fwhm_nm_fine(centre_ev, fwhm_ev):
    """FWHM in nm of I(lambda) = I(E) hc / lambda^2 for a Gaussian I(E), on a 1e-4 nm grid."""
    lam = np.arange(HC / (centre_ev + 3 * fwhm_ev), HC / (centre_ev - 3 * fwhm_ev), 1e-4)
    s = fwhm_ev / K
    i = np.exp(-((HC / lam - centre_ev) ** 2) / (2 * s * s)) / lam**2
    above = lam[i >= i.max() / 2]
    return above[-1] - above[0]


def absorbance_model(wl, peak_nm, fwhm_ev, amp):
    e = HC / wl
    e1 = HC / peak_nm
    s = fwhm_ev / K
    band = amp * np.exp(-((e - e1) ** 2) / (2 * s * s))
    # rising continuum of higher transitions: linear in energy plus a steep exponential
    cont = np.clip(0.5 * amp * (e - e1 + 0.1), 0, None) + 0.05 * amp * np.exp((e - e1) / 0.25)
    return band + cont


def flat_noise(n: int, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A featureless spectrum: (n,) wavelengths 350-800 nm, zero-mean Gaussian noise of
    standard deviation `sigma`, and a constant variance `sigma**2` per pixel."""
    wl = np.linspace(350, 800, n)
    noise = np.random.default_rng(seed).normal(0, sigma, n)
    return wl, noise, np.full(n, sigma * sigma)
