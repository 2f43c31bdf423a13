"""g2 analysis on synthetic streams from the independent generators in naive_photons.py.

Truths: pulsed g2(0) = <n(n-1)>/<n>^2 (Glauber); CW two-level emitter
g2(tau) = 1 - exp(-|tau|/tau0), 1/tau0 = k_exc + k_dec, and with uncorrelated background
g2(0) = 1 - rho^2 (Brouri et al., Opt. Lett. 25, 1294 (2000)). DOMAIN.md §7.
"""

from __future__ import annotations

import numpy as np
import pytest

from sdl.analysis.estimate import Estimate, NoOutcome
from sdl.analysis.g2 import (
    analyze_g2,
    brouri_correct,
    detector_streams,
    g2_zero_from_stream,
    locate_peak_comb,
    normalize_cw,
    pulsed_area_ratio,
)
from sdl.analysis.g2_fit import poisson_deviance
from sdl.analysis.g2_kernels import cross_correlation_counts, linear_edges

from .naive_photons import cw_emitter_stream, merge_channels, poisson_streams, pulsed_stream


def test_independent_poisson_streams_give_flat_g2_with_unit_chi2():
    rng = np.random.default_rng(11)
    t1, t2 = poisson_streams(rng, 2e5, 2e5, 5.0)
    edges = linear_edges(200_000, 2_000)
    c = cross_correlation_counts(t1, t2, edges)
    T = 5e12
    g = normalize_cw(c, edges, t1.size, t2.size, T)
    assert abs(g.mean() - 1) < 5 * np.sqrt(1 / c.sum())
    mu = t1.size * t2.size * np.diff(edges) / T
    chi2_dof = poisson_deviance(c, mu) / c.size
    # chi2/dof of a correct model: 1 +- sqrt(2/dof) (dof = 200)
    assert abs(chi2_dof - 1) < 4 * np.sqrt(2 / c.size)


def test_normalize_cw_formula():
    g = normalize_cw(np.array([10, 20]), np.array([0, 10, 30]), 100, 50, 5000.0)
    np.testing.assert_allclose(g, [10 * 5000 / (100 * 50 * 10), 20 * 5000 / (100 * 50 * 20)])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pulsed_area_ratio_recovers_g2_within_2_sigma(seed):
    rng = np.random.default_rng(seed)
    ts, ch, truth = pulsed_stream(rng, 1_000_000, 100_000, 0.15, 0.002, 4_000, 150, delay_ps=7_000)
    est = g2_zero_from_stream(ts, ch, 100_000)
    assert isinstance(est, Estimate)
    assert abs(est.value - truth) < 2 * est.stderr, (est, truth)
    r = analyze_g2(ts, ch, 100_000)
    assert r.method == "pulsed_area_ratio"
    assert abs(r.details["delay_ps"] - 7_000) < 300  # cable delay located automatically


def test_pulsed_sigma_formula():
    rng = np.random.default_rng(5)
    ts, ch, _ = pulsed_stream(rng, 300_000, 100_000, 0.2, 0.003, 3_000)
    t1, t2, _ = detector_streams(ts, ch)
    pa = pulsed_area_ratio(t1, t2, 100_000, n_side=4)
    A0, side = pa.centre_area, pa.side_areas
    g = A0 / side.mean()
    assert pa.g2_zero == pytest.approx(g)
    assert pa.stderr == pytest.approx(g * np.sqrt(1 / A0 + 1 / side.sum()))
    assert side.size == 8


def test_comb_location_wraps_cable_delay_into_half_period():
    rng = np.random.default_rng(6)
    ts, ch, _ = pulsed_stream(rng, 300_000, 50_000, 0.3, 0.0, 2_000, delay_ps=-20_000)
    t1, t2, _ = detector_streams(ts, ch)
    loc = locate_peak_comb(t1, t2, 50_000)
    assert abs(loc.offset_ps - (-20_000)) < 300
    assert loc.tau_ps == pytest.approx(2_000, rel=0.25)


def test_overlapping_pulsed_peaks_fit_within_2_sigma():
    # period 2.5 lifetimes: peaks overlap, the area ratio would be biased upward
    rng = np.random.default_rng(8)
    ts, ch, truth = pulsed_stream(rng, 2_000_000, 12_500, 0.1, 0.001, 5_000, 100, delay_ps=3_000)
    r = analyze_g2(ts, ch, 12_500)
    assert r.method == "pulsed_overlap_fit"
    assert abs(r.g2_zero - truth) < 2 * r.g2_zero_stderr, (r.g2_zero, r.g2_zero_stderr, truth)
    assert r.details["peak_tau_ps"] == pytest.approx(5_000, rel=0.1)
    biased = analyze_g2(ts, ch, 12_500, overlap=False)
    assert biased.g2_zero > truth + 0.2  # why the fit exists


def test_cw_antibunching_fit_recovers_g2_and_tau0():
    rng = np.random.default_rng(21)
    ts, ch, truth = cw_emitter_stream(
        rng, 4.0, 2e6, 5e7, 0.3, jitter_ps=200, delay_ps=2_500, bg_cps=20_000
    )
    r = analyze_g2(ts, ch, 0)
    assert r.method == "cw_antibunching_fit" and r.mode == "cw"
    assert abs(r.g2_zero - truth["g2_zero"]) < 2 * r.g2_zero_stderr, (
        r.g2_zero,
        r.g2_zero_stderr,
        truth,
    )
    assert abs(r.details["tau0_ps"] - truth["tau0_ps"]) < 2 * r.details["tau0_stderr_ps"]
    assert r.details["delay_ps"] == pytest.approx(2_500, abs=500)
    assert 0.8 < r.details["chi2_dof"] < 1.25
    # Brouri correction of the measured value removes the background: g2_true(0) ~ 0
    corr, se = brouri_correct(r.g2_zero, truth["rho"], r.g2_zero_stderr)
    assert abs(corr) < 2 * se


def test_brouri_formula_and_identity():
    assert brouri_correct(0.5, 1.0) == (0.5, 0.0)
    # rho^2 = 0.81: an ideal single emitter (0) is measured as 1 - rho^2 = 0.19
    v, s = brouri_correct(0.19, 0.9, 0.01)
    assert v == pytest.approx(0.0, abs=1e-12) and s == pytest.approx(0.01 / 0.81)
    with pytest.raises(ValueError, match="rho"):
        brouri_correct(0.1, 0.0)


def test_no_outcomes():
    empty = np.array([], dtype=np.int64)
    assert g2_zero_from_stream(empty, np.array([], np.uint8), 0) == NoOutcome(
        "no_photons", "empty photon stream"
    )
    one = g2_zero_from_stream(np.arange(5, dtype=np.int64), np.zeros(5, np.uint8), 100_000)
    assert isinstance(one, NoOutcome) and one.reason == "no_photons"
    ts, ch = merge_channels(np.array([0, 10**9], np.int64), np.array([5, 10**10], np.int64))
    for period in (0, 100_000):
        r = g2_zero_from_stream(ts, ch, period)
        assert isinstance(r, NoOutcome) and r.reason == "too_few_counts"


def test_input_validation():
    with pytest.raises(ValueError, match="int64"):
        g2_zero_from_stream(np.array([1.0, 2.0]), np.array([0, 1], np.uint8), 0)
    with pytest.raises(ValueError, match="equal length"):
        g2_zero_from_stream(np.array([1, 2], np.int64), np.array([0], np.uint8), 0)
    with pytest.raises(ValueError, match="monotonic"):
        g2_zero_from_stream(np.array([5, 1, 7, 8], np.int64), np.array([0, 0, 1, 1], np.uint8), 0)
    with pytest.raises(ValueError, match="period"):
        analyze_g2(np.array([1, 2], np.int64), np.array([0, 1], np.uint8), 0, mode="pulsed")
    with pytest.raises(ValueError, match="sync_period_ps"):
        g2_zero_from_stream(np.array([1, 2], np.int64), np.array([0, 1], np.uint8), -5)
