"""Intensity levels of change-point segments (Watkins & Yang 2005, second stage).

Watkins & Yang, J. Phys. Chem. B 109, 617 (2005): after the change points, the S
segments (n_j photons in T_j seconds) are grouped into G intensity levels:

1. Agglomerative hierarchical clustering. Start with every segment its own group and
   repeatedly merge the two groups whose merge costs the least Poisson log-likelihood,
   `cost(A, B) = N_A ln(N_A/T_A) + N_B ln(N_B/T_B) - N_AB ln(N_AB/T_AB)` (the groups'
   photon-arrival log-likelihoods `N ln(N/T) - N` at their ML rates; the `-N` terms
   cancel). The cost is the T-weighted Jensen gap of the convex `r ln r` at the group
   rates, so in one dimension the cheapest pair is always adjacent in rate: the kernel
   only compares neighbours in rate order (O(S) per merge). The numpy reference in the
   tests searches all pairs and must agree exactly.
2. Expectation-maximisation of the Poisson mixture
   `P(n_j | T_j) = sum_m w_m (I_m T_j)^n_j e^(-I_m T_j) / n_j!`, started from each cut
   of the dendrogram (G = 1..G_max): `p(m|j) ∝ w_m P(n_j | I_m T_j)`,
   `I_m = sum_j p(m|j) n_j / sum_j p(m|j) T_j`, `w_m = mean_j p(m|j)`.
3. G by the Bayesian information criterion (Schwarz, Ann. Stat. 6, 461 (1978)) in W&Y's
   form `BIC(G) = 2 ln L_G - (2G - 1) ln S - M ln N`: G rates and G - 1 weights with
   the S segments as observations, and each of the M change points of the trajectory
   costing ln N (N photons; for change points, Yao, Stat. Probab. Lett. 6, 181 (1988)).
   In W&Y, M is all the detected change points, the same for every G. Here M is
   the number of *state switches* under the G-level model: with segments in time order
   and each at its most probable level, a boundary between two segments of the same
   level is not a change of the G-level trajectory and costs nothing. This matters at
   high count rates: binary segmentation at alpha = 0.05 leaves a few false splits
   (pieces of a steady stretch, each carved out for being a chance fluctuation) and a
   few segments holding an undetected short dwell; segments of thousands of photons
   resolve their rates to ~2 %, so the fixed-M BIC gives these a level of their own.
   Putting them back in a real level removes one or two switches, which pays for the
   likelihood they lose. Measured on 2-, 3- and 4-level emitters (300-15000 cps,
   exponential dwells of 0.2 s, 60 s, 20 seeds each): the right G in 70 %, 85 %, 85 %
   of seeds with fixed M, 100 %, 100 %, 95 % with M counted here.
   The largest BIC wins; segments take their most probable level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["IntensityLevels", "cluster_levels", "on_levels"]


# ------------------------------------------------------------------ kernels


@njit(cache=True)
def _group_loglik(n, t):
    """N ln(N/T): the Poisson arrival log-likelihood at the ML rate, less N (0 for N=0)."""
    if n <= 0.0:
        return 0.0
    return n * math.log(n / t)


@njit(cache=True)
def _ahc_adjacent(n, t, g_max):
    """Agglomerative clustering of rate-sorted segments (W&Y 2005), neighbours only.

    Args:
        n: (S,) float64 photon counts, sorted by rate n/t (ascending).
        t: (S,) float64 durations (> 0), same order.
        g_max: largest number of groups to report (1 <= g_max).

    Returns:
        (g_max, S) int64: row g - 1 labels each segment with its group (0 = dimmest) when
        g groups remain; rows with g > S are -1.
    """
    s = n.shape[0]
    labels = np.full((g_max, s), -1, np.int64)
    gn = n.copy()
    gt = t.copy()
    start = np.arange(s)  # first segment of each group (groups are contiguous)
    g = s
    while True:
        if g <= g_max:
            for k in range(g):
                hi = start[k + 1] if k + 1 < g else s
                for j in range(start[k], hi):
                    labels[g - 1, j] = k
        if g == 1:
            break
        best = np.inf
        kb = 0
        for k in range(g - 1):
            c = (
                _group_loglik(gn[k], gt[k])
                + _group_loglik(gn[k + 1], gt[k + 1])
                - _group_loglik(gn[k] + gn[k + 1], gt[k] + gt[k + 1])
            )
            if c < best:
                best = c
                kb = k
        gn[kb] += gn[kb + 1]
        gt[kb] += gt[kb + 1]
        for k in range(kb + 1, g - 1):
            gn[k] = gn[k + 1]
            gt[k] = gt[k + 1]
            start[k] = start[k + 1]
        g -= 1
    return labels


@njit(cache=True)
def _poisson_logpmf(n, mu):
    """ln Poisson(n; mu), with 0^0 = 1."""
    if mu <= 0.0:
        return 0.0 if n == 0.0 else -np.inf
    return n * math.log(mu) - mu - math.lgamma(n + 1.0)


@njit(cache=True)
def _em_poisson(n, t, rates0, w0, max_iter, tol):
    """EM for a G-level Poisson mixture of segments.

    Args:
        n: (S,) float64 photon counts; t: (S,) float64 durations, s.
        rates0: (G,) float64 initial rates, cps; w0: (G,) initial weights (sum 1).
        max_iter: iteration cap; tol: stop when the log-likelihood gains less than
            tol * (1 + |ln L|).

    Returns:
        (rates (G,), weights (G,), resp (S, G) posteriors, ln L, iterations). ln L is
        that of the returned parameters.
    """
    s = n.shape[0]
    g = rates0.shape[0]
    rates = rates0.copy()
    w = w0.copy()
    resp = np.zeros((s, g))
    lp = np.empty(g)
    prev = -np.inf
    ll = -np.inf
    it = 0
    while True:
        # E step (and ln L of the current parameters)
        ll = 0.0
        for j in range(s):
            mx = -np.inf
            for m in range(g):
                lw = math.log(w[m]) if w[m] > 0.0 else -np.inf
                lp[m] = lw + _poisson_logpmf(n[j], rates[m] * t[j])
                if lp[m] > mx:
                    mx = lp[m]
            if mx == -np.inf:  # impossible under every level (cannot arise from AHC starts)
                for m in range(g):
                    resp[j, m] = 1.0 / g
                ll = -np.inf
                continue
            tot = 0.0
            for m in range(g):
                e = math.exp(lp[m] - mx) if lp[m] > -np.inf else 0.0
                resp[j, m] = e
                tot += e
            for m in range(g):
                resp[j, m] /= tot
            ll += mx + math.log(tot)
        if it >= max_iter or ll - prev <= tol * (1.0 + abs(ll)):
            break
        prev = ll
        it += 1
        # M step
        for m in range(g):
            sn = 0.0
            st = 0.0
            sr = 0.0
            for j in range(s):
                sn += resp[j, m] * n[j]
                st += resp[j, m] * t[j]
                sr += resp[j, m]
            if st > 0.0:
                rates[m] = sn / st
            w[m] = sr / s
    return rates, w, resp, ll, it


# ------------------------------------------------------------------ public


@dataclass(frozen=True)
class IntensityLevels:
    """Intensity levels of a segmented trace, ordered by rate (dimmest first).

    Attributes:
        rates_cps: (G,) level intensities, photons/s.
        occupancy: (G,) fraction of the observed time in each level (posterior-weighted
            segment durations).
        weights: (G,) mixture weights (fraction of segments).
        assignment: (S,) int64 most probable level of each segment, input order.
        bic: (G_max,) BIC for G = 1..G_max (nan where G > S).
        log_likelihood: (G_max,) ln L of the EM fit for each G.
        n_switches: (G_max,) state switches M of the G-level trajectory (-1 where G > S).
    """

    rates_cps: np.ndarray
    occupancy: np.ndarray
    weights: np.ndarray
    assignment: np.ndarray
    bic: np.ndarray
    log_likelihood: np.ndarray
    n_switches: np.ndarray

    @property
    def n_levels(self) -> int:
        return int(self.rates_cps.size)

    def to_json(self) -> dict:
        return {
            "n_levels": self.n_levels,
            "rates_cps": self.rates_cps.tolist(),
            "occupancy": self.occupancy.tolist(),
            "bic": [None if not np.isfinite(b) else float(b) for b in self.bic],
            "n_switches": [None if m < 0 else int(m) for m in self.n_switches],
        }


def cluster_levels(
    counts: np.ndarray,
    durations_s: np.ndarray,
    *,
    max_levels: int = 5,
    max_iter: int = 2000,
    tol: float = 1e-12,
) -> IntensityLevels:
    """Group segments into intensity levels (Watkins & Yang 2005: AHC, EM, BIC).

    Args:
        counts: (S,) photons in each segment (non-negative integers), segments in time
            order (the BIC counts switches between consecutive segments).
        durations_s: (S,) segment durations, s (> 0).
        max_levels: largest number of levels considered (1..20).
        max_iter: EM iteration cap per G.
        tol: EM relative convergence tolerance on ln L.

    Returns:
        IntensityLevels with the G of largest BIC.

    Raises:
        ValueError: shapes, negative counts, non-positive durations or max_levels.
    """
    n = np.asarray(counts)
    t = np.asarray(durations_s, dtype=np.float64)
    if n.ndim != 1 or n.shape != t.shape or n.size == 0:
        raise ValueError(
            f"counts and durations_s must be equal-length 1-D arrays, got {n.shape}, {t.shape}"
        )
    if not np.issubdtype(n.dtype, np.integer):
        if not np.all(n == np.round(n)):
            raise ValueError("counts must be whole photon numbers")
    n = n.astype(np.float64)
    if np.any(n < 0):
        raise ValueError("counts must be >= 0")
    if not np.all(t > 0) or not np.all(np.isfinite(t)):
        raise ValueError("durations_s must be finite and > 0")
    if not 1 <= int(max_levels) <= 20:
        raise ValueError(f"max_levels must be in 1..20, got {max_levels}")
    s = n.size
    g_max = int(max_levels)
    order = np.argsort(n / t, kind="stable")
    ns, ts = n[order], t[order]
    labels = _ahc_adjacent(ns, ts, g_max)
    bic = np.full(g_max, np.nan)
    lls = np.full(g_max, np.nan)
    switches = np.full(g_max, -1, np.int64)
    fits = {}
    for g in range(1, min(g_max, s) + 1):
        lab = labels[g - 1]
        gn = np.bincount(lab, weights=ns, minlength=g)
        gt = np.bincount(lab, weights=ts, minlength=g)
        w0 = np.bincount(lab, minlength=g) / s
        rates, w, resp, ll, _ = _em_poisson(ns, ts, gn / gt, w0, int(max_iter), float(tol))
        lls[g - 1] = ll
        # state switches of the G-level trajectory (segments in time order)
        m_time = np.empty(s, np.int64)
        m_time[order] = np.argmax(resp, axis=1)
        n_switch = int(np.count_nonzero(m_time[1:] != m_time[:-1]))
        switches[g - 1] = n_switch
        bic[g - 1] = 2.0 * ll - (2 * g - 1) * np.log(s) - n_switch * np.log(max(n.sum(), 2.0))
        fits[g] = (rates, w, resp)
    best = int(np.nanargmax(bic)) + 1
    rates, w, resp = fits[best]
    ro = np.argsort(rates, kind="stable")
    rates, w, resp = rates[ro], w[ro], resp[:, ro]
    occupancy = resp.T @ ts / ts.sum()
    assign_sorted = np.argmax(resp, axis=1)
    assignment = np.empty(s, np.int64)
    assignment[order] = assign_sorted
    return IntensityLevels(rates, occupancy, w, assignment, bic, lls, switches)


def on_levels(rates_cps: np.ndarray) -> tuple[np.ndarray, float]:
    """Which levels count as "on", and the rate threshold used.

    The brightest level is on and the dimmest off. A level in between is on when its rate
    exceeds the logarithmic mean of the two, `(I_max - I_min) / ln(I_max / I_min)`: the
    rate at which a segment is equally likely (Poisson) under the brightest and the
    dimmest level, the same criterion `poisson_threshold` uses on a binned trace, so a
    drifting bright level split in two by BIC stays on, and a grey level near the off
    level is off. With a single level everything is on (no blinking resolved).

    Args:
        rates_cps: (G,) level rates, ascending.

    Returns:
        ((G,) bool on-flags, threshold in cps; -inf for a single level).
    """
    r = np.asarray(rates_cps, dtype=np.float64)
    if r.size <= 1 or r[-1] <= r[0]:
        return np.ones(r.size, bool), -np.inf
    lo, hi = float(r[0]), float(r[-1])
    thr = 0.0 if lo <= 0 else (hi - lo) / np.log(hi / lo)
    on = r > thr
    on[0] = False
    on[-1] = True
    return on, float(thr)
