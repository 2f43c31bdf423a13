"""Blinking of a single emitter: intensity trace, on/off states, dwell-time power laws.

- Change points on photon arrival times: Watkins & Yang, J. Phys. Chem. B 109, 617
  (2005). For photons at times t_1..t_N in a segment of duration T, a change after photon
  k has the generalised log-likelihood ratio
  `L_k = 2 [k ln(k/V_k) + (N-k) ln((N-k)/(1-V_k)) - N ln N]`, `V_k = (t_k - t_0)/T`;
  a change is accepted when `max_k L_k` exceeds the (1 - alpha) quantile of its null
  distribution (uniform arrivals), computed here by seeded Monte Carlo as in the paper,
  and segments are split recursively (binary segmentation). Each change is then moved
  to its most likely place between its final neighbours and dropped if no longer
  significant there (`_refine_changes`).
- Intensity levels of the segments (W&Y's second stage: hierarchical clustering, EM,
  BIC): `blinking_levels`. Levels are classed on/off by `on_levels`.
- Threshold method: intensity trace in fixed bins; Otsu threshold (Otsu, IEEE Trans. SMC
  9, 62 (1979)) refined to the count where the on and off Poisson levels are equally
  likely.
- Power laws `P(t) ∝ t^-alpha` by maximum likelihood with t_min by KS distance (Clauset,
  Shalizi & Newman, SIAM Rev. 51, 661 (2009)), truncated at the longest dwell (Aban,
  Meerschaert & Panorska, JASA 101, 270 (2006)): `blinking_powerlaw`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numba import njit

from .blinking_levels import IntensityLevels, cluster_levels, on_levels
from .blinking_powerlaw import PowerLawFit, fit_power_law

__all__ = [
    "intensity_trace",
    "otsu_threshold",
    "poisson_threshold",
    "threshold_states",
    "dwell_times",
    "change_points",
    "wy_critical_value",
    "IntensityLevels",
    "cluster_levels",
    "on_levels",
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
    """Change points in the photon rate (Watkins & Yang 2005) by binary segmentation.

    Each change found is then moved to its most likely place between its final
    neighbours, or dropped if no longer significant there (`_refine_changes`).

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
        # the change is after photon k (W&Y): at t[j], j = i0 + k - 1. The statistic puts
        # the gap before photon k in the first segment, so t[j] is the photon on the
        # bright side of the change (the last before a drop, the first after a rise),
        # where the change time is most likely. It bounds both new segments.
        j = i0 + k - 1
        tc = int(t[j])
        if tc <= a or tc >= b:
            continue
        cps.append(tc)
        stack.append((i0, j, a, tc))
        stack.append((j + 1, i1, tc, b))
    bounds = np.array([ts, *sorted(cps), te], dtype=np.int64)
    return _refine_changes(t, bounds, alpha)


def _llr_at(t: np.ndarray, i0: int, i1: int, a: int, b: int, k: int) -> float:
    """W&Y's L_k for a change after photon k of t[i0:i1] in (a, b) (-inf if undefined)."""
    n = i1 - i0
    if not 1 <= k <= n - 1:
        return -np.inf
    v = (t[i0 + k - 1] - a) / (b - a)
    if not 0 < v < 1:
        return -np.inf
    return float(2.0 * (k * np.log(k / v) + (n - k) * np.log((n - k) / (1 - v)) - n * np.log(n)))


def _refine_changes(
    t: np.ndarray, bounds: np.ndarray, alpha: float, max_passes: int = 20
) -> np.ndarray:
    """Move each change point to its most likely place between its two neighbours, and
    drop change points that are no longer significant there.

    Binary segmentation places a change while its segment still holds other changes, so
    it can sit off the true switch; once the neighbours are found the change is left as a
    "ghost" that splits a steady stretch at a chance fluctuation. With its neighbours
    fixed, the stretch between them holds at most one change: its ML position is the max
    of the W&Y likelihood ratio (`_max_llr`), and it is kept only if that max exceeds the
    same critical value (`wy_critical_value(n, alpha)`) as in the forward search. Sweeps
    (move, then drop the least significant of non-adjacent failures), each looking again
    only at changes whose neighbours moved, until stable or max_passes (a few changes a
    photon or two apart can trade places forever: the boundary photon belongs to neither
    segment, so the moves do not climb one common likelihood).

    Returns:
        the refined boundaries (first and last unchanged).
    """
    b = bounds.copy()
    margin = np.full(b.size, np.inf)  # L_max - critical value of each change
    dirty = np.ones(b.size, bool)  # changes whose window changed since last looked at
    dirty[[0, -1]] = False
    for _ in range(max_passes):
        if not dirty.any():
            break
        stale = np.zeros(b.size, bool)
        for i in np.flatnonzero(dirty):
            lo, hi = int(b[i - 1]), int(b[i + 1])
            i0 = int(np.searchsorted(t, lo, "right"))
            i1 = int(np.searchsorted(t, hi, "left"))
            llr, k = _max_llr(t, i0, i1, lo, hi) if i1 - i0 >= 2 else (-np.inf, -1)
            if k < 0:
                margin[i] = -np.inf
                continue
            margin[i] = llr - wy_critical_value(i1 - i0, alpha)
            tc = int(t[i0 + k - 1])
            # move only on a strict gain, so ties cannot make boundaries oscillate
            k_now = int(np.searchsorted(t, b[i], "left")) - i0 + 1
            if lo < tc < hi and tc != b[i] and llr > _llr_at(t, i0, i1, lo, hi, k_now) + 1e-9:
                b[i] = tc
                stale[i - 1] = stale[i + 1] = True
        stale[[0, -1]] = False
        drop = np.zeros(b.size, bool)
        for i in np.argsort(margin, kind="stable"):
            if margin[i] > 0:
                break
            if not (drop[i - 1] or drop[i + 1] or stale[i]):
                drop[i] = True
        for i in np.flatnonzero(drop):
            stale[i - 1] = stale[i + 1] = True
        keep = ~drop
        b, margin, dirty = b[keep], margin[keep], stale[keep]
        dirty[[0, -1]] = False
    return b


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
        levels: intensity levels of the change-point segments (None for "threshold").
        level_on: (G,) bool, which levels are counted as on (None for "threshold").
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
    levels: IntensityLevels | None = None
    level_on: np.ndarray | None = None

    def to_json(self) -> dict:
        lv = None
        if self.levels is not None:
            lv = {**self.levels.to_json(), "on": [bool(x) for x in self.level_on]}
        return {
            "method": self.method,
            "on_fraction": self.on_fraction,
            "n_on": int(self.on_times_s.size),
            "n_off": int(self.off_times_s.size),
            "alpha_on": None if self.on_fit is None else self.on_fit.to_json(),
            "alpha_off": None if self.off_fit is None else self.off_fit.to_json(),
            "levels_cps": {"on": self.levels_cps[0], "off": self.levels_cps[1]},
            "levels": lv,
            **self.details,
        }


def _safe_fit(d: np.ndarray, resolution: float = 0.0) -> PowerLawFit | None:
    try:
        return fit_power_law(d, resolution=resolution)
    except ValueError:
        return None


def analyze_blinking(
    timestamps_ps: np.ndarray,
    *,
    method: str = "change_point",
    bin_ps: int = 1_000_000_000,
    alpha: float = 0.05,
    threshold: float | None = None,
    max_levels: int = 5,
) -> BlinkingResult:
    """On/off analysis of a single-emitter stream (all detectors merged).

    Args:
        timestamps_ps: (N,) int64 ps, non-decreasing.
        method: "change_point" (Watkins & Yang on arrival times; the segments are grouped
            into intensity levels by clustering, EM and BIC, and classed on/off by
            `on_levels`) or "threshold" (Otsu/Poisson threshold on the binned trace).
        bin_ps: trace bin width, ps (threshold method and plots); default 1 ms.
        alpha: type-I error of each change-point test.
        threshold: fixed counts-per-bin threshold (threshold method).
        max_levels: most intensity levels considered by the BIC (change-point method).

    Returns:
        BlinkingResult. Dwell times of the threshold method are multiples of the bin and
        are fitted as such (`fit_power_law(..., resolution=bin)`).
    """
    t = _check_times(timestamps_ps)
    if t.size < 20:
        raise ValueError(f"too few photons for a blinking analysis ({t.size})")
    edges, counts = intensity_trace(t, bin_ps)
    levels = level_on = None
    if method == "threshold":
        if counts.size < 3:
            raise ValueError("the trace is shorter than 3 bins: use a smaller bin_ps")
        thr = poisson_threshold(counts) if threshold is None else float(threshold)
        st = counts > thr
        bs = bin_ps * 1e-12
        on, off = dwell_times(st, bs)
        mean_cps = (
            float(counts[st].mean() / bs) if st.any() else 0.0,
            float(counts[~st].mean() / bs) if (~st).any() else 0.0,
        )
        frac = float(st.mean())
        details = {"threshold_counts_per_bin": thr, "bin_s": bs}
        on_fit, off_fit = _safe_fit(on, bs), _safe_fit(off, bs)
    elif method == "change_point":
        b = change_points(t, alpha=alpha)
        dur = np.diff(b).astype(np.float64) * 1e-12
        # photons strictly inside each segment: the boundaries are photons themselves
        # (change points, first and last photon), and given a photon at each end the
        # interior count is Poisson(rate x duration)
        n = np.searchsorted(t, b[1:], "left") - np.searchsorted(t, b[:-1], "right")
        levels = cluster_levels(n, dur, max_levels=max_levels)
        level_on, thr = on_levels(levels.rates_cps)
        st = level_on[levels.assignment]
        on, off = dwell_times(st, dur)
        mean_cps = (
            float(n[st].sum() / dur[st].sum()) if st.any() else 0.0,
            float(n[~st].sum() / dur[~st].sum()) if (~st).any() else 0.0,
        )
        frac = float(dur[st].sum() / dur.sum())
        details = {
            "n_change_points": int(b.size - 2),
            "rate_threshold_cps": float(thr) if np.isfinite(thr) else None,
            "alpha": alpha,
        }
        on_fit, off_fit = _safe_fit(on), _safe_fit(off)
    else:
        raise ValueError(f"method must be 'change_point' or 'threshold', got {method!r}")
    return BlinkingResult(
        method,
        frac,
        on,
        off,
        on_fit,
        off_fit,
        mean_cps,
        edges,
        counts,
        details,
        levels,
        level_on,
    )
