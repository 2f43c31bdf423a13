"""Intensity levels of change-point segments (Watkins & Yang 2005: AHC, EM, BIC).

The numba kernels are compared with slow, obvious numpy/scipy references written here:
an all-pairs agglomeration (W&Y's rule as stated: merge the pair that loses the least
likelihood, any two groups) and a vectorised EM with scipy's Poisson log-pmf. The
multi-level emitters are simulated here, independently of the package.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import poisson

from sdl.analysis.blinking import analyze_blinking, cluster_levels, on_levels
from sdl.analysis.blinking_levels import _ahc_adjacent, _em_poisson

# ------------------------------------------------------------------ numpy references


def naive_ahc(n: np.ndarray, t: np.ndarray, g_max: int) -> np.ndarray:
    """All-pairs agglomerative clustering, groups as index lists; labels by rate order.

    Merge cost of groups A, B: l(A) + l(B) - l(A u B), l = N ln(N/T) (0 for N = 0). Ties
    go to the first pair in (i, j) order of the rate-sorted groups.
    """

    def ll(nn, tt):
        return nn * np.log(nn / tt) if nn > 0 else 0.0

    groups = [[j] for j in range(n.size)]
    out = np.full((g_max, n.size), -1, np.int64)
    while True:
        groups.sort(key=lambda g: (n[g].sum() / t[g].sum(), g[0]))
        if len(groups) <= g_max:
            for k, g in enumerate(groups):
                out[len(groups) - 1, g] = k
        if len(groups) == 1:
            return out
        best, pair = np.inf, None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a, b = groups[i], groups[j]
                c = (
                    ll(n[a].sum(), t[a].sum())
                    + ll(n[b].sum(), t[b].sum())
                    - ll(n[a].sum() + n[b].sum(), t[a].sum() + t[b].sum())
                )
                if c < best:
                    best, pair = c, (i, j)
        i, j = pair
        groups[i] = sorted(groups[i] + groups[j])
        del groups[j]


def naive_em(n, t, rates, w, iters):
    """`iters` EM steps of the Poisson mixture; returns rates, weights, posteriors, ln L."""
    rates, w = rates.astype(float).copy(), w.astype(float).copy()
    for it in range(iters + 1):
        with np.errstate(divide="ignore"):
            lp = np.log(w)[None, :] + poisson.logpmf(n[:, None], rates[None, :] * t[:, None])
        ll = logsumexp(lp, axis=1)
        resp = np.exp(lp - ll[:, None])
        if it == iters:
            return rates, w, resp, ll.sum()
        rates = (resp * n[:, None]).sum(0) / (resp * t[:, None]).sum(0)
        w = resp.mean(0)


# ------------------------------------------------------------------ kernels vs references


def _segments(rng, s, rates):
    t = rng.uniform(0.002, 0.2, s)
    lv = rng.integers(0, len(rates), s)
    n = rng.poisson(np.asarray(rates)[lv] * t).astype(float)
    return n, t, lv


@pytest.mark.parametrize("seed", range(6))
def test_ahc_kernel_matches_all_pairs_reference(seed):
    rng = np.random.default_rng(seed)
    n, t, _ = _segments(rng, 25 + 5 * seed, [0.0, 300.0, 4000.0, 20000.0])
    order = np.argsort(n / t, kind="stable")
    n, t = n[order], t[order]
    got = _ahc_adjacent(n, t, 6)
    assert np.array_equal(got, naive_ahc(n, t, 6))
    # every cut is a set of rate intervals: labels non-decreasing in rate order
    assert np.all(np.diff(got[2]) >= 0)


def test_ahc_merges_the_cheapest_pair_first():
    # three segments: two at ~1000 cps, one at 10000 cps -> at 2 groups the two dim merge
    n = np.array([10.0, 11.0, 100.0])
    t = np.array([0.01, 0.01, 0.01])
    lab = _ahc_adjacent(n, t, 3)
    assert lab[1].tolist() == [0, 0, 1] and lab[2].tolist() == [0, 1, 2]
    assert lab[0].tolist() == [0, 0, 0]


@pytest.mark.parametrize("seed", range(4))
def test_em_kernel_matches_numpy_reference(seed):
    rng = np.random.default_rng(10 + seed)
    n, t, _ = _segments(rng, 200, [500.0, 5000.0, 20000.0])
    r0 = np.array([800.0, 3000.0, 15000.0])
    w0 = np.array([0.2, 0.3, 0.5])
    # tol = -1: never converged, so both run exactly `iters` steps
    rates, w, resp, ll, it = _em_poisson(n, t, r0, w0, 40, -1.0)
    ref_rates, ref_w, ref_resp, ref_ll = naive_em(n, t, r0, w0, 40)
    assert it == 40
    np.testing.assert_allclose(rates, ref_rates, rtol=1e-10)
    np.testing.assert_allclose(w, ref_w, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-8, atol=1e-12)
    assert ll == pytest.approx(ref_ll, rel=1e-12)


def test_em_handles_a_dark_level():
    # an off level with zero rate: segments with no photons, ln 0^0 = 0
    n = np.array([0.0, 0.0, 0.0, 50.0, 52.0])
    t = np.full(5, 0.01)
    rates, w, resp, ll, _ = _em_poisson(
        n, t, np.array([0.0, 5000.0]), np.array([0.5, 0.5]), 50, 1e-12
    )
    assert rates[0] == 0.0 and rates[1] == pytest.approx(5100.0)
    assert np.allclose(resp[:3, 0], 1.0) and np.allclose(resp[3:, 1], 1.0)
    assert w == pytest.approx([0.6, 0.4]) and np.isfinite(ll)


# ------------------------------------------------------------------ cluster_levels


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("rates", [[20_000.0], [500.0, 20_000.0], [500.0, 6_000.0, 20_000.0]])
def test_bic_recovers_the_number_of_levels_from_segments(seed, rates):
    rng = np.random.default_rng(100 + seed)
    n, t, lv = _segments(rng, 400, rates)
    r = cluster_levels(n.astype(np.int64), t)
    assert r.n_levels == len(rates), r.to_json()
    for k, rate in enumerate(rates):
        m = lv == k
        sigma = np.sqrt(rate / t[m].sum())  # Poisson error of the level rate
        assert abs(r.rates_cps[k] - rate) < 4 * sigma + 1e-9, (k, r.rates_cps)
        assert r.occupancy[k] == pytest.approx(t[m].sum() / t.sum(), abs=0.01)
    assert np.mean(r.assignment == lv) > 0.98
    # the documented BIC, and it is largest at the chosen G
    g = np.arange(1, r.bic.size + 1)
    np.testing.assert_allclose(
        r.bic,
        2 * r.log_likelihood - (2 * g - 1) * np.log(n.size) - r.n_switches * np.log(n.sum()),
    )
    m = r.assignment
    assert r.n_switches[r.n_levels - 1] == np.count_nonzero(m[1:] != m[:-1])
    assert int(np.nanargmax(r.bic)) + 1 == r.n_levels


def test_cluster_levels_small_inputs_and_validation():
    one = cluster_levels(np.array([10]), np.array([0.01]))
    assert one.n_levels == 1 and one.rates_cps[0] == pytest.approx(1000.0)
    assert np.isnan(one.bic[1:]).all() and one.to_json()["bic"][1] is None
    with pytest.raises(ValueError, match="equal-length"):
        cluster_levels(np.array([1, 2]), np.array([0.1]))
    with pytest.raises(ValueError, match="> 0"):
        cluster_levels(np.array([1, 2]), np.array([0.1, 0.0]))
    with pytest.raises(ValueError, match=">= 0"):
        cluster_levels(np.array([1, -2]), np.array([0.1, 0.1]))
    with pytest.raises(ValueError, match="whole"):
        cluster_levels(np.array([1.5, 2.0]), np.array([0.1, 0.1]))
    with pytest.raises(ValueError, match="max_levels"):
        cluster_levels(np.array([1, 2]), np.array([0.1, 0.1]), max_levels=0)


def test_on_levels_rule():
    on, thr = on_levels(np.array([200.0, 1000.0, 8000.0, 9500.0, 10_000.0]))
    assert thr == pytest.approx((10_000 - 200) / np.log(10_000 / 200))  # ~2505 cps
    assert on.tolist() == [False, False, True, True, True]
    on, thr = on_levels(np.array([0.0, 3000.0]))
    assert on.tolist() == [False, True]
    on, thr = on_levels(np.array([7000.0]))
    assert on.tolist() == [True] and thr == -np.inf


# ------------------------------------------------------------------ photon streams


def markov_levels_stream(rng, duration_s, rates_cps, mean_dwell_s):
    """Emitter jumping between intensity levels: exponential dwells (mean mean_dwell_s[k]),
    next level uniform among the others, Poisson photons at rates_cps[k].

    Returns (timestamps int64 ps, time fraction in each level)."""
    k = int(rng.integers(len(rates_cps)))
    t, starts, durs, lv = 0.0, [], [], []
    while t < duration_s:
        d = min(rng.exponential(mean_dwell_s[k]), duration_s - t)
        starts.append(t), durs.append(d), lv.append(k)
        t += d
        k = int(rng.choice([j for j in range(len(rates_cps)) if j != k]))
    starts, durs, lv = np.array(starts), np.array(durs), np.array(lv)
    n = rng.poisson(np.asarray(rates_cps)[lv] * durs)
    ts = np.repeat(starts, n) + rng.random(n.sum()) * np.repeat(durs, n)
    frac = np.bincount(lv, weights=durs, minlength=len(rates_cps)) / duration_s
    return np.sort(np.round(ts * 1e12).astype(np.int64)), frac


@pytest.mark.parametrize(
    "rates",
    [[300.0, 15_000.0], [300.0, 5_000.0, 15_000.0], [300.0, 3_000.0, 8_000.0, 15_000.0]],
)
def test_levels_of_a_multilevel_emitter(rates):
    rng = np.random.default_rng(len(rates))
    ts, frac = markov_levels_stream(rng, 60.0, rates, [0.2] * len(rates))
    r = analyze_blinking(ts, method="change_point")
    lv = r.levels
    assert lv.n_levels == len(rates), lv.to_json()
    # each level within 4 Poisson sigma of its rate (sqrt(photons)/time) plus 1 % for
    # photons that change-point boundaries put in the wrong segment; occupancy to 0.005
    # (measured over 20 seeds: G right in 19-20 of 20, rates within 2.9 % for the
    # 300 cps level and 1.3 % for the others, occupancy within 0.001)
    sigma = np.sqrt(np.asarray(rates) / (frac * 60.0))
    assert np.all(np.abs(lv.rates_cps - rates) < 4 * sigma + 0.01 * np.asarray(rates)), lv.to_json()
    np.testing.assert_allclose(lv.occupancy, frac, atol=0.005)
    # on = above the log-mean of the dimmest and brightest level (3758 cps here)...
    expect_on = np.asarray(rates) > (15_000 - 300) / np.log(15_000 / 300)
    assert r.level_on.tolist() == expect_on.tolist()
    assert r.on_fraction == pytest.approx(frac[expect_on].sum(), abs=0.02)
    # ... and it is all in the JSON
    js = r.to_json()["levels"]
    assert js["n_levels"] == len(rates) and js["on"][-1] and len(js["bic"]) == 5


def test_steady_emitter_has_one_level():
    rng = np.random.default_rng(7)
    ts = np.sort(rng.integers(0, 20 * 10**12, 200_000))
    r = analyze_blinking(ts, method="change_point")
    assert r.levels.n_levels == 1 and r.on_fraction == 1.0
    assert r.to_json()["levels"]["rates_cps"][0] == pytest.approx(10_000, rel=0.01)


def test_cli_reports_the_levels(tmp_path, capsys):
    import json

    from sdl.analysis import photon_files
    from sdl.cli import main

    rng = np.random.default_rng(9)
    ts, frac = markov_levels_stream(rng, 20.0, [300.0, 5_000.0, 15_000.0], [0.2] * 3)
    path = tmp_path / "levels.h5"
    photon_files.write_photon_hdf5(path, timestamps_ps=ts, channels=np.zeros(ts.size, np.uint8))
    assert main(["analyze", "blinking", str(path), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["levels"]["n_levels"] == 3 and r["levels"]["on"] == [False, True, True]
    np.testing.assert_allclose(r["levels"]["occupancy"], frac, atol=0.02)
    assert main(["analyze", "blinking", str(path)]) == 0
    text = capsys.readouterr().out
    assert "3 intensity level(s) by BIC" in text and "(off)" not in text and ", off)" in text
