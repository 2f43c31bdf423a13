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


def on_off_photon_trace(rng, duration_s, alpha_on, alpha_off, t_min_s, t_max_s, on_cps, off_cps):
    """A finite observation of a blinking emitter, independent of the package: an
    alternating renewal process with truncated power-law dwells p(t) ∝ t^-alpha on
    [t_min, t_max] (inverse CDF), entered at a random phase of its first dwell and cut at
    duration_s, with Poisson photons at on_cps / off_cps.

    Returns (timestamps int64 ps, truth dict: complete on/off dwells inside the window,
    on_fraction)."""

    def draw(a):
        lo, hi = t_min_s ** (1 - a), t_max_s ** (1 - a)
        return (lo + rng.random() * (hi - lo)) ** (1 / (1 - a))

    state = bool(rng.random() < 0.5)
    d = draw(alpha_on if state else alpha_off)
    t = -rng.random() * d
    starts, durs, states = [], [], []
    while t < duration_s:
        starts.append(t), durs.append(d), states.append(state)
        t += d
        state = not state
        d = draw(alpha_on if state else alpha_off)
    starts, durs, states = np.array(starts), np.array(durs), np.array(states)
    a = np.clip(starts, 0, duration_s)
    b = np.clip(starts + durs, 0, duration_s)
    n = rng.poisson(np.where(states, on_cps, off_cps) * (b - a))
    ts = np.repeat(a, n) + rng.random(n.sum()) * np.repeat(b - a, n)
    inner = slice(1, -1)  # the first and last dwell are cut by the window
    truth = {
        "on": durs[inner][states[inner]],
        "off": durs[inner][~states[inner]],
        "on_fraction": float(np.sum((b - a)[states]) / duration_s),
    }
    return np.sort(np.round(ts * 1e12).astype(np.int64)), truth


@pytest.mark.parametrize("method, duration_s", [("threshold", 600.0), ("change_point", 300.0)])
def test_alpha_1_5_recovered_from_photons(method, duration_s):
    # the issue: "blinking exponent recovered within ±0.1" at alpha = 1.5, where the
    # untruncated fit was biased by +0.07 (dwells cut at 10 s and by the trace). Measured
    # over 24 seeds of a 200 s trace: bias -0.015 to -0.003, spread 0.033-0.037
    # (change_point) and 0.053-0.064 (threshold: its dwells near t_min are distorted, so
    # KS picks a larger t_min), hence the longer trace for the threshold method.
    rng = np.random.default_rng(21)
    ts, truth = on_off_photon_trace(rng, duration_s, 1.5, 1.5, 5e-3, 10.0, 20_000, 500)
    r = analyze_blinking(ts, method=method)
    for f in (r.on_fit, r.off_fit):
        assert abs(f.alpha - 1.5) < 0.1, f
        assert f.n_tail > 200
    if method == "threshold":
        assert r.on_fit.resolution == pytest.approx(1e-3)  # binned dwells fitted as such
    assert r.on_fraction == pytest.approx(truth["on_fraction"], abs=0.01)


@pytest.fixture(scope="module")
def stream():
    # truncation at 1e4 x t_min keeps the truncated mass of the power law below 1e-3
    rng = np.random.default_rng(4)
    return blinking_stream(rng, 1200, 1.8, 2.0, 5e-3, 50.0, 20_000, 500)


@pytest.mark.parametrize("method", ["threshold", "change_point"])
def test_exponents_and_on_fraction_recovered(stream, method):
    ts, truth = stream
    r = analyze_blinking(ts, method=method)
    # this draw's on dwells are themselves 2 sigma low (their own fit gives 1.733), so:
    # within 3 sigma of the truth, and within 1 sigma of the same fit to the true dwells
    # (what the detection adds on top of sampling noise)
    ideal_on = fit_power_law(truth["on"][1:-1]).alpha
    ideal_off = fit_power_law(truth["off"][1:-1]).alpha
    assert abs(r.on_fit.alpha - 1.8) < 3 * r.on_fit.alpha_stderr, r.on_fit
    assert abs(r.off_fit.alpha - 2.0) < 3 * r.off_fit.alpha_stderr, r.off_fit
    assert abs(r.on_fit.alpha - ideal_on) < r.on_fit.alpha_stderr, (r.on_fit, ideal_on)
    assert abs(r.off_fit.alpha - ideal_off) < r.off_fit.alpha_stderr, (r.off_fit, ideal_off)
    assert r.on_fraction == pytest.approx(truth["on_fraction"], abs=0.01)
    assert r.levels_cps[0] == pytest.approx(20_000, rel=0.03)
    assert r.on_times_s.size == pytest.approx(truth["on"].size, rel=0.1)


def test_power_law_mle_closed_form_and_exactness():
    rng = np.random.default_rng(1)
    x = 0.01 * rng.random(4000) ** (-1 / 0.5)  # pure power law, alpha = 1.5, xmin = 0.01
    f = fit_power_law(x, t_min=0.01, truncated=False)  # Clauset eqs. 3.1, 3.2
    assert f.alpha == pytest.approx(1 + x.size / np.sum(np.log(x / 0.01)), rel=1e-12)
    assert f.alpha_stderr == pytest.approx((f.alpha - 1) / np.sqrt(x.size), rel=1e-12)
    assert abs(f.alpha - 1.5) < 2 * f.alpha_stderr
    # truncated at the largest value: barely different on untruncated data
    ft = fit_power_law(x, t_min=0.01)
    assert ft.t_max == x.max() and abs(ft.alpha - f.alpha) < 0.1 * f.alpha_stderr
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


def test_change_is_placed_at_the_photon_on_the_bright_side():
    # deterministic stream: sparse photons every 1 us, then dense every 10 ns, then
    # sparse again. The most likely change time is at the first dense photon (rise) and at
    # the last dense photon (drop): W&Y's "after photon k" lands there.
    sparse1 = np.arange(0, 200_000, 1_000, dtype=np.int64)
    dense = np.arange(200_500, 400_000, 10, dtype=np.int64)
    sparse2 = np.arange(400_700, 600_000, 1_000, dtype=np.int64)
    cp = change_points(np.concatenate([sparse1, dense, sparse2]))
    assert cp.tolist() == [0, 200_500, 399_990, 599_700]


def test_refinement_drops_a_ghost_change():
    # a forward split placed inside a steady stretch is moved or dropped once its
    # neighbours are known: never more changes than the forward search found, and the
    # remaining ones each significant between their neighbours
    from sdl.analysis.blinking import _refine_changes

    rng = np.random.default_rng(6)
    a = np.sort(rng.integers(0, 10**12, 20_000))  # 20 kcps for 1 s
    b = np.sort(rng.integers(10**12, 2 * 10**12, 500))  # 500 cps for 1 s
    t = np.concatenate([a, b])
    ghost = np.array([t[0], t[5_000], t[20_000 - 1], t[-1]], dtype=np.int64)  # t[5000]: no change
    out = _refine_changes(t, ghost, 0.05)
    assert out.size == 3 and abs(out[1] - 10**12) < 2e8, out


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
