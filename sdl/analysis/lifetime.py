"""Fluorescence lifetime from TCSPC delays: IRF-convolved multi-exponential, Poisson ML.

Model (DOMAIN.md §7; Lakowicz, Principles of Fluorescence Spectroscopy, 3rd ed., ch. 4):
`I(t) = IRF ⊗ sum_i A_i exp(-t/tau_i) + bg`, periodic in the laser period P (tails of
earlier pulses wrap around), with a fitted shift t0 of the IRF. The IRF is either a
Gaussian of fitted width, or a measured IRF histogram on the same bins (normalised,
shifted by t0 through the Fourier shift theorem, circular convolution).

Fit by Poisson maximum likelihood (deviance), not least squares: least squares is biased
at low counts per bin (Maus et al., Anal. Chem. 73, 2078 (2001)).

Mean lifetimes: amplitude-weighted `tau_a = sum a_i tau_i / sum a_i`, intensity-weighted
`tau_int = sum a_i tau_i^2 / sum a_i tau_i` (Sillen & Engelborghs, Photochem. Photobiol.
67, 475 (1998)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from sdl.analysis.g2_fit import fit_poisson

__all__ = [
    "decay_delays",
    "decay_histogram",
    "periodic_exp_gauss",
    "LifetimeFit",
    "fit_lifetime",
    "mean_lifetimes",
]

_SQRT2 = np.sqrt(2.0)


def decay_delays(
    timestamps_ps: np.ndarray,
    channels: np.ndarray,
    sync_period_ps: int,
    *,
    dtime_ps: np.ndarray | None = None,
    sync_channel: int | None = None,
    detectors: tuple[int, ...] | None = None,
) -> np.ndarray:
    """TCSPC delays (ps, in [0, P)) of the detector photons.

    T3 data: `dtime_ps` as given. T2 data: time since the previous sync event when the
    sync is time-tagged (`sync_channel`), else `timestamp mod P` (the phase offset to the
    laser is then unknown and absorbed by the fitted IRF shift).

    Args:
        timestamps_ps: (N,) int64 ps; channels: (N,) uint8.
        sync_period_ps: laser period, ps (> 0).
        dtime_ps: (N,) int64 T3 delays, ps, or None.
        sync_channel: channel of time-tagged sync events in T2 data, or None.
        detectors: channels to keep (default: all but `sync_channel`).

    Returns:
        (M,) int64 delays in [0, P).
    """
    t = np.asarray(timestamps_ps)
    ch = np.asarray(channels)
    P = int(sync_period_ps)
    if P <= 0:
        raise ValueError("a lifetime needs pulsed excitation: sync_period_ps must be > 0")
    if t.dtype != np.int64 or t.shape != ch.shape or t.ndim != 1:
        raise ValueError("timestamps_ps must be 1-D int64 ps with one channel per time tag")
    keep = np.ones(t.size, bool) if detectors is None else np.isin(ch, np.asarray(detectors))
    if sync_channel is not None:
        keep &= ch != sync_channel
    if dtime_ps is not None:
        d = np.asarray(dtime_ps)
        if d.shape != t.shape:
            raise ValueError("dtime_ps must have one delay per time tag")
        return np.mod(d[keep].astype(np.int64), P)
    if sync_channel is not None:
        s = t[ch == sync_channel]
        if s.size == 0:
            raise ValueError(f"no sync events on channel {sync_channel}")
        tp = t[keep]
        k = np.searchsorted(s, tp, side="right") - 1
        ok = k >= 0
        return np.mod(tp[ok] - s[k[ok]], P)
    return np.mod(t[keep], P)


def decay_histogram(
    delays_ps: np.ndarray, period_ps: int, bin_ps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of delays over one full period.

    Returns:
        (edges (K+1,) int64 ps, counts (K,) int64); the last bin may be shorter.
    """
    if bin_ps < 1:
        raise ValueError("bin_ps must be >= 1")
    P = int(period_ps)
    edges = np.arange(0, P + bin_ps, bin_ps, dtype=np.int64)
    edges[-1] = P
    if edges.size > 1 and edges[-1] == edges[-2]:
        edges = edges[:-1]
    counts = np.histogram(np.asarray(delays_ps), bins=edges)[0].astype(np.int64)
    return edges, counts


def _emg(x: np.ndarray, tau: float, sigma: float) -> np.ndarray:
    """Unit-height exp(-x/tau) (x > 0) convolved with a unit-area Gaussian (sigma)."""
    if sigma <= 1e-9 * tau:
        return np.where(x >= 0, np.exp(-np.maximum(x, 0) / tau), 0.0)
    u = (sigma / tau - x / sigma) / _SQRT2
    out = np.empty_like(x)
    pos = u >= 0
    out[pos] = 0.5 * np.exp(-(x[pos] ** 2) / (2 * sigma**2)) * special.erfcx(u[pos])
    neg = ~pos
    out[neg] = 0.5 * np.exp(sigma**2 / (2 * tau**2) - x[neg] / tau) * special.erfc(u[neg])
    return out


def periodic_exp_gauss(
    t: np.ndarray, period: float, tau: float, sigma: float, t0: float
) -> np.ndarray:
    """Periodic decay `sum_m exp(-(t - t0 + m P)/tau) H(.)` convolved with a Gaussian IRF.

    Pulses at t0 + m P for all m; the terms m = -1..2 are exact (erfc form), earlier
    pulses are summed as a geometric series of the asymptotic tail.
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.mod(t - t0, period)
    acc = np.zeros_like(x)
    for m in (-1, 0, 1, 2):
        acc += _emg(x + m * period, tau, sigma)
    q = np.exp(-period / tau)
    if q > 0:
        tail = np.exp(min(sigma**2 / (2 * tau**2), 700.0) - (x + 3 * period) / tau) / (1 - q)
        acc += tail
    return acc


def _periodic_exp_antiderivative(u: np.ndarray, period: float, tau: float) -> np.ndarray:
    """G(u) = integral_0^u of sum_m exp(-(v - m P)/tau) H(v - m P) dv (unit height)."""
    q = np.exp(-period / tau)
    n = np.floor(u / period)
    r = u - n * period
    return n * tau + tau * (1.0 - np.exp(-r / tau)) / (1.0 - q)


def _irf_conv_model(
    irf_n: np.ndarray, width: float, period: float, tau: float, shift: float
) -> np.ndarray:
    """Measured IRF (delta at each bin centre, weights irf_n) ⊗ periodic decay, bin-integrated.

    `D[j] = G(j w + w/2 - s) - G(j w - w/2 - s)` is the decay integrated over the bin j
    bins after an IRF bin, started s after its centre; the model is the circular
    convolution of irf_n with D (exact for a periodic decay, no interpolation ringing).
    """
    k = irf_n.size
    j = np.arange(k, dtype=np.float64) * width
    d = _periodic_exp_antiderivative(
        j + width / 2 - shift, period, tau
    ) - _periodic_exp_antiderivative(j - width / 2 - shift, period, tau)
    return np.fft.irfft(np.fft.rfft(irf_n) * np.fft.rfft(d), k) / width


@dataclass(frozen=True)
class LifetimeFit:
    """Result of a TCSPC lifetime fit.

    Attributes:
        taus_ps, taus_stderr_ps: (n,) decay constants (ascending) and 1-sigma errors.
        amplitudes: (n,) peak counts per bin of each component (pre-exponential factors).
        tau_amp_ps, tau_amp_stderr_ps: amplitude-weighted mean lifetime and error.
        tau_int_ps, tau_int_stderr_ps: intensity-weighted mean lifetime and error.
        shift_ps: fitted IRF position; irf_sigma_ps: Gaussian IRF width (nan if measured).
        background: flat counts per bin; signal_fraction: S/(S+B) over the period.
        chi2_dof: Poisson deviance per degree of freedom; success: optimiser converged.
        n_photons: photons in the histogram.
    """

    taus_ps: np.ndarray
    taus_stderr_ps: np.ndarray
    amplitudes: np.ndarray
    tau_amp_ps: float
    tau_amp_stderr_ps: float
    tau_int_ps: float
    tau_int_stderr_ps: float
    shift_ps: float
    irf_sigma_ps: float
    background: float
    signal_fraction: float
    chi2_dof: float
    success: bool
    n_photons: int

    def to_json(self) -> dict:
        return {
            "taus_ps": [float(x) for x in self.taus_ps],
            "taus_stderr_ps": [float(x) for x in self.taus_stderr_ps],
            "amplitudes": [float(x) for x in self.amplitudes],
            "tau_amp_ps": self.tau_amp_ps,
            "tau_amp_stderr_ps": self.tau_amp_stderr_ps,
            "tau_int_ps": self.tau_int_ps,
            "tau_int_stderr_ps": self.tau_int_stderr_ps,
            "shift_ps": self.shift_ps,
            "irf_sigma_ps": self.irf_sigma_ps,
            "background_per_bin": self.background,
            "signal_fraction": self.signal_fraction,
            "chi2_dof": self.chi2_dof,
            "success": self.success,
            "n_photons": self.n_photons,
        }


def mean_lifetimes(amplitudes: np.ndarray, taus: np.ndarray) -> tuple[float, float]:
    """(amplitude-weighted, intensity-weighted) mean lifetimes of a multi-exponential.

    `tau_a = sum a_i tau_i / sum a_i`, `tau_int = sum a_i tau_i^2 / sum a_i tau_i`.
    """
    a = np.asarray(amplitudes, dtype=np.float64)
    t = np.asarray(taus, dtype=np.float64)
    return float(np.sum(a * t) / np.sum(a)), float(np.sum(a * t * t) / np.sum(a * t))


def fit_lifetime(
    counts: np.ndarray,
    edges_ps: np.ndarray,
    period_ps: int,
    *,
    n_exp: int = 1,
    irf: np.ndarray | None = None,
    irf_sigma_ps: float | None = None,
    tau_guess_ps: float | None = None,
) -> LifetimeFit:
    """Poisson-ML fit of an IRF-convolved multi-exponential decay with background and shift.

    Args:
        counts: (K,) delay histogram over one period (`decay_histogram`).
        edges_ps: (K+1,) its edges, ps (0 .. P).
        period_ps: laser period P, ps.
        n_exp: number of exponential components (1..3).
        irf: (K,) measured IRF histogram on the same bins (uniform bins), or None for a
            Gaussian IRF.
        irf_sigma_ps: fix the Gaussian IRF width (ps); None fits it.
        tau_guess_ps: starting lifetime; default from the mean delay after the peak.

    Returns:
        LifetimeFit.

    Raises:
        ValueError: bad shapes, n_exp outside 1..3, or no counts.
    """
    c = np.asarray(counts, dtype=np.float64)
    e = np.asarray(edges_ps, dtype=np.float64)
    if c.ndim != 1 or e.shape != (c.size + 1,):
        raise ValueError("counts must be (K,) and edges_ps (K+1,)")
    if not 1 <= n_exp <= 3:
        raise ValueError("n_exp must be 1, 2 or 3")
    if c.sum() <= 0:
        raise ValueError("the decay histogram is empty")
    P = float(period_ps)
    x = 0.5 * (e[:-1] + e[1:])
    w = np.diff(e)
    if irf is not None:
        irf = np.asarray(irf, dtype=np.float64)
        if irf.shape != c.shape or irf.sum() <= 0:
            raise ValueError("irf must be a non-empty histogram on the same bins as counts")
        if np.ptp(w) > 1e-9 * w[0]:
            raise ValueError(
                "a measured IRF needs uniform bins that tile the period (choose bin_ps dividing P)"
            )
        irf_n = irf / irf.sum()
        binw = float(w[0])
    # starting values
    kpk = int(np.argmax(np.convolve(c, np.ones(3) / 3, mode="same")))
    t_peak = x[kpk]
    bg0 = max(float(np.percentile(c, 5)), 0.0)
    roll = np.roll(c - bg0, -kpk)
    xr = np.arange(c.size) * float(np.mean(w))
    if tau_guess_ps is None:
        pos = np.clip(roll, 0, None)
        half = xr < P / 2
        tau_guess_ps = float(np.sum(pos[half] * xr[half]) / max(np.sum(pos[half]), 1.0))
        tau_guess_ps = float(np.clip(tau_guess_ps, 2 * np.mean(w), P))
    amp0 = max(float(c[kpk] - bg0), 1.0)
    fit_sig = irf is None and irf_sigma_ps is None
    taus0 = [tau_guess_ps * f for f in ((1.0,), (0.4, 2.0), (0.2, 1.0, 4.0))[n_exp - 1]]
    p0 = []
    lo = []
    hi = []
    for t0g in taus0:
        p0 += [amp0 / n_exp, t0g]
        lo += [0.0, max(0.2 * float(np.min(w)), 1.0)]
        hi += [100 * amp0 + 100, 20 * P]
    sh0 = t_peak if irf is None else 0.0
    p0 += [sh0, bg0]
    lo += [sh0 - P / 2, 0.0]
    hi += [sh0 + P / 2, float(c.max()) + 10]
    if fit_sig:
        p0.append(max(float(np.min(w)), 0.02 * tau_guess_ps))
        lo.append(0.0)
        hi.append(P / 10)

    def model(p):
        bg = p[2 * n_exp + 1]
        sh = p[2 * n_exp]
        out = np.full_like(x, bg)
        for i in range(n_exp):
            a, tau = p[2 * i], p[2 * i + 1]
            if irf is None:
                sg = p[2 * n_exp + 2] if fit_sig else float(irf_sigma_ps)
                out += a * periodic_exp_gauss(x, P, tau, sg, sh)
            else:
                out += a * np.clip(_irf_conv_model(irf_n, binw, P, tau, sh), 0, None)
        return np.maximum(out, 1e-12)

    p, cov, dev, ok = fit_poisson(model, c, p0, lo, hi)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    amps = np.array([p[2 * i] for i in range(n_exp)])
    taus = np.array([p[2 * i + 1] for i in range(n_exp)])
    order = np.argsort(taus)
    tau_se = np.array([se[2 * i + 1] for i in range(n_exp)])

    # error propagation for the mean lifetimes (numerical gradient)
    idx = [j for i in range(n_exp) for j in (2 * i, 2 * i + 1)]

    def means(q):
        return np.array(mean_lifetimes(q[0::2], q[1::2]))

    q = p[idx]
    sub = cov[np.ix_(idx, idx)]
    grad = np.zeros((2, q.size))
    for j in range(q.size):
        h = 1e-6 * max(abs(q[j]), 1.0)
        qp, qm = q.copy(), q.copy()
        qp[j] += h
        qm[j] -= h
        grad[:, j] = (means(qp) - means(qm)) / (2 * h)
    m = means(q)
    mcov = grad @ sub @ grad.T
    bg = float(p[2 * n_exp + 1])
    total = float(np.sum(model(p)))
    signal = total - bg * c.size
    return LifetimeFit(
        taus_ps=taus[order],
        taus_stderr_ps=tau_se[order],
        amplitudes=amps[order],
        tau_amp_ps=float(m[0]),
        tau_amp_stderr_ps=float(np.sqrt(max(mcov[0, 0], 0))),
        tau_int_ps=float(m[1]),
        tau_int_stderr_ps=float(np.sqrt(max(mcov[1, 1], 0))),
        shift_ps=float(p[2 * n_exp]),
        irf_sigma_ps=float(p[2 * n_exp + 2])
        if fit_sig
        else (float(irf_sigma_ps) if irf is None else float("nan")),
        background=bg,
        signal_fraction=float(signal / total) if total > 0 else float("nan"),
        chi2_dof=dev / max(c.size - len(p), 1),
        success=ok,
        n_photons=int(c.sum()),
    )
