"""Model fits of g2 histograms: CW antibunching and overlapping pulsed peaks.

Both fits are Poisson maximum-likelihood fits of raw coincidence counts (minimising the
Poisson deviance with `scipy.optimize.least_squares` on signed deviance residuals, whose
Gauss-Newton matrix J^T J approximates the Fisher information and gives the covariance).

Models (DOMAIN.md §7):
- CW: `g2(tau) = 1 - (1 - g2(0)) exp(-|tau - tau_d| / tau0)` convolved with a Gaussian
  detector jitter (sigma), times a free amplitude; expected counts
  `mu_k = a * N1 N2 dtau_k / T * g2(tau_k)`.
- Pulsed with overlapping peaks: every peak is the two-sided decay `exp(-|tau - tau_d - m P| / tau)`
  (the correlation of two one-sided exponential decays) convolved with the jitter; the
  centre peak (m = 0) is scaled by g2(0), plus a flat background; g2(0) is then the
  centre/side area ratio because all peaks have the same shape.

Pure functions; nothing here is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

__all__ = [
    "two_sided_exp_jitter",
    "periodic_two_sided_exp",
    "CwFit",
    "PulsedFit",
    "fit_cw_antibunching",
    "fit_pulsed_overlap",
    "poisson_deviance",
    "fit_poisson",
]

_SQRT2 = np.sqrt(2.0)


def two_sided_exp_jitter(x: np.ndarray, tau: float, sigma: float) -> np.ndarray:
    """`exp(-|x|/tau)` convolved with a unit-area Gaussian of standard deviation `sigma`.

    Closed form: `0.5 exp(s^2/(2 tau^2)) [exp(-x/tau) erfc((s/tau - x/s)/sqrt2)
    + exp(x/tau) erfc((s/tau + x/s)/sqrt2)]`, evaluated with `erfcx` where it would
    overflow. Reduces to `exp(-|x|/tau)` for sigma -> 0.

    Args:
        x: delays (any shape), same unit as tau and sigma.
        tau: decay constant, > 0.
        sigma: Gaussian standard deviation, >= 0.
    """
    x = np.asarray(x, dtype=np.float64)
    if sigma <= 1e-9 * tau:
        return np.exp(-np.abs(x) / tau)
    out = np.zeros_like(x)
    for sgn in (1.0, -1.0):
        xs = sgn * x
        u = (sigma / tau - xs / sigma) / _SQRT2
        pos = u >= 0
        # u >= 0: exp(a) erfc(u) with a = u^2 - xs^2/(2 s^2) -> exp(-xs^2/2s^2) erfcx(u)
        term = np.empty_like(x)
        term[pos] = np.exp(-(xs[pos] ** 2) / (2 * sigma**2)) * special.erfcx(u[pos])
        neg = ~pos
        term[neg] = np.exp(sigma**2 / (2 * tau**2) - xs[neg] / tau) * special.erfc(u[neg])
        out += 0.5 * term
    return out


def periodic_two_sided_exp(x: np.ndarray, period: float, tau: float) -> np.ndarray:
    """`sum_m exp(-|x - m P|/tau)` over all integers m = `cosh((P/2 - |x'|)/tau)/sinh(P/(2 tau))`.

    `x'` is x folded into [-P/2, P/2). Used to locate the pulsed peak comb.
    """
    x = np.asarray(x, dtype=np.float64)
    xf = np.mod(x + period / 2, period) - period / 2
    h = period / (2 * tau)
    if h > 300:
        return np.exp(-np.abs(xf) / tau)
    return np.cosh((period / 2 - np.abs(xf)) / tau) / np.sinh(h)


def poisson_deviance(counts: np.ndarray, mu: np.ndarray) -> float:
    """Poisson deviance `2 sum(mu - C + C ln(C/mu))` (chi2-distributed for large counts)."""
    c = np.asarray(counts, dtype=np.float64)
    mu = np.maximum(np.asarray(mu, dtype=np.float64), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(c > 0, c * np.log(c / mu), 0.0)
    return float(2.0 * np.sum(mu - c + t))


def _deviance_residuals(c: np.ndarray, mu: np.ndarray) -> np.ndarray:
    mu = np.maximum(mu, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(c > 0, c * np.log(c / mu), 0.0)
    d = np.maximum(2.0 * (mu - c + t), 0.0)
    return np.sign(c - mu) * np.sqrt(d)


def fit_poisson(model, counts, p0, lo, hi, x_scale=None):
    """Poisson maximum-likelihood fit of `counts` by `model(p)` (expected counts).

    Minimises the Poisson deviance through `least_squares` on signed deviance residuals;
    the covariance is `pinv(J^T J)` (Gauss-Newton approximation of the inverse Fisher
    information at the optimum).

    Args:
        model: callable p -> (K,) expected counts (> 0).
        counts: (K,) observed counts.
        p0, lo, hi: (P,) start values and bounds; x_scale: (P,) typical magnitudes.

    Returns:
        (p, cov, deviance, success).
    """
    c = np.asarray(counts, dtype=np.float64)
    p0 = np.clip(np.asarray(p0, dtype=np.float64), np.asarray(lo) + 1e-12, np.asarray(hi) - 1e-12)
    xs = np.maximum(np.abs(p0), 1.0) if x_scale is None else np.asarray(x_scale, dtype=np.float64)
    res, cov = _fit(
        lambda p: _deviance_residuals(c, model(p)), p0, np.asarray(lo), np.asarray(hi), xs
    )
    return res.x, cov, poisson_deviance(c, model(res.x)), bool(res.success)


def _fit_bounded(resid, p0: list[float], lo: list[float], hi: list[float],
                 jitter0: float | None, jitter_max: float,
                 margin: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """The common end of the CW and pulsed fits: append the Gaussian jitter as the last
    parameter when it is fitted (`jitter0` its start, bounds [0, jitter_max]), clip the
    start `margin` inside the bounds, fit, and return (parameters, standard errors from
    the covariance, success)."""
    if jitter0 is not None:
        p0, lo, hi = [*p0, jitter0], [*lo, 0.0], [*hi, jitter_max]
    start = np.clip(np.array(p0, dtype=np.float64), np.array(lo) + margin, np.array(hi) - margin)
    res, cov = _fit(resid, start, np.array(lo), np.array(hi), np.maximum(np.abs(start), 1.0))
    return res.x, np.sqrt(np.clip(np.diag(cov), 0, None)), bool(res.success)


def _fit(resid, p0, lo, hi, x_scale):
    res = optimize.least_squares(
        resid, p0, bounds=(lo, hi), x_scale=x_scale, method="trf", max_nfev=400
    )
    j = res.jac
    try:
        cov = np.linalg.pinv(j.T @ j)
    except np.linalg.LinAlgError:
        cov = np.full((p0.size, p0.size), np.nan)
    return res, cov


def _shared_fields(p: np.ndarray, se: np.ndarray, counts: np.ndarray, expected: np.ndarray,
                   success: bool, jitter_ps: float) -> dict:
    """The fields both fits fill the same way: parameters 1 (g2(0), with its standard
    error) and 3 (delay, ps), the jitter (fitted or fixed, ps), the Poisson deviance per
    degree of freedom of `counts` against `expected`, and `success`."""
    dof = max(counts.size - p.size, 1)
    return {"g2_zero": float(p[1]), "g2_zero_stderr": float(se[1]), "delay_ps": float(p[3]),
            "jitter_ps": float(jitter_ps), "chi2_dof": poisson_deviance(counts, expected) / dof,
            "success": success}


@dataclass(frozen=True)
class CwFit:
    """Result of a CW antibunching fit.

    Attributes:
        g2_zero, g2_zero_stderr: fitted g2(0) (jitter-deconvolved) and its 1-sigma error.
        tau0_ps, delay_ps, jitter_ps, amplitude: fitted 1/(k_exc+k_decay), cable delay,
            Gaussian jitter sigma, normalisation (1 for a stationary emitter).
        chi2_dof: Poisson deviance per degree of freedom.
        success: optimiser converged.
        stderrs: dict of 1-sigma errors of all parameters.
    """

    g2_zero: float
    g2_zero_stderr: float
    tau0_ps: float
    delay_ps: float
    jitter_ps: float
    amplitude: float
    chi2_dof: float
    success: bool
    stderrs: dict


def fit_cw_antibunching(
    counts: np.ndarray,
    edges_ps: np.ndarray,
    n1: int,
    n2: int,
    duration_ps: float,
    *,
    jitter_ps: float | None = None,
    tau0_guess_ps: float | None = None,
) -> CwFit:
    """Poisson-ML fit of `a [1 - (1 - g2(0)) exp(-|tau - tau_d|/tau0)] ⊗ jitter` to CW counts.

    Args:
        counts: (K,) raw coincidence counts per bin.
        edges_ps: (K+1,) bin edges, ps.
        n1, n2: photons in the two channels.
        duration_ps: acquisition time T, ps.
        jitter_ps: fix the Gaussian jitter sigma (ps); None fits it.
        tau0_guess_ps: starting value of tau0; default from the dip width.

    Returns:
        CwFit. Model: DOMAIN.md §7 (CW antibunching with cable delay and jitter).
    """
    c = np.asarray(counts, dtype=np.float64)
    e = np.asarray(edges_ps, dtype=np.float64)
    x = 0.5 * (e[:-1] + e[1:])
    dtau = np.diff(e)
    norm = n1 * n2 * dtau / float(duration_ps)
    g = c / norm
    # starting values: delay at the smoothed minimum, depth, width
    kern = np.ones(5) / 5.0
    gs = np.convolve(g, kern, mode="same")
    kmin = int(np.argmin(gs[2:-2])) + 2 if gs.size > 6 else int(np.argmin(gs))
    d0 = x[kmin]
    far = np.abs(x - d0) > 0.5 * (x[-1] - x[0]) * 0.5
    a0 = (
        float(np.mean(g[far]))
        if np.any(far) and np.mean(g[far]) > 0
        else max(float(np.mean(g)), 1e-3)
    )
    g00 = float(np.clip(gs[kmin] / a0, 0.0, 0.95))
    if tau0_guess_ps is None:
        half = 1 - 0.5 * (1 - g00)
        above = np.nonzero(gs / a0 > half)[0]
        right = above[above > kmin]
        tau0_guess_ps = (x[right[0]] - d0) / np.log(2) if right.size else (x[-1] - x[0]) / 20
        tau0_guess_ps = float(max(tau0_guess_ps, 2 * dtau.min()))
    fit_jit = jitter_ps is None
    s0 = max(float(dtau.min()), 0.05 * tau0_guess_ps) if fit_jit else float(jitter_ps)
    span = x[-1] - x[0]

    def model(p):
        a, g0, t0, dl, sg = p if fit_jit else (*p, s0)
        return a * norm * (1.0 - (1.0 - g0) * two_sided_exp_jitter(x - dl, t0, sg))

    def resid(p):
        return _deviance_residuals(c, model(p))

    p0 = [a0, g00, tau0_guess_ps, d0]
    lo = [0.0, 0.0, dtau.min() * 0.1, x[0]]
    hi = [10 * a0 + 10, 5.0, span, x[-1]]
    p, se, success = _fit_bounded(resid, p0, lo, hi, s0 if fit_jit else None, span / 4, 1e-12)
    names = ["amplitude", "g2_zero", "tau0_ps", "delay_ps"] + (["jitter_ps"] if fit_jit else [])
    return CwFit(
        **_shared_fields(p, se, c, model(p), success, p[4] if fit_jit else s0),
        tau0_ps=float(p[2]),
        amplitude=float(p[0]),
        stderrs=dict(zip(names, map(float, se), strict=True)),
    )


@dataclass(frozen=True)
class PulsedFit:
    """Result of an overlapping-peak pulsed fit.

    Attributes:
        g2_zero, g2_zero_stderr: centre/side amplitude ratio and its 1-sigma error.
        tau_ps: decay constant of the peaks (the emitter lifetime), ps.
        delay_ps: position of the centre peak, ps.
        jitter_ps: Gaussian jitter sigma, ps.
        side_area: fitted counts under one side peak; background: flat counts per ps.
        chi2_dof: Poisson deviance per degree of freedom.
        success: optimiser converged.
    """

    g2_zero: float
    g2_zero_stderr: float
    tau_ps: float
    delay_ps: float
    jitter_ps: float
    side_area: float
    background: float
    chi2_dof: float
    success: bool


def fit_pulsed_overlap(
    counts: np.ndarray,
    edges_ps: np.ndarray,
    period_ps: float,
    *,
    delay_guess_ps: float = 0.0,
    tau_guess_ps: float | None = None,
    jitter_ps: float | None = None,
) -> PulsedFit:
    """Poisson-ML fit of a comb of overlapping two-sided decays with a scaled centre peak.

    `mu(tau) = dtau * [b + (S / (2 tau_c)) sum_m w_m h(tau - tau_d - m P)]`, with
    `h = exp(-|.|/tau_c) ⊗ jitter`, `w_0 = g2(0)`, `w_m = 1` otherwise (`2 tau_c` is the
    area of `exp(-|x|/tau_c)`, so S is the counts under one side peak). Peaks whose tails
    reach the histogram from outside it are included.

    Args:
        counts: (K,) raw coincidence counts; edges_ps: (K+1,) bin edges, ps.
        period_ps: laser repetition period, ps.
        delay_guess_ps: starting value of the centre-peak position (cable delay).
        tau_guess_ps: starting decay constant; default period / 5.
        jitter_ps: fix the jitter sigma; None fits it.
    """
    c = np.asarray(counts, dtype=np.float64)
    e = np.asarray(edges_ps, dtype=np.float64)
    x = 0.5 * (e[:-1] + e[1:])
    dtau = np.diff(e)
    P = float(period_ps)
    tau_guess_ps = float(tau_guess_ps or P / 5)
    fit_jit = jitter_ps is None
    s0 = max(float(dtau.min()), 0.01 * tau_guess_ps) if fit_jit else float(jitter_ps)

    def model(p):
        S, g0, tc, dl, b, sg = p if fit_jit else (*p, s0)
        reach = 40 * tc + 10 * sg
        m_lo = int(np.floor((x[0] - dl - reach) / P))
        m_hi = int(np.ceil((x[-1] - dl + reach) / P))
        acc = np.zeros_like(x)
        for m in range(m_lo, m_hi + 1):
            acc += (g0 if m == 0 else 1.0) * two_sided_exp_jitter(x - dl - m * P, tc, sg)
        return dtau * (b + S / (2 * tc) * acc)

    def resid(p):
        return _deviance_residuals(c, model(p))

    # starting values: side area from the mean level, background from the minimum
    dens = c / dtau
    b0 = max(float(np.percentile(dens, 2)) * 0.5, 0.0)
    S0 = max((float(np.mean(dens)) - b0) * P, 1.0)
    p0 = [S0, 0.5, tau_guess_ps, float(delay_guess_ps), b0]
    lo = [0.0, 0.0, max(dtau.min() * 0.1, 1.0), delay_guess_ps - P / 2, 0.0]
    hi = [100 * S0 + 100, 5.0, 5 * P, delay_guess_ps + P / 2, 10 * float(dens.max()) + 1.0]
    p, se, success = _fit_bounded(resid, p0, lo, hi, s0 if fit_jit else None, P / 4, 1e-9)
    return PulsedFit(
        **_shared_fields(p, se, c, model(p), success, p[5] if fit_jit else s0),
        tau_ps=float(p[2]),
        side_area=float(p[0]),
        background=float(p[4]),
    )
