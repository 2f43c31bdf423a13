"""Blinking of a single emitter: intensity trace, on/off states, dwell-time power laws.

- Change points on photon arrival times: Watkins & Yang, J. Phys. Chem. B 109, 617
  (2005). For photons at times t_1..t_N in a segment of duration T, a change after photon
  k has the generalised log-likelihood ratio
  `L_k = 2 [k ln(k/V_k) + (N-k) ln((N-k)/(1-V_k)) - N ln N]`, `V_k = (t_k - t_0)/T`;
  a change is accepted when `max_k L_k` exceeds the (1 - alpha) quantile of its null
  distribution (uniform arrivals), computed here by seeded Monte Carlo as in the paper,
  and segments are split recursively (binary segmentation).
- Threshold method: intensity trace in fixed bins; Otsu threshold (Otsu, IEEE Trans. SMC
  9, 62 (1979)) refined to the count where the on and off Poisson levels are equally
  likely.
- Power laws: `P(t) ∝ t^-alpha` for t >= t_min, maximum likelihood
  `alpha = 1 + n / sum ln(t_i / t_min)`, `sigma = (alpha - 1)/sqrt(n)`, with t_min chosen
  to minimise the Kolmogorov-Smirnov distance (Clauset, Shalizi & Newman, SIAM Rev. 51,
  661 (2009), eqs. 3.1, 3.2, 3.9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numba import njit

__all__ = [
    "intensity_trace",
    "otsu_threshold",
    "poisson_threshold",
    "threshold_states",
    "dwell_times",
    "change_points",
    "wy_critical_value",
    "PowerLawFit",
    "fit_power_law",
    "BlinkingResult",
    "analyze_blinking",
]


def intensity_trace(
    timestamps_ps: np.ndarray, bin_ps: int, *, t_start_ps: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Photon counts per time bin.

    Args:
        timestamps_ps: (N,) int64 ps, non-decreasing (all detectors merged).
        bin_ps: bin width, ps (>= 1).
        t_start_ps: start of the first bin (default first photon).

    Returns:
        (edges (K+1,) int64 ps, counts (K,) int64); the partial last bin is dropped.
    """
    t = _check_times(timestamps_ps)
    if bin_ps < 1:
        raise ValueError("bin_ps must be >= 1")
    if t.size == 0:
        return np.zeros(1, np.int64), np.zeros(0, np.int64)
    t0 = int(t[0]) if t_start_ps is None else int(t_start_ps)
    nb = int((t[-1] - t0) // bin_ps)
    edges = t0 + bin_ps * np.arange(nb + 1, dtype=np.int64)
    k = (t - t0) // bin_ps
    k = k[(k >= 0) & (k < nb)]
    return edges, np.bincount(k, minlength=nb).astype(np.int64)


def _check_times(timestamps_ps: np.ndarray) -> np.ndarray:
    t = np.asarray(timestamps_ps)
    if t.ndim != 1 or t.dtype != np.int64:
        raise ValueError(
            f"timestamps_ps must be 1-D int64 picoseconds, got {t.dtype} shape {t.shape}"
        )
    if t.size > 1 and np.any(t[1:] < t[:-1]):
        raise ValueError("timestamps_ps must be non-decreasing")
    return t


def otsu_threshold(counts: np.ndarray) -> float:
    """Otsu threshold of integer counts: maximises the between-class variance.

    Returns a half-integer: bins with counts > threshold are "on".
    """
    c = np.asarray(counts, dtype=np.int64)
    if c.size == 0:
        raise ValueError("empty intensity trace")
    h = np.bincount(c).astype(np.float64)
    p = h / h.sum()
    lv = np.arange(h.size, dtype=np.float64)
    w0 = np.cumsum(p)
    m = np.cumsum(p * lv)
    mt = m[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        sb = (mt * w0 - m) ** 2 / (w0 * (1 - w0))
    sb[~np.isfinite(sb)] = -1
    k = int(np.argmax(sb))
    return k + 0.5


def poisson_threshold(counts: np.ndarray) -> float:
    """Threshold between two Poisson levels where their likelihoods are equal.

    Starts from `otsu_threshold`, estimates the off and on means mu0 < mu1 and returns
    `(mu1 - mu0) / ln(mu1 / mu0)` (equal Poisson probabilities), iterated to a fixed
    point. This minimises misclassified bins better than Otsu when the on level is noisy.
    """
    c = np.asarray(counts, dtype=np.float64)
    thr = otsu_threshold(counts)
    for _ in range(20):
        hi, lo = c[c > thr], c[c <= thr]
        if hi.size == 0 or lo.size == 0:
            return thr
        mu1, mu0 = hi.mean(), max(lo.mean(), 1e-3)
        if mu1 <= mu0:
            return thr
        new = (mu1 - mu0) / np.log(mu1 / mu0)
        if abs(new - thr) < 1e-9:
            break
        thr = float(new)
    return thr


def threshold_states(counts: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """On (True) / off (False) per bin; default threshold from `poisson_threshold`."""
    thr = poisson_threshold(counts) if threshold is None else float(threshold)
    return np.asarray(counts) > thr


def dwell_times(
    states: np.ndarray, bin_s: float | np.ndarray, *, drop_edges: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """On and off dwell times (s) from a sequence of states.

    Args:
        states: (K,) bool, True = on.
        bin_s: duration of each state entry, s (scalar for a trace, (K,) for segments).
        drop_edges: drop the first and last run, which are cut by the measurement window.

    Returns:
        (on_durations_s, off_durations_s).
    """
    s = np.asarray(states, dtype=bool)
    if s.size == 0:
        return np.zeros(0), np.zeros(0)
    d = np.broadcast_to(np.asarray(bin_s, dtype=np.float64), s.shape)
    change = np.nonzero(s[1:] != s[:-1])[0] + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [s.size]])
    cum = np.concatenate([[0.0], np.cumsum(d)])
    dur = cum[ends] - cum[starts]
    st = s[starts]
    if drop_edges:
        dur, st = dur[1:-1], st[1:-1]
    return dur[st], dur[~st]


# ------------------------------------------------------------------ change points (WY 2005)


@njit(cache=True)
def _max_llr(t, i0, i1, tstart, tend):
    """max_k L_k over a segment of photons t[i0:i1] in [tstart, tend]; returns (L, k)."""
    n = i1 - i0
    T = float(tend - tstart)
    best = -1.0
    kbest = -1
    nlogn = n * np.log(n)
    for k in range(1, n):
        v = float(t[i0 + k - 1] - tstart) / T
        if v <= 0.0 or v >= 1.0:
            continue
        llr = 2.0 * (k * np.log(k / v) + (n - k) * np.log((n - k) / (1.0 - v)) - nlogn)
        if llr > best:
            best = llr
            kbest = k
    return best, kbest


@njit(cache=True)
def _mc_null_max(n, reps, seed):
    np.random.seed(seed)
    out = np.empty(reps)
    for r in range(reps):
        u = np.sort(np.random.random(n))
        best = -1.0
        nlogn = n * np.log(n)
        for k in range(1, n):
            v = u[k - 1]
            llr = 2.0 * (k * np.log(k / v) + (n - k) * np.log((n - k) / (1.0 - v)) - nlogn)
            if llr > best:
                best = llr
        out[r] = best
    return out


_MC_N = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)

# crit(n) = a + b ln(ln n): least-squares line through the (1 - alpha) quantiles of 2000
# seeded Monte Carlo draws of max_k L_k at each n of _MC_N (residuals < 0.4; computed
# once with `_mc_null_max`, kept as constants so nothing is simulated at run time).
_WY_LINES = {0.01: (8.25, 3.226), 0.05: (4.897, 3.041), 0.1: (3.566, 2.924)}


@lru_cache(maxsize=16)
def _critical_line(alpha: float, reps: int = 400) -> tuple[float, float]:
    if alpha in _WY_LINES:
        return _WY_LINES[alpha]
    q = [np.quantile(_mc_null_max(n, reps, 1000 + n), 1 - alpha) for n in _MC_N]
    b, a = np.polyfit(np.log(np.log(np.asarray(_MC_N, dtype=np.float64))), q, 1)
    return float(a), float(b)


def wy_critical_value(n: int, alpha: float = 0.05) -> float:
    """(1 - alpha) quantile of max_k L_k for n photons with no change (uniform arrivals).

    Watkins & Yang 2005 obtain the same critical region by simulation. Here: a line in
    ln ln n fitted to seeded Monte Carlo quantiles (tabulated for alpha = 0.01, 0.05,
    0.1; other alphas are simulated once, 400 draws per n, and cached).
    """
    if n < 2:
        return np.inf
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    a, b = _critical_line(float(alpha))
    return float(a + b * np.log(np.log(max(n, 3))))


def change_points(
    timestamps_ps: np.ndarray,
    *,
    alpha: float = 0.05,
    min_photons: int = 8,
    t_start_ps: int | None = None,
    t_end_ps: int | None = None,
) -> np.ndarray:
    """Change points in the photon rate (Watkins & Yang 2005), by binary segmentation.

    Args:
        timestamps_ps: (N,) int64 ps, non-decreasing (detectors merged).
        alpha: type-I error per test.
        min_photons: segments with fewer photons are not split.
        t_start_ps, t_end_ps: observation window (default first/last photon).

    Returns:
        (M+2,) int64 segment boundaries in ps: window start, change times, window end.
    """
    t = _check_times(timestamps_ps)
    if t.size < 2:
        raise ValueError("need at least 2 photons")
    # photons strictly inside each segment are uniform under "no change"; a window taken
    # from the data is bounded by its first and last photons, which are not counted
    if t_start_ps is None and t_end_ps is None:
        ts, te, i0, i1 = int(t[0]), int(t[-1]), 1, t.size - 1
    else:
        ts = int(t[0]) if t_start_ps is None else int(t_start_ps)
        te = int(t[-1]) + 1 if t_end_ps is None else int(t_end_ps)
        i0, i1 = int(np.searchsorted(t, ts, "right")), int(np.searchsorted(t, te, "left"))
    cps = []
    stack = [(i0, i1, ts, te)]
    while stack:
        i0, i1, a, b = stack.pop()
        n = i1 - i0
        if n < 2 * min_photons or b - a <= 1:
            continue
        llr, k = _max_llr(t, i0, i1, a, b)
        if k < 0 or llr <= wy_critical_value(n, alpha):
            continue
        # the change is at photon t[i0 + k - 1]; it bounds both new segments
        tc = int(t[i0 + k - 1])
        if tc <= a or tc >= b:
            continue
        cps.append(tc)
        stack.append((i0, i0 + k - 1, a, tc))
        stack.append((i0 + k, i1, tc, b))
    return np.array([ts, *sorted(cps), te], dtype=np.int64)


# ------------------------------------------------------------------ power laws (Clauset)


@dataclass(frozen=True)
class PowerLawFit:
    """Maximum-likelihood power law `P(t) ∝ t^-alpha`, t >= t_min (Clauset 2009).

    Attributes:
        alpha, alpha_stderr: exponent and `(alpha - 1)/sqrt(n_tail)`.
        t_min: lower cut-off (same unit as the data), chosen by minimum KS distance.
        n_tail: number of data >= t_min; ks_distance: the KS distance at t_min.
    """

    alpha: float
    alpha_stderr: float
    t_min: float
    n_tail: int
    ks_distance: float

    def to_json(self) -> dict:
        return {
            "alpha": self.alpha,
            "alpha_stderr": self.alpha_stderr,
            "t_min": self.t_min,
            "n_tail": self.n_tail,
            "ks_distance": self.ks_distance,
        }


def _alpha_ks(x_sorted: np.ndarray, xmin: float) -> tuple[float, float]:
    tail = x_sorted[x_sorted >= xmin]
    n = tail.size
    s = np.sum(np.log(tail / xmin))
    if s <= 0:
        return np.inf, np.inf
    a = 1.0 + n / s
    cdf_fit = 1.0 - (tail / xmin) ** (1.0 - a)
    emp_hi = np.arange(1, n + 1) / n
    emp_lo = np.arange(0, n) / n
    d = max(np.max(np.abs(emp_hi - cdf_fit)), np.max(np.abs(cdf_fit - emp_lo)))
    return float(a), float(d)


def fit_power_law(
    durations: np.ndarray, *, t_min: float | None = None, min_tail: int = 10
) -> PowerLawFit:
    """Fit `P(t) ∝ t^-alpha` to dwell times by maximum likelihood (Clauset 2009).

    Args:
        durations: (n,) positive dwell times.
        t_min: fix the cut-off; default scans the distinct values (keeping >= min_tail
            data in the tail) for the minimum KS distance.
        min_tail: smallest tail size considered.

    Raises:
        ValueError: fewer than min_tail positive durations.
    """
    x = np.sort(np.asarray(durations, dtype=np.float64))
    x = x[x > 0]
    if x.size < min_tail:
        raise ValueError(f"need at least {min_tail} positive dwell times, got {x.size}")
    if t_min is not None:
        a, d = _alpha_ks(x, float(t_min))
    else:
        cands = np.unique(x)
        cands = cands[np.searchsorted(x, cands) <= x.size - min_tail]
        best = (np.inf, np.nan, np.nan)
        for xm in cands:
            a_, d_ = _alpha_ks(x, xm)
            if d_ < best[0]:
                best = (d_, a_, xm)
        d, a, t_min = best
    n = int(np.sum(x >= t_min))
    return PowerLawFit(float(a), float((a - 1) / np.sqrt(n)), float(t_min), n, float(d))


# ------------------------------------------------------------------ the whole analysis


@dataclass
class BlinkingResult:
    """Blinking analysis of one stream.

    Attributes:
        method: "change_point" or "threshold".
        on_fraction: fraction of time in the on state.
        on_times_s, off_times_s: dwell times (edge runs dropped).
        on_fit, off_fit: power-law fits (None when too few dwells).
        levels_cps: (on, off) mean intensities.
        trace_edges_ps, trace_counts: the intensity trace (for plots).
        details: extra numbers (threshold, number of change points, ...).
    """

    method: str
    on_fraction: float
    on_times_s: np.ndarray
    off_times_s: np.ndarray
    on_fit: PowerLawFit | None
    off_fit: PowerLawFit | None
    levels_cps: tuple[float, float]
    trace_edges_ps: np.ndarray
    trace_counts: np.ndarray
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "on_fraction": self.on_fraction,
            "n_on": int(self.on_times_s.size),
            "n_off": int(self.off_times_s.size),
            "alpha_on": None if self.on_fit is None else self.on_fit.to_json(),
            "alpha_off": None if self.off_fit is None else self.off_fit.to_json(),
            "levels_cps": {"on": self.levels_cps[0], "off": self.levels_cps[1]},
            **self.details,
        }


def _two_level_split(rates: np.ndarray, weights: np.ndarray) -> float:
    """Weighted 1-D two-means split of segment rates; returns the threshold."""
    lo, hi = float(rates.min()), float(rates.max())
    if hi <= lo:
        return -np.inf  # one level: no blinking resolved, all "on"
    thr = float(np.average(rates, weights=weights))
    for _ in range(100):
        a = rates <= thr
        if a.all() or (~a).all():
            break
        m0 = np.average(rates[a], weights=weights[a])
        m1 = np.average(rates[~a], weights=weights[~a])
        new = 0.5 * (m0 + m1)
        if new == thr:
            break
        thr = new
    return thr


def _safe_fit(d: np.ndarray) -> PowerLawFit | None:
    try:
        return fit_power_law(d)
    except ValueError:
        return None


def analyze_blinking(
    timestamps_ps: np.ndarray,
    *,
    method: str = "change_point",
    bin_ps: int = 1_000_000_000,
    alpha: float = 0.05,
    threshold: float | None = None,
) -> BlinkingResult:
    """On/off analysis of a single-emitter stream (all detectors merged).

    Args:
        timestamps_ps: (N,) int64 ps, non-decreasing.
        method: "change_point" (Watkins & Yang on arrival times; segments are classed
            on/off by a two-level split of their rates) or "threshold" (Otsu threshold on
            the binned trace).
        bin_ps: trace bin width, ps (threshold method and plots); default 1 ms.
        alpha: type-I error of each change-point test.
        threshold: fixed counts-per-bin threshold (threshold method).

    Returns:
        BlinkingResult.
    """
    t = _check_times(timestamps_ps)
    if t.size < 20:
        raise ValueError(f"too few photons for a blinking analysis ({t.size})")
    edges, counts = intensity_trace(t, bin_ps)
    if method == "threshold":
        if counts.size < 3:
            raise ValueError("the trace is shorter than 3 bins: use a smaller bin_ps")
        thr = poisson_threshold(counts) if threshold is None else float(threshold)
        st = counts > thr
        bs = bin_ps * 1e-12
        on, off = dwell_times(st, bs)
        levels = (
            float(counts[st].mean() / bs) if st.any() else 0.0,
            float(counts[~st].mean() / bs) if (~st).any() else 0.0,
        )
        frac = float(st.mean())
        details = {"threshold_counts_per_bin": thr, "bin_s": bs}
    elif method == "change_point":
        b = change_points(t, alpha=alpha)
        dur = np.diff(b).astype(np.float64) * 1e-12
        n = np.diff(np.searchsorted(t, b)).astype(np.float64)
        rates = n / dur
        thr = _two_level_split(rates, dur) if rates.size > 1 else -np.inf
        st = rates > thr
        on, off = dwell_times(st, dur)
        levels = (
            float(n[st].sum() / dur[st].sum()) if st.any() else 0.0,
            float(n[~st].sum() / dur[~st].sum()) if (~st).any() else 0.0,
        )
        frac = float(dur[st].sum() / dur.sum())
        details = {
            "n_change_points": int(b.size - 2),
            "rate_threshold_cps": float(thr) if np.isfinite(thr) else None,
            "alpha": alpha,
        }
    else:
        raise ValueError(f"method must be 'change_point' or 'threshold', got {method!r}")
    return BlinkingResult(
        method, frac, on, off, _safe_fit(on), _safe_fit(off), levels, edges, counts, details
    )
