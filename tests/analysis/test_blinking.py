"""Blinking analysis on streams from the independent two-state generator (naive_photons).

Sources: Watkins & Yang, J. Phys. Chem. B 109, 617 (2005) (change points); Clauset,
Shalizi & Newman, SIAM Rev. 51, 661 (2009) (power-law MLE, alpha = 1 + n/sum ln(x/xmin),
sigma = (alpha-1)/sqrt(n)).
"""

from __future__ import annotations

import numpy as np
import pytest

from sdl.analysis.blinking import (
    analyze_blinking,
    change_points,
    dwell_times,
    fit_power_law,
    intensity_trace,
    otsu_threshold,
    poisson_threshold,
    wy_critical_value,
)

from .naive_photons import blinking_stream


@pytest.fixture(scope="module")
def stream():
    # truncation at 1e4 x t_min keeps the truncated mass of the power law below 1e-3
    rng = np.random.default_rng(4)
    return blinking_stream(rng, 1200, 1.8, 2.0, 5e-3, 50.0, 20_000, 500)


@pytest.mark.parametrize("method", ["threshold", "change_point"])
def test_exponents_and_on_fraction_recovered(stream, method):
    ts, truth = stream
    r = analyze_blinking(ts, method=method)
    assert abs(r.on_fit.alpha - 1.8) < 2 * r.on_fit.alpha_stderr, r.on_fit
    assert abs(r.off_fit.alpha - 2.0) < 2 * r.off_fit.alpha_stderr, r.off_fit
    assert r.on_fraction == pytest.approx(truth["on_fraction"], abs=0.01)
    assert r.levels_cps[0] == pytest.approx(20_000, rel=0.03)
    assert r.on_times_s.size == pytest.approx(truth["on"].size, rel=0.1)


def test_power_law_mle_closed_form_and_exactness():
    rng = np.random.default_rng(1)
    x = 0.01 * rng.random(4000) ** (-1 / 0.5)  # pure power law, alpha = 1.5, xmin = 0.01
    f = fit_power_law(x, t_min=0.01)
    assert f.alpha == pytest.approx(1 + x.size / np.sum(np.log(x / 0.01)))
    assert f.alpha_stderr == pytest.approx((f.alpha - 1) / np.sqrt(x.size))
    assert abs(f.alpha - 1.5) < 2 * f.alpha_stderr
    # KS-chosen x_min on data with a non-power-law body below 0.01
    body = rng.uniform(0.001, 0.005, 2000)
    g = fit_power_law(np.concatenate([x, body]))
    assert g.t_min >= 0.0045 and abs(g.alpha - 1.5) < 2 * g.alpha_stderr


def test_change_points_find_a_step_and_not_noise():
    rng = np.random.default_rng(2)
    a = np.sort(rng.integers(0, 10**12, 2000))  # 2 kcps for 1 s
    b = np.sort(rng.integers(10**12, 2 * 10**12, 10000))  # 10 kcps for 1 s
    cp = change_points(np.concatenate([a, b]))
    assert cp.size == 3 and abs(cp[1] - 10**12) < 2e9  # within ~20 photons of the step
    flat = np.sort(rng.integers(0, 10**12, 5000))
    assert change_points(flat).size == 2


def test_critical_value_false_alarm_rate():
    # on uniform data, a change is (wrongly) found in about alpha of the tests
    rng = np.random.default_rng(3)
    hits = sum(
        change_points(np.sort(rng.integers(0, 10**9, 200)), min_photons=1).size > 2
        for _ in range(200)
    )
    assert 2 <= hits <= 22  # alpha = 0.05 -> 10 expected, binomial 3-sigma band
    assert (
        wy_critical_value(1000, 0.01) > wy_critical_value(1000, 0.05) > wy_critical_value(1000, 0.1)
    )


def test_trace_thresholds_and_dwell_times():
    ts = np.array([0, 1, 2, 10, 11, 25, 26, 27, 28, 40], dtype=np.int64)
    e, c = intensity_trace(ts, 10)
    assert e.tolist() == [0, 10, 20, 30, 40] and c.tolist() == [3, 2, 4, 0]
    assert otsu_threshold(np.array([0, 0, 1, 9, 10, 10])) in (
        1.5,
        2.5,
        3.5,
        4.5,
        5.5,
        6.5,
        7.5,
        8.5,
    )
    c2 = np.concatenate([np.zeros(50, int), np.full(50, 20)])
    assert 0 < poisson_threshold(c2) < 20
    on, off = dwell_times(np.array([1, 1, 0, 0, 0, 1, 0, 1, 1], bool), 0.5)
    assert on.tolist() == [0.5] and off.tolist() == [1.5, 0.5]


def test_validation():
    with pytest.raises(ValueError, match="int64"):
        analyze_blinking(np.arange(100.0))
    with pytest.raises(ValueError, match="method"):
        analyze_blinking(np.arange(100, dtype=np.int64) * 10**9, method="hmm")
    with pytest.raises(ValueError, match="at least"):
        fit_power_law(np.ones(3))


def test_steady_emitter_is_all_on():
    rng = np.random.default_rng(5)
    ts = np.sort(rng.integers(0, 10**12, 20_000))
    r = analyze_blinking(ts, method="change_point")
    assert r.on_fraction == 1.0 and r.details["n_change_points"] == 0
    assert r.levels_cps[0] == pytest.approx(20_000, rel=0.01)


@pytest.mark.parametrize("seed", range(4))
def test_llr_kernel_matches_numpy_reference(seed):
    from sdl.analysis.blinking import _max_llr

    from .naive_photons import naive_max_llr

    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(10, 10**6, 500)).astype(np.int64)
    llr, k = _max_llr(t, 0, t.size, 0, 10**6 + 1)
    ref_llr, ref_k = naive_max_llr(t, 0, 10**6 + 1)
    assert k == ref_k and llr == pytest.approx(ref_llr, rel=1e-12)
