"""PL band position and width on synthetic spectra with known peaks, widths and areas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdl.analysis.estimate import NoOutcome
from sdl.analysis.pl_band import pl_band

from .synthetic_spectra import HC, band_counts, flat_noise, fwhm_nm_fine


@pytest.mark.parametrize("centre_nm, fwhm_mev", [(520, 25), (620, 80), (460, 120), (600, 60)])
def test_pl_band_noise_free(centre_nm, fwhm_mev):
    wl = np.linspace(350, 800, 1024)
    e0 = HC / centre_nm
    c = band_counts(wl, e0, fwhm_mev / 1000, 1e6)
    b = pl_band(wl, c, np.maximum(c, 1.0))
    assert b.peak_nm.value == pytest.approx(centre_nm, abs=0.02)
    assert b.fwhm_mev.value == pytest.approx(fwhm_mev, rel=0.005)
    assert b.fwhm_nm.value == pytest.approx(fwhm_nm_fine(e0, fwhm_mev / 1000), rel=0.01)


def test_pl_band_noisy_unbiased_and_errors_calibrated():
    wl = np.linspace(350, 800, 1024)
    e0, fw = HC / 610.0, 0.075
    truth = band_counts(wl, e0, fw, 4e5)
    rng = np.random.default_rng(11)
    peaks, se_peaks, widths, se_widths = [], [], [], []
    for _ in range(40):
        sample = rng.poisson(truth + 200.0).astype(float)
        dark = rng.poisson(200.0, wl.size).astype(float)
        b = pl_band(wl, sample - dark, sample + dark)
        peaks.append(b.peak_nm.value)
        se_peaks.append(b.peak_nm.stderr)
        widths.append(b.fwhm_mev.value)
        se_widths.append(b.fwhm_mev.stderr)
    peaks, widths = np.array(peaks), np.array(widths)
    assert abs(peaks.mean() - 610.0) < 4 * peaks.std() / math.sqrt(40) + 0.01
    assert abs(widths.mean() - 75.0) < 4 * widths.std() / math.sqrt(40) + 0.1
    # stated errors match the observed scatter within 35 %
    assert np.std(peaks) == pytest.approx(np.mean(se_peaks), rel=0.35)
    assert np.std(widths) == pytest.approx(np.mean(se_widths), rel=0.35)


def test_pl_band_flat_and_cut_off():
    wl, noise, var = flat_noise(512, 10.0, seed=2)
    r = pl_band(wl, noise, var)
    assert isinstance(r, NoOutcome) and r.reason == "flat_spectrum"
    # a band centred beyond the red end of the window: only its rising flank is seen
    c = band_counts(wl, HC / 805, 0.08, 1e6)
    r = pl_band(wl, c, np.maximum(c, 1.0))
    assert isinstance(r, NoOutcome) and r.reason == "no_peak"
    # a band whose red half maximum lies beyond the window
    c = band_counts(wl, HC / 790, 0.08, 1e6)
    r = pl_band(wl, c, np.maximum(c, 1.0))
    assert isinstance(r, NoOutcome) and r.reason == "fit_failed"


def test_pl_band_prefers_exciton_over_brighter_red_trap_band():
    # trap emission lies red of the band edge; a brighter trap band must not be reported
    wl = np.linspace(350, 800, 1024)
    exc = band_counts(wl, HC / 520, 0.06, 2e5)
    trap = band_counts(wl, HC / 650, 0.30, 1.2e6)
    y = exc + trap
    b = pl_band(wl, y, np.maximum(y, 1.0))
    assert b.peak_nm.value == pytest.approx(520.0, abs=0.5)
    assert b.fwhm_mev.value == pytest.approx(60.0, rel=0.05)
