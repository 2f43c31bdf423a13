"""Mn/exciton band-area ratio on synthetic two-band PL with known areas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdl.analysis.dopant import mn_exciton_ratio
from sdl.analysis.estimate import NoOutcome

from .synthetic_spectra import HC, band_counts


@pytest.mark.parametrize("ratio", [0.0, 0.3, 1.0, 4.0])
def test_ratio_of_known_areas(ratio):
    wl = np.linspace(380, 800, 1024)
    exc = band_counts(wl, HC / 430, 0.12, 2e5)  # ZnSe host exciton
    mn = band_counts(wl, HC / 590, 0.20, 2e5 * ratio)  # Mn d-d band, 0.2 eV wide
    y = exc + mn
    r = mn_exciton_ratio(wl, y, np.maximum(y, 1.0), 430.0, low_nm=395.0)
    assert r.value == pytest.approx(ratio, abs=0.01 * max(ratio, 0.2))


def test_noisy_ratio_within_errors():
    wl = np.linspace(380, 800, 1024)
    truth = band_counts(wl, HC / 430, 0.12, 1e5) + band_counts(wl, HC / 590, 0.2, 5e4)
    rng = np.random.default_rng(9)
    vals, ses = [], []
    for _ in range(30):
        s = rng.poisson(truth + 100).astype(float)
        d = rng.poisson(100, wl.size).astype(float)
        r = mn_exciton_ratio(wl, s - d, s + d, 430.0, low_nm=395.0)
        vals.append(r.value)
        ses.append(r.stderr)
    assert np.mean(vals) == pytest.approx(0.5, abs=4 * np.mean(ses) / math.sqrt(30) + 0.005)
    assert np.std(vals) == pytest.approx(np.mean(ses), rel=0.4)


def test_trap_band_between_is_excluded():
    # a broad trap band between exciton and Mn (as in real ZnSe) must not count as either
    wl = np.linspace(340, 810, 1024)
    exc = band_counts(wl, HC / 410, 0.13, 1e5)
    trap = band_counts(wl, HC / 480, 0.35, 8e4)
    mn = band_counts(wl, HC / 585, 0.20, 2e6)
    y = exc + trap + mn
    r = mn_exciton_ratio(wl, y, np.maximum(y, 1.0), 410.0, low_nm=365.0)
    assert r.value == pytest.approx(20.0, rel=0.05)


def test_refusals():
    wl = np.linspace(380, 800, 1024)
    y = band_counts(wl, HC / 600, 0.1, 1e5)
    r = mn_exciton_ratio(wl, y, np.maximum(y, 1), 600.0)
    assert isinstance(r, NoOutcome) and r.reason == "bands_overlap"
    mn_only = band_counts(wl, HC / 590, 0.2, 1e5)
    r = mn_exciton_ratio(wl, mn_only, np.maximum(mn_only, 1), 430.0, low_nm=395.0)
    assert isinstance(r, NoOutcome) and r.reason == "no_exciton_band"
