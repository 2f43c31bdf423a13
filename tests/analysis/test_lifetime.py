"""Lifetime fits on delays from the independent generator in naive_photons.py.

Model and mean-lifetime definitions: Lakowicz, Principles of Fluorescence Spectroscopy
(3rd ed.), ch. 4; Sillen & Engelborghs, Photochem. Photobiol. 67, 475 (1998).
"""

from __future__ import annotations

import numpy as np
import pytest

from sdl.analysis.lifetime import (
    decay_delays,
    decay_histogram,
    fit_lifetime,
    mean_lifetimes,
    periodic_exp_gauss,
)

from .naive_photons import tcspc_delays

P = 50_000


@pytest.mark.parametrize("seed", [1, 2])
def test_single_exponential_within_2_sigma(seed):
    rng = np.random.default_rng(seed)
    d = tcspc_delays(rng, 40_000, P, [4_000.0], [1.0], 150.0, 46_000.0, n_background=5_000)
    e, c = decay_histogram(d, P, 100)
    f = fit_lifetime(c, e, P)
    assert abs(f.taus_ps[0] - 4_000) < 2 * f.taus_stderr_ps[0], f
    # the pulse at 46 ns wraps its tail around the period end: the shift is found
    assert f.shift_ps % P == pytest.approx(46_000, abs=60)
    assert f.irf_sigma_ps == pytest.approx(150, rel=0.3)
    assert f.signal_fraction == pytest.approx(40_000 / 45_000, abs=0.01)
    assert 0.85 < f.chi2_dof < 1.2


def test_biexponential_mean_lifetimes_within_2_sigma():
    rng = np.random.default_rng(7)
    taus, fr = [1_500.0, 9_000.0], [0.5, 0.5]
    d = tcspc_delays(rng, 150_000, P, taus, fr, 100.0, 5_000.0, n_background=3_000)
    e, c = decay_histogram(d, P, 100)
    f = fit_lifetime(c, e, P, n_exp=2)
    amps = np.array(fr) / np.array(taus)  # a_i ∝ photon fraction / tau_i
    ta, ti = mean_lifetimes(amps, taus)
    assert abs(f.tau_amp_ps - ta) < 2 * f.tau_amp_stderr_ps, (f.tau_amp_ps, f.tau_amp_stderr_ps, ta)
    assert abs(f.tau_int_ps - ti) < 2 * f.tau_int_stderr_ps, (f.tau_int_ps, f.tau_int_stderr_ps, ti)
    for t, s, truth in zip(f.taus_ps, f.taus_stderr_ps, taus, strict=True):
        assert abs(t - truth) < 2 * s


def test_measured_irf_option():
    rng = np.random.default_rng(11)
    d = tcspc_delays(rng, 60_000, P, [3_000.0], [1.0], 120.0, 10_000.0, n_background=2_000)
    e, c = decay_histogram(d, P, 100)
    irf_d = np.mod(np.floor(rng.normal(8_000, 120, 400_000)).astype(np.int64), P)
    irf = np.histogram(irf_d, bins=e)[0]
    f = fit_lifetime(c, e, P, irf=irf)
    assert abs(f.taus_ps[0] - 3_000) < 2 * f.taus_stderr_ps[0]
    assert f.shift_ps == pytest.approx(2_000, abs=60)  # decay sits 2 ns after the IRF


def test_low_counts_poisson_ml_unbiased():
    # ~2 counts per bin at the peak: least squares would be biased, Poisson ML is not
    rng = np.random.default_rng(12)
    est = []
    for _ in range(30):
        d = tcspc_delays(rng, 800, P, [5_000.0], [1.0], 100.0, 2_000.0)
        e, c = decay_histogram(d, P, 250)
        est.append(fit_lifetime(c, e, P, irf_sigma_ps=100.0).taus_ps[0])
    est = np.array(est)
    # mean of 30 fits within 3 standard errors of the truth
    assert abs(est.mean() - 5_000) < 3 * est.std(ddof=1) / np.sqrt(est.size)


def test_mean_lifetime_formulas():
    ta, ti = mean_lifetimes([1.0, 1.0], [1.0, 3.0])
    assert ta == pytest.approx(2.0) and ti == pytest.approx((1 + 9) / (1 + 3))


def test_periodic_model_is_normalised_and_wraps():
    x = np.arange(0, P, 10.0) + 5.0
    y = periodic_exp_gauss(x, P, 20_000.0, 50.0, 1_000.0)
    # integral over one period of the periodic sum equals tau (area of one exp decay)
    assert np.sum(y) * 10.0 == pytest.approx(20_000.0, rel=1e-3)
    # no gap at the period boundary: the tail of the previous pulse continues
    tau = 20_000.0
    assert y[0] == pytest.approx(np.exp(-(P - 1_000 + 5) / tau) / (1 - np.exp(-P / tau)), rel=1e-3)


def test_decay_delays_t2_sync_channel_and_t3():
    ts = np.array([0, 300, 1_000, 1_250, 2_000, 2_900], dtype=np.int64)
    ch = np.array([0, 1, 0, 2, 0, 1], dtype=np.uint8)
    np.testing.assert_array_equal(decay_delays(ts, ch, 1_000, sync_channel=0), [300, 250, 900])
    np.testing.assert_array_equal(decay_delays(ts, ch, 1_000, detectors=(1,)), [300, 900])
    dt = np.array([5, 6, 7, 8, 9, 10], dtype=np.int64)
    np.testing.assert_array_equal(
        decay_delays(ts, ch, 1_000, dtime_ps=dt, detectors=(1, 2)), [6, 8, 10]
    )
    with pytest.raises(ValueError, match="pulsed"):
        decay_delays(ts, ch, 0)


def test_fit_validation():
    with pytest.raises(ValueError, match="n_exp"):
        fit_lifetime(np.ones(10), np.arange(11) * 10, 100, n_exp=4)
    with pytest.raises(ValueError, match="empty"):
        fit_lifetime(np.zeros(10), np.arange(11) * 10, 100)
