"""Block bootstrap: agrees with the Poisson error on stationary data, exposes drifts."""

from __future__ import annotations

import numpy as np

from sdl.analysis.bootstrap import block_bootstrap_cw, block_bootstrap_pulsed, block_histograms
from sdl.analysis.g2 import detector_streams, pulsed_area_ratio
from sdl.analysis.g2_kernels import cross_correlation_counts, linear_edges

from .naive_photons import cw_emitter_stream, merge_channels, pulsed_stream

P = 100_000


def _pulsed(seed, n_pulses, p2, t0=0):
    ts, ch, truth = pulsed_stream(np.random.default_rng(seed), n_pulses, P, 0.2, p2, 3_000)
    t1, t2, _ = detector_streams(ts, ch)
    return t1 + t0, t2 + t0, truth


def test_block_rows_sum_to_full_histogram():
    t1, t2, _ = _pulsed(1, 100_000, 0.003)
    e = linear_edges(3 * P, P // 10)
    rows, n1, n2, _ = block_histograms(t1, t2, e, 7)
    np.testing.assert_array_equal(rows.sum(axis=0), cross_correlation_counts(t1, t2, e))
    assert n1.sum() == t1.size and n2.sum() == t2.size


def test_stationary_pulsed_bootstrap_matches_poisson_error():
    t1, t2, truth = _pulsed(2, 600_000, 0.003)
    r = block_bootstrap_pulsed(t1, t2, P, offset_ps=0.0, n_blocks=30, seed=1)
    pa = pulsed_area_ratio(t1, t2, P, offset_ps=0.0)
    assert r.value == pa.g2_zero and r.analytic_stderr == pa.stderr
    # bootstrap sd of a stationary Poisson source ~ analytic (30 blocks: +-~15 %)
    assert 0.7 < r.stderr / r.analytic_stderr < 1.4
    assert r.stationary and r.g2_p_value > 1e-3
    assert abs(r.value - truth) < 2 * r.stderr


def test_drifting_g2_is_exposed():
    # second half of the run has 4x the two-photon probability (g2 0.14 -> 0.5)
    a1, a2, _ = _pulsed(3, 300_000, 0.003)
    b1, b2, _ = _pulsed(4, 300_000, 0.012, t0=300_000 * P)
    t1, t2 = np.concatenate([a1, b1]), np.concatenate([a2, b2])
    r = block_bootstrap_pulsed(t1, t2, P, offset_ps=0.0, n_blocks=20, seed=1)
    assert r.g2_p_value < 1e-6 and not r.stationary
    assert r.stderr > 1.5 * r.analytic_stderr
    half = r.block_values[:10].mean(), r.block_values[10:].mean()
    assert half[1] > 2 * half[0]


def test_blinking_intensity_is_exposed_cw():
    # emitter switched off for the middle third: photon counts per block are not Poisson
    rng = np.random.default_rng(5)
    ts, ch, truth = cw_emitter_stream(rng, 3.0, 2e6, 5e7, 0.05, bg_cps=500)
    keep = (ts < 1e12) | (ts > 2e12) | (rng.random(ts.size) < 0.05)
    ts, ch = ts[keep], ch[keep]
    t1, t2, _ = detector_streams(ts, ch)
    e = linear_edges(150_000, 2_000)
    r = block_bootstrap_cw(t1, t2, e, n_blocks=12, n_boot=20, seed=2, jitter_ps=1.0)
    assert r.intensity_dispersion > 50 and r.intensity_p_value < 1e-6 and not r.stationary
    assert r.stderr > 0 and abs(r.value - truth["g2_zero"]) < 3 * max(r.stderr, r.analytic_stderr)


def test_steady_cw_intensity_test_passes():
    rng = np.random.default_rng(6)
    t1, t2 = (np.sort(rng.integers(0, 10**12, 50_000)) for _ in range(2))
    ts, ch = merge_channels(t1, t2)
    a, b, _ = detector_streams(ts, ch)
    r = block_bootstrap_cw(a, b, linear_edges(100_000, 5_000), n_blocks=10, n_boot=3, jitter_ps=1.0)
    assert r.intensity_p_value > 1e-3
