"""Block-bootstrap uncertainty of g2(0), and tests that expose non-stationarity (blinking).

The acquisition is cut into B consecutive time blocks; the coincidences started by the
photons of channel 1 in each block (stop photons from the whole stream, so no pair is
lost at block edges) give one histogram row per block. Resampling whole blocks with
replacement keeps the correlations within a block (Künsch, Ann. Stat. 17, 1217 (1989);
Efron & Tibshirani, An Introduction to the Bootstrap (1993), ch. 8), so the bootstrap
standard error includes the extra variance of a non-stationary source, which the Poisson
formula misses. Two chi-square tests make the non-stationarity explicit:

- g2 stationarity: given the block's centre + side counts n_b, the centre count is
  Binomial(n_b, p) with one p for all blocks if g2(0) is constant;
- intensity stationarity: block photon counts are Poisson with mean proportional to the
  block duration if the source does not blink (dispersion index).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sdl.analysis.g2_kernels import cross_correlation_counts

__all__ = ["BootstrapResult", "block_histograms", "block_bootstrap_pulsed", "block_bootstrap_cw",
           "bootstrap_g2"]


@dataclass(frozen=True)
class BootstrapResult:
    """Block-bootstrap estimate of g2(0).

    Attributes:
        value: g2(0) from all data; stderr: bootstrap standard deviation.
        analytic_stderr: the Poisson (or fit) error of `value`, for comparison;
            `stderr / analytic_stderr` well above 1 means non-stationary data.
        block_values: (B,) g2(0) of each block alone (nan where undefined).
        n_blocks, block_duration_s: the blocking.
        g2_chi2_dof, g2_p_value: binomial test that g2(0) is the same in every block
            (pulsed only; nan for CW).
        intensity_dispersion, intensity_p_value: variance/mean of block photon counts
            (1 for a steady Poisson source) and its chi-square p-value.
        n_boot, seed: resamples drawn and generator seed.
    """

    value: float
    stderr: float
    analytic_stderr: float
    block_values: np.ndarray
    n_blocks: int
    block_duration_s: float
    g2_chi2_dof: float
    g2_p_value: float
    intensity_dispersion: float
    intensity_p_value: float
    n_boot: int
    seed: int

    @property
    def stationary(self) -> bool:
        """True unless a stationarity test rejects at the 0.1 % level."""
        ps = [p for p in (self.g2_p_value, self.intensity_p_value) if np.isfinite(p)]
        return all(p > 1e-3 for p in ps)

    def to_json(self) -> dict:
        def f(x):
            x = float(x)
            return x if np.isfinite(x) else None

        return {
            "value": f(self.value),
            "stderr": f(self.stderr),
            "analytic_stderr": f(self.analytic_stderr),
            "n_blocks": self.n_blocks,
            "block_duration_s": f(self.block_duration_s),
            "g2_chi2_dof": f(self.g2_chi2_dof),
            "g2_p_value": f(self.g2_p_value),
            "intensity_dispersion": f(self.intensity_dispersion),
            "intensity_p_value": f(self.intensity_p_value),
            "stationary": self.stationary,
            "block_values": [f(x) for x in self.block_values],
        }


def _blocks(t1: np.ndarray, t2: np.ndarray, n_blocks: int) -> tuple[np.ndarray, float]:
    if n_blocks < 2:
        raise ValueError(f"n_blocks must be >= 2, got {n_blocks}")
    if t1.size == 0 or t2.size == 0:
        raise ValueError("both channels need photons")
    lo = int(min(t1[0], t2[0]))
    hi = int(max(t1[-1], t2[-1])) + 1
    bounds = lo + (np.arange(n_blocks + 1, dtype=np.float64) * (hi - lo) / n_blocks).astype(
        np.int64
    )
    bounds[-1] = hi
    return bounds, (hi - lo) / n_blocks


def block_histograms(
    t1: np.ndarray, t2: np.ndarray, edges_ps: np.ndarray, n_blocks: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coincidence histograms per time block of the start channel.

    Args:
        t1, t2: int64 time tags (ps) of the two detectors; edges_ps: (K+1,) bin edges;
        n_blocks: number of equal-duration blocks B.

    Returns:
        (rows (B, K) int64 counts, n1 (B,) start photons, n2 (B,) stop photons per block,
        bounds (B+1,) block boundaries in ps). rows.sum(0) equals the full histogram.
    """
    bounds, _ = _blocks(t1, t2, n_blocks)
    i = np.searchsorted(t1, bounds)
    j = np.searchsorted(t2, bounds)
    rows = np.zeros((n_blocks, len(edges_ps) - 1), dtype=np.int64)
    for b in range(n_blocks):
        rows[b] = cross_correlation_counts(t1[i[b] : i[b + 1]], t2, edges_ps)
    return rows, np.diff(i), np.diff(j), bounds


def _intensity_test(n1: np.ndarray, n2: np.ndarray) -> tuple[float, float]:
    n = (n1 + n2).astype(np.float64)
    if n.mean() <= 0:
        return float("nan"), float("nan")
    chi2 = float(np.sum((n - n.mean()) ** 2) / n.mean())
    dof = n.size - 1
    return chi2 / dof, float(stats.chi2.sf(chi2, dof))


def block_bootstrap_pulsed(
    t1: np.ndarray,
    t2: np.ndarray,
    period_ps: int,
    *,
    offset_ps: float | None = None,
    n_side: int = 10,
    n_blocks: int = 20,
    n_boot: int = 2000,
    seed: int = 0,
) -> BootstrapResult:
    """Block bootstrap of the pulsed centre/side area ratio.

    Args:
        t1, t2: int64 time tags, ps; period_ps: laser period, ps.
        offset_ps: centre-peak delay (default: `g2.locate_peak_comb`).
        n_side: side peaks per side; n_blocks: time blocks; n_boot: resamples; seed: RNG seed.

    Returns:
        BootstrapResult; analytic_stderr is `g2 sqrt(1/A0 + 1/sum A_k)` (DOMAIN.md §7).
    """
    from sdl.analysis.g2 import locate_peak_comb

    P = int(period_ps)
    if P <= 0:
        raise ValueError("period_ps must be > 0")
    if offset_ps is None:
        offset_ps = locate_peak_comb(t1, t2, P, n_side=n_side).offset_ps
    off = int(round(offset_ps))
    edges = off - P // 2 + P * np.arange(-n_side, n_side + 2, dtype=np.int64)
    rows, n1, n2, bounds = block_histograms(t1, t2, edges, n_blocks)
    a0 = rows[:, n_side].astype(np.float64)
    side = rows.sum(axis=1) - rows[:, n_side]
    ns = 2 * n_side

    def ratio(a, s):
        return np.where(s > 0, a / np.maximum(s, 1) * ns, np.nan)

    A0, S = a0.sum(), float(side.sum())
    value = float(A0 / S * ns) if S > 0 else float("nan")
    analytic = value * np.sqrt(1 / max(A0, 1.0) + 1 / max(S, 1.0))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_blocks, size=(n_boot, n_blocks))
    boot = ratio(a0[idx].sum(axis=1), side[idx].sum(axis=1).astype(np.float64))
    tot = a0 + side
    p_hat = A0 / max(tot.sum(), 1.0)
    ok = tot > 0
    if 0 < p_hat < 1 and ok.sum() > 1:
        chi2 = float(np.sum((a0[ok] - tot[ok] * p_hat) ** 2 / (tot[ok] * p_hat * (1 - p_hat))))
        dof = int(ok.sum()) - 1
        g2_chi, g2_p = chi2 / dof, float(stats.chi2.sf(chi2, dof))
    else:
        g2_chi, g2_p = float("nan"), float("nan")
    disp, disp_p = _intensity_test(n1, n2)
    return BootstrapResult(
        value,
        float(np.nanstd(boot, ddof=1)),
        float(analytic),
        ratio(a0, side.astype(np.float64)),
        n_blocks,
        float(np.diff(bounds).mean()) * 1e-12,
        g2_chi,
        g2_p,
        disp,
        disp_p,
        n_boot,
        seed,
    )


def block_bootstrap_cw(
    t1: np.ndarray,
    t2: np.ndarray,
    edges_ps: np.ndarray,
    *,
    n_blocks: int = 20,
    n_boot: int = 100,
    seed: int = 0,
    jitter_ps: float | None = None,
) -> BootstrapResult:
    """Block bootstrap of the CW antibunching fit (one fit per resample: keep n_boot small).

    The expected flat level of a resample is `sum_b N1_b N2_b dtau / T_b` over its blocks,
    so intensity changes between blocks do not bias the normalisation.

    Args:
        t1, t2: int64 time tags, ps; edges_ps: (K+1,) bins of the fit window;
        n_blocks, n_boot, seed: blocking and resampling.
        jitter_ps: fix the jitter (faster, more stable fits); None fits it.
    """
    from sdl.analysis.g2_fit import fit_cw_antibunching

    rows, n1, n2, bounds = block_histograms(t1, t2, edges_ps, n_blocks)
    tb = np.diff(bounds).astype(np.float64)
    w = n1 * n2 / tb  # expected flat counts per ps of delay, per block

    def fit(sel):
        c = rows[sel].sum(axis=0)
        # fit_cw_antibunching uses n1 n2 / T as the flat level per ps: pass it as n1=1, n2=W, T=1
        return fit_cw_antibunching(c, edges_ps, 1, float(w[sel].sum()), 1.0, jitter_ps=jitter_ps)

    full = fit(np.arange(n_blocks))
    rng = np.random.default_rng(seed)
    boot = np.empty(n_boot)
    for r in range(n_boot):
        boot[r] = fit(rng.integers(0, n_blocks, n_blocks)).g2_zero
    disp, disp_p = _intensity_test(n1, n2)
    return BootstrapResult(
        full.g2_zero,
        float(np.std(boot, ddof=1)),
        full.g2_zero_stderr,
        np.full(n_blocks, np.nan),
        n_blocks,
        float(tb.mean()) * 1e-12,
        float("nan"),
        float("nan"),
        disp,
        disp_p,
        n_boot,
        seed,
    )


def bootstrap_g2(result, t1: np.ndarray, t2: np.ndarray, period_ps: int,
                 n_blocks: int) -> BootstrapResult | None:
    """Block bootstrap of the estimator that produced `result` (a `sdl.analysis.g2.G2Result`):
    the pulsed area ratio or the CW antibunching fit; None for other methods or when the
    blocks cannot be analysed.

    Args:
        t1, t2: int64 time tags, ps, of the two detectors (`g2.detector_streams`).
        period_ps: laser period (pulsed), ps. n_blocks: time blocks (>= 2).
    """
    try:
        if result.method == "pulsed_area_ratio":
            return block_bootstrap_pulsed(t1, t2, period_ps, offset_ps=result.details["delay_ps"],
                                          n_blocks=n_blocks)
        if result.method == "cw_antibunching_fit":
            return block_bootstrap_cw(t1, t2, result.edges_ps, n_blocks=n_blocks, n_boot=30,
                                      jitter_ps=max(float(result.details["jitter_ps"]), 1.0))
    except (ValueError, np.linalg.LinAlgError):
        return None
    return None
