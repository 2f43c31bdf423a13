"""Spectrometer model: pixel axis, saturation, absorbance recovered from counts."""

from __future__ import annotations

import numpy as np

from simulator.spectrometer import (
    SATURATION_COUNTS,
    SpectrometerSettings,
    fixed_pattern,
    lamp_shape,
    measure_absorbance,
    measure_pl,
    nominal_wavelengths,
)


def test_axis_and_lamp():
    wl = nominal_wavelengths()
    assert wl.shape == (1024,) and np.all(np.diff(wl) > 0) and 335 < wl[0] < 350
    lamp = lamp_shape(wl)
    assert lamp.max() == 1.0 and lamp.min() > 0.02


def test_absorbance_from_counts_recovers_truth():
    # A = -log10((S - D)/(R - D)) (DOMAIN s5) within shot noise where the lamp is bright.
    rng = np.random.default_rng(0)
    wl = nominal_wavelengths()
    a_true = 0.3 * np.exp(-0.5 * ((wl - 600) / 20) ** 2) + 0.05
    s = SpectrometerSettings()
    d, r, x = measure_absorbance(rng, a_true, lamp_shape(wl), fixed_pattern(1), s)
    a = -np.log10((x - d) / (r - d))
    m = (wl > 450) & (wl < 750)
    assert np.abs(a[m] - a_true[m]).mean() < 0.01


def test_pl_saturates_at_14_bits():
    rng = np.random.default_rng(1)
    s = SpectrometerSettings()
    rate = np.full(1024, 1e7)
    _, sample = measure_pl(rng, rate, 1.0, fixed_pattern(1), s)
    assert sample.max() == SATURATION_COUNTS
    dark, low = measure_pl(rng, np.zeros(1024), 0.1, fixed_pattern(1), s)
    assert abs((low - dark).mean()) < 1.0
