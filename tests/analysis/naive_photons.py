"""Slow, obvious numpy references for the photon-statistics kernels (stumpy naive.py style).

Each function does the textbook computation with no cleverness, for small inputs only.
"""

from __future__ import annotations

import numpy as np


def naive_cross_correlation_counts(t1: np.ndarray, t2: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram of all pairwise delays t2[j] - t1[i] in bins [edges[k], edges[k+1]).

    Builds the full N1 x N2 matrix of delays (every pair, no window), so it is exact by
    construction.
    """
    t1 = np.asarray(t1, dtype=np.int64)
    t2 = np.asarray(t2, dtype=np.int64)
    edges = np.asarray(edges, dtype=np.int64)
    counts = np.zeros(edges.size - 1, dtype=np.int64)
    if t1.size == 0 or t2.size == 0:
        return counts
    dt = (t2[None, :] - t1[:, None]).ravel()
    dt = dt[(dt >= edges[0]) & (dt < edges[-1])]
    k = np.searchsorted(edges, dt, side="right") - 1
    np.add.at(counts, k, 1)
    return counts


# ---------------------------------------------------------------------------------------
# Independent synthetic streams (written here on purpose, not simulator/photons.py), each
# with a known truth. Plain numpy, seeded by the caller's Generator.


def merge_channels(t1: np.ndarray, t2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge two detector streams into (timestamps int64 sorted, channels uint8)."""
    t = np.concatenate([t1, t2]).astype(np.int64)
    ch = np.concatenate([np.zeros(t1.size, np.uint8), np.ones(t2.size, np.uint8)])
    order = np.argsort(t, kind="stable")
    return t[order], ch[order]


def split_and_jitter(
    rng: np.random.Generator, t_ps: np.ndarray, jitter_ps: float, delay_ps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Send each photon (float arrival times, ps) through a 50/50 beamsplitter.

    Draws the detector of each photon, then (if jitter_ps > 0) Gaussian timing jitter, in
    that order from `rng`; detector 1 gets the extra cable delay `delay_ps`.

    Returns:
        (timestamps int64 ps, unsorted; det bool, True for detector 1).
    """
    det = rng.random(t_ps.size) < 0.5
    if jitter_ps > 0:
        t_ps = t_ps + rng.normal(0.0, jitter_ps, t_ps.size)
    return np.round(t_ps).astype(np.int64) + np.where(det, delay_ps, 0), det


def poisson_streams(
    rng: np.random.Generator, rate1_cps: float, rate2_cps: float, duration_s: float
):
    """Two independent homogeneous Poisson streams (g2 = 1 at every delay)."""
    T = int(duration_s * 1e12)
    n1, n2 = rng.poisson(rate1_cps * duration_s), rng.poisson(rate2_cps * duration_s)
    return np.sort(rng.integers(0, T, n1)), np.sort(rng.integers(0, T, n2))


def pulsed_stream(
    rng: np.random.Generator,
    n_pulses: int,
    period_ps: int,
    p1: float,
    p2: float,
    tau_ps: float,
    jitter_ps: float = 0.0,
    delay_ps: int = 0,
    bg_cps: float = 0.0,
):
    """Pulsed emitter: each pulse gives 1 photon (prob p1) or 2 photons (prob p2).

    Each photon is delayed by Exp(tau), goes to detector 0 or 1 with probability 1/2 and
    gets Gaussian jitter; detector 1 has an extra cable delay. Ideal detectors (no dead
    time), so the truth is g2(0) = <n(n-1)>/<n>^2 = 2 p2 / (p1 + 2 p2)^2 (beamsplitter
    losses do not change g2). Optional uncorrelated background (each detector, cps).

    Returns:
        (timestamps int64, channels uint8, truth g2(0)).
    """
    u = rng.random(n_pulses)
    nph = np.where(u < p2, 2, np.where(u < p1 + p2, 1, 0))
    pulse = np.repeat(np.arange(n_pulses, dtype=np.int64) * period_ps, nph)
    t, det = split_and_jitter(rng, pulse + rng.exponential(tau_ps, pulse.size), jitter_ps,
                              delay_ps)
    T_s = n_pulses * period_ps * 1e-12
    if bg_cps > 0:
        b = rng.integers(0, n_pulses * period_ps, rng.poisson(2 * bg_cps * T_s))
        t = np.concatenate([t, b])
        det = np.concatenate([det, rng.random(b.size) < 0.5])
    t1, t2 = np.sort(t[~det]), np.sort(t[det])
    truth = 2 * p2 / (p1 + 2 * p2) ** 2
    ts, ch = merge_channels(t1, t2)
    return ts, ch, truth


def cw_emitter_stream(
    rng: np.random.Generator,
    duration_s: float,
    k_exc_per_s: float,
    k_dec_per_s: float,
    eta: float,
    *,
    jitter_ps: float = 0.0,
    delay_ps: int = 0,
    bg_cps: float = 0.0,
):
    """CW two-level emitter: renewal process, intervals Exp(k_exc) + Exp(k_dec).

    Its renewal density is `k_e k_d/(k_e+k_d) (1 - exp(-(k_e+k_d) t))`, i.e. g2(tau) =
    1 - exp(-|tau|/tau0), 1/tau0 = k_exc + k_dec (DOMAIN.md §7). Photons are detected with
    efficiency eta and split 50/50; uncorrelated background bg_cps per detector. With
    signal fraction rho per detector, the measured g2(0) = 1 - rho^2 (Brouri 2000).
    Memory: about 16 bytes x duration_s / (1/k_exc + 1/k_dec) before detection.

    Returns:
        (timestamps int64, channels uint8, truth dict with g2_zero, tau0_ps, rho).
    """
    mean_iv = 1 / k_exc_per_s + 1 / k_dec_per_s
    n = int(duration_s / mean_iv * 1.1) + 100
    iv = rng.exponential(1 / k_exc_per_s, n) + rng.exponential(1 / k_dec_per_s, n)
    t = np.cumsum(iv) * 1e12
    t = t[t < duration_s * 1e12]
    t, det = split_and_jitter(rng, t[rng.random(t.size) < eta], jitter_ps, delay_ps)
    T = int(duration_s * 1e12)
    s1, s2 = (~det).sum(), det.sum()
    b1 = rng.integers(0, T, rng.poisson(bg_cps * duration_s))
    b2 = rng.integers(0, T, rng.poisson(bg_cps * duration_s))
    t1 = np.sort(np.concatenate([t[~det], b1]))
    t2 = np.sort(np.concatenate([t[det], b2]))
    rho = np.sqrt(s1 / (s1 + b1.size) * s2 / (s2 + b2.size))
    ts, ch = merge_channels(t1, t2)
    truth = {"g2_zero": 1 - rho**2, "tau0_ps": 1e12 / (k_exc_per_s + k_dec_per_s), "rho": rho}
    return ts, ch, truth


def blinking_stream(
    rng: np.random.Generator,
    n_switches: int,
    alpha_on: float,
    alpha_off: float,
    t_min_s: float,
    t_max_s: float,
    on_cps: float,
    off_cps: float,
):
    """Two-state blinking emitter: alternating on/off dwell times drawn from truncated
    power laws P(t) ∝ t^-alpha on [t_min, t_max] (inverse-CDF sampling), photons Poisson
    with rate on_cps / off_cps in each state.

    Returns:
        (timestamps int64 ps, truth dict with on/off durations and on_fraction).
    """

    def draw(a, n):
        u = rng.random(n)
        lo, hi = t_min_s ** (1 - a), t_max_s ** (1 - a)
        return (lo + u * (hi - lo)) ** (1 / (1 - a))

    n_on = (n_switches + 1) // 2
    on = draw(alpha_on, n_on)
    off = draw(alpha_off, n_switches - n_on)
    dur = np.empty(n_switches)
    dur[0::2] = on
    dur[1::2] = off
    start = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
    rate = np.where(np.arange(n_switches) % 2 == 0, on_cps, off_cps)
    n = rng.poisson(rate * dur)
    t = np.repeat(start, n) + rng.random(n.sum()) * np.repeat(dur, n)
    ts = np.sort(np.round(t * 1e12).astype(np.int64))
    truth = {"on": on, "off": off, "on_fraction": on.sum() / dur.sum()}
    return ts, truth


def tcspc_delays(
    rng: np.random.Generator,
    n: int,
    period_ps: int,
    taus_ps: list[float],
    fractions: list[float],
    irf_sigma_ps: float,
    t0_ps: float,
    n_background: int = 0,
) -> np.ndarray:
    """TCSPC delays: photon = t0 + Gaussian IRF + Exp(tau_i) (component i with probability
    fractions[i]), folded into [0, P); plus uniform background. The photon fractions f_i
    relate to the pre-exponential amplitudes by a_i ∝ f_i / tau_i."""
    comp = rng.choice(len(taus_ps), n, p=fractions)
    d = t0_ps + rng.normal(0, irf_sigma_ps, n) + rng.exponential(np.asarray(taus_ps)[comp])
    d = np.concatenate([d, rng.uniform(0, period_ps, n_background)])
    return np.mod(np.floor(d).astype(np.int64), period_ps)


def naive_max_llr(t: np.ndarray, t_start: int, t_end: int) -> tuple[float, int]:
    """Watkins & Yang (2005) log-likelihood ratio maximised over the change photon k.

    L_k = 2 [k ln(k/V_k) + (N-k) ln((N-k)/(1-V_k)) - N ln N], V_k = (t_k - t_start)/T,
    for k = 1..N-1 (photon k is the last one before the change), computed in numpy.
    """
    n = t.size
    k = np.arange(1, n)
    v = (t[:-1] - t_start) / float(t_end - t_start)
    ok = (v > 0) & (v < 1)
    llr = np.full(k.size, -np.inf)
    kk, vv = k[ok], v[ok]
    llr[ok] = 2 * (kk * np.log(kk / vv) + (n - kk) * np.log((n - kk) / (1 - vv)) - n * np.log(n))
    i = int(np.argmax(llr))
    return float(llr[i]), int(k[i])


def naive_log_cell(v: int, bits: int) -> int:
    """Log-linear cell: 0 for v = 0, else 1 + (e-1) 2^bits + the `bits` bits after the
    leading one of v (bit length e), from Python's exact integers."""
    if v <= 0:
        return 0
    e1 = v.bit_length() - 1
    sub = (v >> (e1 - bits)) if e1 >= bits else (v << (bits - e1))
    return 1 + e1 * (1 << bits) + (sub & ((1 << bits) - 1))
